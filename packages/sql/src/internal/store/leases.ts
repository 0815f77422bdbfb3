/**
 * Named leases (`acquireLease`, `releaseLease`, `lease`) in the leader table, on the database
 * clock. Acquiring or renewing is one fenced UPDATE, the same SQL on every dialect: it changes the
 * row only when the lease is held by the caller or has expired, and the row count says whether it
 * did. A lease's row is created on this store's first use of its name (an upsert that changes
 * nothing when the row exists, then the UPDATE again), so an idle instance sends one statement per
 * attempt.
 *
 * @internal
 */
import type { JobStore } from "@jobss/core"
import * as Effect from "effect/Effect"
import type { Row } from "../dialect.js"
import * as rows from "../rows.js"
import { int } from "../sqlValues.js"
import { type StoreContext, decodeAll } from "./context.js"

type LeaseOperations = "acquireLease" | "releaseLease" | "lease"

/** The store's operations on named leases. */
export const make = (ctx: StoreContext): Pick<JobStore.JobStoreShape, LeaseOperations> => {
  const { dialect, sql, now, affected, unit, operation } = ctx
  const table = sql(dialect.tables.leader)
  const instances = ctx.instancesTable
  /** Names whose row this store has seen or created. */
  const known = new Set<string>()

  const take = (request: JobStore.LeaseRequest) =>
    affected(
      sql`UPDATE ${table} SET holder = ${request.holder}, lease_until = ${now} + ${int(request.leaseMs)}
      WHERE name = ${request.name} AND (holder = ${request.holder} OR lease_until <= ${now})`.raw
    ).pipe(Effect.map((changed) => changed > 0))

  const create = (name: string) =>
    unit(
      sql`INSERT INTO ${table} (name, holder, lease_until) VALUES (${name}, '', 0)
      ${dialect.onConflictReplace("name", ["name"])}`
    ).pipe(Effect.tap(() => known.add(name)))

  const acquireLease = (request: JobStore.LeaseRequest) =>
    take(request).pipe(
      Effect.flatMap((held) =>
        held || known.has(request.name) ? Effect.succeed(held) : Effect.zipRight(create(request.name), take(request))
      ),
      Effect.tap(() => known.add(request.name)),
      operation("acquireLease")
    )

  const releaseLease = (name: string, holder: string) =>
    unit(
      sql`UPDATE ${table} SET lease_until = ${now}
      WHERE name = ${name} AND holder = ${holder} AND lease_until > ${now}`
    ).pipe(Effect.asVoid, operation("releaseLease"))

  const lease = (name: string) =>
    unit(
      sql<Row>`SELECT l.name, l.holder, l.lease_until, ${now} AS now,
        COALESCE(i.jobs, '[]') AS jobs, COALESCE(i.schedules, '[]') AS schedules
      FROM ${table} l LEFT JOIN ${instances} i ON i.id = l.holder WHERE l.name = ${name}`
    ).pipe(
      Effect.flatMap(decodeAll("lease", (row) => `malformed lease ${row["name"]}`, rows.decodeLease)),
      Effect.map((found) => found[0]),
      operation("lease")
    )

  return { acquireLease, releaseLease, lease }
}
