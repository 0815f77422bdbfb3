/**
 * The instances' rows: `registerInstance` (an upsert: an instance id may
 * register again), `touchInstance` and `shutdownInstance` (counters and last
 * seen, on the database clock), `instances`.
 *
 * @internal
 */
import type { Fragment } from "@effect/sql/Statement"
import type { JobStore } from "@jobss/core"
import * as Effect from "effect/Effect"
import type { Row } from "../dialect.js"
import * as rows from "../rows.js"
import { int } from "../sqlValues.js"
import { type StoreContext, decodeAll } from "./context.js"

type InstanceCounters = JobStore.InstanceCounters

type InstanceOperations = "registerInstance" | "touchInstance" | "shutdownInstance" | "instances"

/** Every instance column but the key, replaced when an instance registers again. */
const instanceReplaced: ReadonlyArray<string> = [
  "name",
  "workers",
  "jobs",
  "schedules",
  "poll_interval_ms",
  "poll_limit",
  "started_at",
  "last_seen_at",
  "shutdown_at",
  "runs_started",
  "runs_succeeded",
  "runs_rescheduled",
  "runs_timed_out",
  "runs_resurrected",
  "runs_errors"
]

/** The store's operations on instance rows. */
export const make = (ctx: StoreContext): Pick<JobStore.JobStoreShape, InstanceOperations> => {
  const { dialect, sql, now, instancesTable, unit, operation } = ctx

  const registerInstance = (instance: JobStore.InstanceInfo) =>
    unit(
      sql`INSERT INTO ${instancesTable} (id, name, workers, jobs, schedules, poll_interval_ms, poll_limit,
        started_at, last_seen_at, shutdown_at, runs_started, runs_succeeded, runs_rescheduled, runs_timed_out,
        runs_resurrected, runs_errors)
      VALUES (${instance.id}, ${instance.name}, ${int(instance.workers)}, ${JSON.stringify(instance.jobs)},
        ${JSON.stringify(instance.schedules)}, ${int(instance.pollIntervalMs)}, ${int(instance.pollLimit)},
        ${now}, ${now}, NULL, 0, 0, 0, 0, 0, 0)
      ${dialect.onConflictReplace("id", instanceReplaced)}`
    ).pipe(Effect.asVoid, operation("registerInstance"))

  const countersSet = (c: InstanceCounters): Fragment =>
    sql`runs_started = ${int(c.runsStarted)}, runs_succeeded = ${int(c.runsSucceeded)},
      runs_rescheduled = ${int(c.runsRescheduled)}, runs_timed_out = ${int(c.runsTimedOut)},
      runs_resurrected = ${int(c.runsResurrected)}, runs_errors = ${int(c.runsErrors)}, last_seen_at = ${now}`

  const touchInstance = (id: string, counters: InstanceCounters) =>
    // a beat of the heartbeat: on its own connection
    ctx.ownConnection
      .run(unit(sql`UPDATE ${instancesTable} SET ${countersSet(counters)} WHERE id = ${id}`))
      .pipe(Effect.asVoid, operation("touchInstance"))

  const shutdownInstance = (id: string, counters: InstanceCounters) =>
    unit(sql`UPDATE ${instancesTable} SET ${countersSet(counters)}, shutdown_at = ${now} WHERE id = ${id}`).pipe(
      Effect.asVoid,
      operation("shutdownInstance")
    )

  const instances = unit(sql<Row>`SELECT * FROM ${instancesTable} ORDER BY started_at, id`).pipe(
    Effect.flatMap(decodeAll("instances", (row) => `malformed instance ${row["id"]}`, rows.decodeInstance)),
    operation("instances")
  )

  return { registerInstance, touchInstance, shutdownInstance, instances }
}
