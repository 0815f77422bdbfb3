/**
 * The operations of docs/STORE.md on SQL, shared by every dialect. Only what
 * truly differs (the clock expression, the claim, the insert and settlement
 * shapes, conflict clauses, how an UPDATE reports its rows, transient errors,
 * wake-ups) comes from the `Dialect`, implemented in each database's folder.
 *
 * Every comparison with "now" and every time stamp uses the database clock
 * (`dialect.now`) inside the statement itself. Every value is a bound
 * parameter; identifiers come only from the validated table prefix.
 *
 * The operations live in `store/`: `insert.ts`, `claim.ts` (the clock, claim,
 * reap, nextDue), `settle.ts`, `runs.ts` (extend, cancel, get, history,
 * prune, pendingCounts, waiting), `instances.ts`, `leases.ts`, `queues.ts`, and the admin API's
 * `admin.ts` and `adminChanges.ts`, over `context.ts`; `ownConnection.ts` is the heartbeat's connection.
 *
 * @internal
 */
import type { JobStore } from "@jobss/core"
import type { Dialect } from "./dialect.js"
import * as admin from "./store/admin.js"
import * as adminChanges from "./store/adminChanges.js"
import * as claim from "./store/claim.js"
import * as context from "./store/context.js"
import * as insert from "./store/insert.js"
import * as instances from "./store/instances.js"
import * as leases from "./store/leases.js"
import type { OwnConnection } from "./store/ownConnection.js"
import * as queues from "./store/queues.js"
import * as release from "./store/release.js"
import * as runs from "./store/runs.js"
import * as settle from "./store/settle.js"

/** The `JobStoreShape` over a dialect. */
export const make = (dialect: Dialect, ownConnection: OwnConnection): JobStore.JobStoreShape => {
  const ctx = context.make(dialect, ownConnection)
  const settlement = settle.make(ctx)
  return {
    ...insert.make(ctx),
    ...claim.make(ctx),
    ...settlement,
    ...release.make(ctx, settlement.settle),
    ...runs.make(ctx),
    ...instances.make(ctx),
    ...leases.make(ctx),
    admin: { ...admin.make(ctx), ...adminChanges.make(ctx) },
    ...queues.make(ctx),
    wakeups: dialect.wakeups,
    blocking: dialect.blocking
  }
}
