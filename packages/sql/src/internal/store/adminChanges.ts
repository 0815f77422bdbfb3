/**
 * The admin changes (`JobStoreShape.admin`): `retry`, `runNow`, `remove`. Each reads the latest
 * occurrence of the runs asked for (by `runs_origin`), then changes those in the right state with
 * one statement per chunk whose WHERE repeats the state, so a run that moved in between is left
 * alone and reported as it is. A retry's unique name is enforced by the unique index; runs whose
 * name another active run holds are reported `nameTaken` and left alone.
 *
 * @internal
 */
import type { Fragment } from "@effect/sql/Statement"
import { type JobStore, JobsSError } from "@jobss/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { Row } from "../dialect.js"
import * as rows from "../rows.js"
import { inList } from "../sqlValues.js"
import { type StoreContext, chunksOf, listChunk } from "./context.js"

type Admin = JobStore.JobStoreAdmin
type RunChange = JobStore.RunChange
type Latest = Either.Either.Right<ReturnType<typeof rows.decodeLatest>>

/** The admin changes of a store. */
export const make = (ctx: StoreContext): Pick<Admin, "retry" | "runNow" | "remove"> => {
  const { dialect, sql, now, runs, historyTable, unit, operation } = ctx

  /** The latest occurrence of each run found, by `RunId`. */
  const latest = (originIds: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const found = new Map<string, Latest>()
      for (const chunk of chunksOf(originIds, listChunk)) {
        const latestRows = yield* unit(
          sql<Row>`SELECT r.origin_id, r.id, r.status, r.unique_name FROM ${runs} r
            JOIN (SELECT origin_id, MAX(occurrence) AS occurrence FROM ${runs} WHERE ${inList(sql, "origin_id", chunk)}
              GROUP BY origin_id) m ON r.origin_id = m.origin_id AND r.occurrence = m.occurrence`
        )
        for (const row of latestRows) {
          const decoded = rows.decodeLatest(row)
          if (Either.isLeft(decoded)) {
            return yield* new JobsSError.JobStoreError({ message: `SqlStore admin change failed: ${decoded.left}` })
          }
          found.set(decoded.right.originId, decoded.right)
        }
      }
      return found
    })

  /** The unique names among `names` that an active run holds. */
  const heldNames = (names: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const held = new Set<string>()
      for (const chunk of chunksOf(names, listChunk)) {
        for (const row of yield* unit(
          sql<Row>`SELECT unique_key FROM ${runs} WHERE ${inList(sql, "unique_key", chunk)}`
        )) {
          const key = rows.textColumn(row, "unique_key")
          if (key !== undefined) held.add(key)
        }
      }
      return held
    })

  /**
   * Reports for `originIds`: `changed` for those in `done` (with `after` as their status), else the
   * latest occurrence's status as read (`wrongState`, or `refused`'s outcome), `notFound` when none.
   */
  const report = (
    originIds: ReadonlyArray<string>,
    found: ReadonlyMap<string, Latest>,
    done: ReadonlySet<string>,
    after: JobStore.RunStatus | null,
    refused: ReadonlyMap<string, RunChange["outcome"]> = new Map()
  ): ReadonlyArray<RunChange> =>
    originIds.map((originId): RunChange => {
      const run = found.get(originId)
      if (run === undefined) return { originId, outcome: "notFound", status: null }
      if (done.has(originId)) return { originId, outcome: "changed", status: after }
      return { originId, outcome: refused.get(originId) ?? "wrongState", status: run.status }
    })

  /** Updates the rows `ids` that still satisfy `state` with `set`; the `RunId`s of those it changed. */
  const update = (ids: ReadonlyArray<string>, state: string, set: Fragment) =>
    Effect.gen(function* () {
      const done = new Set<string>()
      for (const chunk of chunksOf(ids, listChunk)) {
        const changed = yield* unit(
          dialect.updateReturning({
            where: sql`${inList(sql, "id", chunk)} AND ${sql.literal(state)}`,
            set,
            returning: ["origin_id"]
          })
        )
        for (const row of changed) {
          const originId = rows.textColumn(row, "origin_id")
          if (originId !== undefined) done.add(originId)
        }
      }
      return done
    })

  const retry: Admin["retry"] = (originIds) =>
    Effect.gen(function* () {
      const found = yield* latest(originIds)
      const ended = [...found.values()].filter((run) => run.status === "failed" || run.status === "cancelled")
      const held = yield* heldNames(ended.flatMap((run) => (run.uniqueName === null ? [] : [run.uniqueName])))
      const refused = new Map<string, RunChange["outcome"]>()
      const retried = ended.filter((run) => {
        const taken = run.uniqueName !== null && held.has(run.uniqueName)
        if (taken) refused.set(run.originId, "nameTaken")
        return !taken
      })
      const done = yield* update(
        retried.map((run) => run.id),
        "status IN ('failed', 'cancelled')",
        sql`status = 'pending', run_at = ${now}, retries_error_count = 0, retries_timeout_count = 0,
          snooze_count = 0, finished_at = NULL, cancel_requested = 0, timeout_at = NULL, claim = NULL,
          lease_until = NULL, unique_key = unique_name`
      )
      return report(originIds, found, done, "pending", refused)
    }).pipe(operation("retry"))

  const runNow: Admin["runNow"] = (originIds) =>
    Effect.gen(function* () {
      const found = yield* latest(originIds)
      const pending = [...found.values()].filter((run) => run.status === "pending")
      const done = yield* update(
        pending.map((run) => run.id),
        "status = 'pending'",
        sql`run_at = CASE WHEN run_at > ${now} THEN ${now} ELSE run_at END`
      )
      return report(originIds, found, done, "pending")
    }).pipe(operation("runNow"))

  const remove: Admin["remove"] = (originIds) =>
    Effect.gen(function* () {
      const found = yield* latest(originIds)
      const ended = [...found.values()]
        .filter((run) => run.status !== "pending" && run.status !== "running")
        .map((run) => run.originId)
      const done = new Set<string>()
      for (const chunk of chunksOf(ended, listChunk)) {
        yield* unit(
          dialect.transaction(
            Effect.gen(function* () {
              // an occurrence that became active in between stays, with its chain's history
              const active = yield* sql<Row>`SELECT origin_id FROM ${runs} WHERE ${inList(sql, "origin_id", chunk)}
                AND status IN ('pending', 'running')`
              const stay = new Set(active.map((row) => rows.textColumn(row, "origin_id")))
              const gone = chunk.filter((originId) => !stay.has(originId))
              if (gone.length === 0) return
              yield* sql`DELETE FROM ${runs} WHERE ${inList(sql, "origin_id", gone)}`
              yield* sql`DELETE FROM ${historyTable} WHERE ${inList(sql, "origin_id", gone)}`
              for (const originId of gone) done.add(originId)
            })
          )
        )
      }
      return report(originIds, found, done, null)
    }).pipe(operation("remove"))

  return { retry, runNow, remove }
}
