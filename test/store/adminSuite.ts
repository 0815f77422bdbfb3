/**
 * Store conformance for the admin operations (`JobStoreShape.admin`), run unchanged against every
 * `JobStore` (memory, SQLite, PostgreSQL, MariaDB) beside `storeSuite.ts`, with its backends.
 * Every test uses its own job, schedule and instance names, so a backend may share a database.
 */
import { randomUUID } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { type JobStore, RunId } from "@jobss/core"
import { Effect } from "effect"
import { newRun, runQuery } from "../../packages/core/test/fixtures.js"
import type { StoreBackend } from "./storeSuite.js"

type Store = JobStore.JobStoreShape
type RunQuery = JobStore.RunQuery

export const uid = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`

export const query = runQuery

/** Every page of a query, followed to its end; fails past `maxPages`. */
const allPages = (store: Store, q: RunQuery, maxPages = 50) =>
  Effect.gen(function* () {
    const pages: Array<ReadonlyArray<string>> = []
    let after: JobStore.RunKey | null = null
    for (let i = 0; i < maxPages; i++) {
      const page: JobStore.RunListing = yield* store.admin.listRuns({ ...q, after })
      pages.push(page.runs.map((run) => run.id))
      if (page.next === null) return pages
      after = page.next
    }
    return yield* Effect.fail(new Error(`more than ${maxPages} pages`))
  })

/** Inserts `n` runs of `job` created 1 ms apart (the last one newest), due now. */
export const insertRuns = (store: Store, job: string, n: number, fields: Partial<JobStore.NewRun> = {}) =>
  Effect.gen(function* () {
    const t = yield* store.now
    const created = Array.from({ length: n }, (_, i) =>
      newRun({ job, runAt: t - 1, createdAt: t - 10_000 + i, args: JSON.stringify({ i }), ...fields })
    )
    yield* store.insert(created)
    return { runs: created, t }
  })

/** Stores a queue `name` without limits. */
export const registerQueue = (store: Store, name: string) =>
  store.registerQueue(
    {
      name,
      concurrency: null,
      workerConcurrency: null,
      rateLimit: null,
      ratePeriodMs: null,
      partitioned: false
    },
    "admin-test"
  )

/** Claims one due run of `job` in `queue` (it is then running). */
export const claimOneOfQueue = (store: Store, job: string, queue: string) =>
  store.claim({ instanceId: "admin-test", jobs: [job], schedules: [], limit: 1, leaseMs: 60_000, queues: [queue] })

/** The ids of a page of `listRuns`, in order. */
export const pageIds = (page: { readonly runs: ReadonlyArray<{ readonly id: string }> }): Array<string> =>
  page.runs.map((run) => run.id)

/** Claims the due runs of `job` and settles each with `settlement`. */
export const claimAndSettle = (
  store: Store,
  job: string,
  settlement: (claimed: JobStore.ClaimedRun) => JobStore.Settlement,
  schedules: ReadonlyArray<string> = []
) =>
  Effect.gen(function* () {
    const claimed = yield* store.claim({
      instanceId: "admin-test",
      jobs: [job],
      schedules,
      limit: 100,
      leaseMs: 60_000
    })
    expect(claimed.length).toBeGreaterThan(0)
    yield* store.settle(claimed.map(settlement))
    return claimed
  })

const newestFirst = (runs: ReadonlyArray<JobStore.NewRun>): Array<string> => [...runs].reverse().map((run) => run.id)

/** Declares `admin conformance: <name>`. */
export const adminSuite = (name: string, backend: StoreBackend): void => {
  const test = backend.clock === "test" ? it.scoped : it.scopedLive
  const timeout = 30_000

  describe(`admin conformance: ${name}`, () => {
    test(
      "listRuns pages newest first by keyset: every run once, in order, whatever the page size",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const job = uid("List")
          const { runs } = yield* insertRuns(store, job, 7)
          // two runs created in the same millisecond are ordered by id, descending
          const twin = newRun({ job, runAt: runs[0]!.runAt, createdAt: runs[6]!.createdAt })
          yield* store.insert([twin])
          const expected = [...newestFirst(runs)]
          expected.splice(twin.id > runs[6]!.id ? 0 : 1, 0, twin.id)
          for (const limit of [1, 3, 8, 50]) {
            const pages = yield* allPages(store, query({ job, limit }))
            expect(pages.flat(), `limit ${limit}`).toEqual(expected)
            expect(pages.every((page) => page.length <= limit)).toBe(true)
            expect(pages.at(-1)!.length).toBeGreaterThan(0)
          }
        }),
      timeout
    )

    test(
      "listRuns filters by status, job, unique name and creation time",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const job = uid("Filter")
          const other = uid("Other")
          const { runs, t } = yield* insertRuns(store, job, 4)
          yield* insertRuns(store, other, 2)
          const named = newRun({ job, runAt: t + 60_000, createdAt: t - 5, uniqueName: uid("name") })
          yield* store.insert([named])
          // the oldest two of `job` fail
          const claimed = yield* store.claim({
            instanceId: "admin-test",
            jobs: [job],
            schedules: [],
            limit: 2,
            leaseMs: 60_000
          })
          yield* store.settle(
            claimed.map((c) => ({ _tag: "Failed" as const, id: c.id, claim: c.claim, error: "boom" }))
          )
          const byAge = (ids: ReadonlyArray<string>) =>
            runs
              .filter((run) => ids.includes(run.id))
              .reverse()
              .map((run) => run.id)
          const failed = claimed.map((c) => c.id)
          const pending = runs.map((run) => run.id).filter((id) => !failed.includes(id))
          const list = (fields: Partial<RunQuery>) =>
            Effect.map(store.admin.listRuns(query(fields)), (page) => page.runs.map((run) => run.id))

          expect(yield* list({ job, statuses: ["failed"] })).toEqual(byAge(failed))
          expect(yield* list({ job, statuses: ["pending"] })).toEqual([named.id, ...byAge(pending)])
          expect(yield* list({ job, statuses: ["pending", "failed"] })).toHaveLength(5)
          expect(yield* list({ job: other })).toHaveLength(2)
          expect(yield* list({ name: named.uniqueName })).toEqual([named.id])
          expect(yield* list({ name: named.uniqueName, statuses: ["failed"] })).toEqual([])
          expect(yield* list({ job, createdAfter: runs[1]!.createdAt!, createdBefore: runs[3]!.createdAt! })).toEqual([
            runs[2]!.id,
            runs[1]!.id
          ])
          const page = yield* store.admin.listRuns(query({ job, statuses: ["failed"] }))
          expect(page.runs[0]).toMatchObject({ status: "failed", error: "boom", job })
        }),
      timeout
    )

    test(
      "listRuns with argsContains searches a window of scanLimit runs and goes on after it",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const job = uid("Args")
          const { runs } = yield* insertRuns(store, job, 10)
          // args are {"i":0} .. {"i":9}; "i\":" is in every one, `"i":3` and `"i":7` in one each
          const hits = yield* allPages(store, query({ job, argsContains: '"i":3', scanLimit: 3, limit: 2 }))
          expect(hits.flat()).toEqual([runs[3]!.id])
          // 10 runs in windows of 3: 4 pages, most of them empty
          expect(hits).toHaveLength(4)
          const many = yield* allPages(store, query({ job, argsContains: '"i"', scanLimit: 4, limit: 3 }))
          expect(many.flat()).toEqual(newestFirst(runs))
          // case-sensitive, and wildcards are text
          expect((yield* store.admin.listRuns(query({ job, argsContains: '"I"' }))).runs).toEqual([])
          expect((yield* store.admin.listRuns(query({ job, argsContains: "%" }))).runs).toEqual([])
          expect((yield* store.admin.listRuns(query({ job, argsContains: "_" }))).runs).toEqual([])
        }),
      timeout
    )

    test(
      "countRuns counts occurrences per job and status",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const job = uid("Count")
          yield* insertRuns(store, job, 3)
          yield* store.claim({ instanceId: "admin-test", jobs: [job], schedules: [], limit: 1, leaseMs: 60_000 })
          const counts = (yield* store.admin.countRuns(100)).filter((count) => count.job === job)
          expect([...counts].sort((a, b) => a.status.localeCompare(b.status))).toEqual([
            { job, status: "pending", count: 2, capped: false },
            { job, status: "running", count: 1, capped: false }
          ])
        }),
      timeout
    )

    test(
      "a job and a queue whose only runs are running are listed and counted, and the queue's pending runs beside them",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const [job, queue] = [uid("OnlyRunning"), uid("onlyRunning")]
          yield* registerQueue(store, queue)
          const { runs } = yield* insertRuns(store, job, 1, { queue })
          const claimed = yield* claimOneOfQueue(store, job, queue)
          expect(claimed.map((run) => run.id)).toEqual([runs[0]!.id])
          expect(pageIds(yield* store.admin.listRuns(query({ job })))).toEqual([runs[0]!.id])
          expect(pageIds(yield* store.admin.listRuns(query({ queue, statuses: ["running"] })))).toEqual([runs[0]!.id])
          expect((yield* store.admin.countRuns(100)).filter((count) => count.job === job)).toEqual([
            { job, status: "running", count: 1, capped: false }
          ])
          expect((yield* store.admin.countQueueRuns(100)).filter((count) => count.queue === queue)).toEqual([
            { queue, status: "running", count: 1, capped: false }
          ])
          // the pending gauge's counts read the running and the pending runs of a queue each on their own
          yield* insertRuns(store, job, 2, { queue })
          expect((yield* store.queueCounts).filter((count) => count.queue === queue)).toEqual([
            { queue, running: 1, pending: 2 }
          ])
        }),
      timeout
    )

    test(
      "countRuns and countQueueRuns count each group exactly up to upTo, and a larger one as upTo, capped",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const [one, two, three] = [uid("CountOne"), uid("CountTwo"), uid("CountThree")]
          const [queueTwo, queueThree] = [uid("countTwo"), uid("countThree")]
          yield* insertRuns(store, one, 1)
          yield* insertRuns(store, two, 2, { queue: queueTwo })
          yield* insertRuns(store, three, 3, { queue: queueThree })
          const jobs = (upTo: number) =>
            Effect.map(store.admin.countRuns(upTo), (counts) =>
              counts.filter((count) => [one, two, three].includes(count.job)).sort((a, b) => a.job.localeCompare(b.job))
            )
          const queues = (upTo: number) =>
            Effect.map(store.admin.countQueueRuns(upTo), (counts) =>
              counts
                .filter((count) => [queueTwo, queueThree].includes(count.queue))
                .sort((a, b) => a.queue.localeCompare(b.queue))
            )
          expect(yield* jobs(2)).toEqual([
            { job: one, status: "pending", count: 1, capped: false },
            { job: three, status: "pending", count: 2, capped: true },
            { job: two, status: "pending", count: 2, capped: false }
          ])
          expect(yield* queues(2)).toEqual([
            { queue: queueThree, status: "pending", count: 2, capped: true },
            { queue: queueTwo, status: "pending", count: 2, capped: false }
          ])
          // at the boundary a group of exactly upTo is exact
          expect((yield* jobs(3)).find((count) => count.job === three)).toEqual({
            job: three,
            status: "pending",
            count: 3,
            capped: false
          })
          expect((yield* queues(3)).find((count) => count.queue === queueThree)).toEqual({
            queue: queueThree,
            status: "pending",
            count: 3,
            capped: false
          })
        }),
      timeout
    )

    test(
      "retry makes a failed or cancelled run pending, due now, with fresh counters and its history kept",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const job = uid("Retry")
          const name = uid("unique")
          const { runs, t } = yield* insertRuns(store, job, 1, { uniqueName: name, retriesErrorCount: 2 })
          const run = runs[0]!
          yield* claimAndSettle(store, job, (c) => ({ _tag: "Failed", id: c.id, claim: c.claim, error: "boom" }))
          const missing = RunId.generate(t)
          const changes = yield* store.admin.retry([run.originId, missing])
          expect(changes).toEqual([
            { originId: run.originId, outcome: "changed", status: "pending" },
            { originId: missing, outcome: "notFound", status: null }
          ])
          const after = (yield* store.get(run.originId))!
          expect(after).toMatchObject({
            status: "pending",
            retriesErrorCount: 0,
            retriesTimeoutCount: 0,
            snoozeCount: 0,
            finishedAt: null,
            runTotalCount: 1
          })
          expect(after.runAt).toBeGreaterThanOrEqual(t)
          // pending again: its unique name is held, a second retry is refused, and it runs again
          expect((yield* store.insert([newRun({ job, runAt: t, uniqueName: name })]))[0]).toEqual({
            originId: run.originId,
            inserted: false
          })
          expect(yield* store.admin.retry([run.originId])).toEqual([
            { originId: run.originId, outcome: "wrongState", status: "pending" }
          ])
          yield* claimAndSettle(store, job, (c) => ({ _tag: "Succeeded", id: c.id, claim: c.claim }))
          expect((yield* store.history(run.originId)).map((attempt) => attempt.outcome)).toEqual([
            "failed",
            "succeeded"
          ])
        }),
      timeout
    )

    test(
      "retry of a cancelled run whose unique name another active run holds is refused (nameTaken)",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const job = uid("Taken")
          const name = uid("unique")
          const { runs, t } = yield* insertRuns(store, job, 1, { uniqueName: name })
          expect(yield* store.cancel(runs[0]!.originId)).toBe("cancelled")
          const holder = newRun({ job, runAt: t + 60_000, uniqueName: name })
          expect((yield* store.insert([holder]))[0]!.inserted).toBe(true)
          expect(yield* store.admin.retry([runs[0]!.originId])).toEqual([
            { originId: runs[0]!.originId, outcome: "nameTaken", status: "cancelled" }
          ])
          expect((yield* store.get(runs[0]!.originId))!.status).toBe("cancelled")
        }),
      timeout
    )

    test(
      "runNow makes a pending run due now; other states are refused",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const job = uid("Now")
          const { runs, t } = yield* insertRuns(store, job, 2, { runAt: 0 })
          const later = newRun({ job, runAt: t + 3_600_000 })
          yield* store.insert([later])
          yield* store.claim({ instanceId: "admin-test", jobs: [job], schedules: [], limit: 2, leaseMs: 60_000 })
          expect((yield* store.nextDue([job], [])).nextRunAt).toBe(later.runAt)
          expect(yield* store.admin.runNow([later.originId, runs[0]!.originId])).toEqual([
            { originId: later.originId, outcome: "changed", status: "pending" },
            { originId: runs[0]!.originId, outcome: "wrongState", status: "running" }
          ])
          const due = yield* store.nextDue([job], [])
          expect(due.nextRunAt).toBeLessThanOrEqual(due.now)
          expect(
            (yield* store.claim({ instanceId: "x", jobs: [job], schedules: [], limit: 5, leaseMs: 1000 })).map(
              (c) => c.id
            )
          ).toEqual([later.id])
        }),
      timeout
    )

    test(
      "remove deletes a finished run with every occurrence and its history; active runs stay",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const job = uid("Delete")
          const schedule = uid("Schedule")
          const { runs, t } = yield* insertRuns(store, job, 1, { schedule })
          const first = runs[0]!
          const next = newRun({ ...first, id: RunId.generate(t), occurrence: 1, runAt: t - 1 })
          yield* claimAndSettle(
            store,
            job,
            (c) => ({ _tag: "Next", id: c.id, claim: c.claim, outcome: "succeeded", error: null, next }),
            [schedule]
          )
          expect(yield* store.admin.remove([first.originId])).toEqual([
            { originId: first.originId, outcome: "wrongState", status: "pending" }
          ])
          yield* claimAndSettle(store, job, (c) => ({ _tag: "Failed", id: c.id, claim: c.claim, error: "no" }), [
            schedule
          ])
          expect(yield* store.history(first.originId)).toHaveLength(2)
          expect(yield* store.admin.remove([first.originId])).toEqual([
            { originId: first.originId, outcome: "changed", status: null }
          ])
          expect(yield* store.get(first.originId)).toBeUndefined()
          expect(yield* store.history(first.originId)).toEqual([])
          expect((yield* store.admin.listRuns(query({ job }))).runs).toEqual([])
          expect(yield* store.admin.remove([first.originId])).toEqual([
            { originId: first.originId, outcome: "notFound", status: null }
          ])
        }),
      timeout
    )

    test(
      "schedules lists active scheduled occurrences by schedule, with the previous occurrence's end",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const job = uid("Sched")
          const a = `${uid("A")}`
          const b = `${a}-b`
          const { runs, t } = yield* insertRuns(store, job, 1, { schedule: a })
          yield* insertRuns(store, job, 1, { schedule: b, runAt: t + 60_000 })
          const next = newRun({ ...runs[0]!, id: RunId.generate(t), occurrence: 1, runAt: t + 60_000 })
          yield* claimAndSettle(
            store,
            job,
            (c) => ({ _tag: "Next", id: c.id, claim: c.claim, outcome: "failed", error: "it broke", next }),
            [a]
          )
          const mine = (list: ReadonlyArray<JobStore.StoredSchedule>) => list.filter((s) => s.run.job === job)
          const all = mine(yield* store.admin.schedules(null, 100))
          expect(all.map((s) => [s.run.schedule, s.run.occurrence])).toEqual([
            [a, 1],
            [b, 0]
          ])
          expect(all[0]!.previous).toMatchObject({ status: "failed", error: "it broke" })
          expect(all[0]!.previous!.finishedAt).toBeGreaterThan(0)
          expect(all[1]!.previous).toBeNull()
          const after = yield* store.admin.schedules({ schedule: a, originId: all[0]!.run.originId }, 100)
          expect(mine(after).map((s) => s.run.schedule)).toEqual([b])
        }),
      timeout
    )

    test(
      "instances are listed last seen first, at most limit",
      () =>
        Effect.gen(function* () {
          const { store, waitPast } = yield* backend.make
          const ids = [uid("i0"), uid("i1"), uid("i2")]
          for (const id of ids) {
            yield* store.registerInstance({
              id,
              name: id,
              workers: 2,
              jobs: ["J"],
              schedules: [],
              pollIntervalMs: 1000,
              pollLimit: 10
            })
            yield* waitPast(2)
          }
          yield* store.touchInstance(ids[0]!, {
            runsStarted: 4,
            runsSucceeded: 3,
            runsRescheduled: 0,
            runsTimedOut: 0,
            runsResurrected: 0,
            runsErrors: 1
          })
          const listed = (yield* store.admin.instances(100)).filter((i) => ids.includes(i.id))
          expect(listed.map((i) => i.id)).toEqual([ids[0], ids[2], ids[1]])
          expect(listed[0]).toMatchObject({ runsStarted: 4, runsErrors: 1, workers: 2, jobs: ["J"] })
          expect(yield* store.admin.instances(1)).toHaveLength(1)
        }),
      timeout
    )

    test(
      "throughput counts attempts per minute and outcome from the run history",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const job = uid("Through")
          const { t } = yield* insertRuns(store, job, 3)
          const claimed = yield* store.claim({
            instanceId: "admin-test",
            jobs: [job],
            schedules: [],
            limit: 3,
            leaseMs: 60_000
          })
          const [a, b, c] = claimed
          yield* store.settle([
            { _tag: "Succeeded", id: a!.id, claim: a!.claim },
            { _tag: "Failed", id: b!.id, claim: b!.claim, error: "x" },
            {
              _tag: "Retry",
              id: c!.id,
              claim: c!.claim,
              runAt: t,
              retriesErrorCount: 1,
              retriesTimeoutCount: 0,
              error: "y"
            }
          ])
          const counts = yield* store.admin.throughput(t - 60_000)
          const total = (outcome: string) =>
            counts.filter((count) => count.outcome === outcome).reduce((sum, count) => sum + count.count, 0)
          expect(total("succeeded")).toBeGreaterThanOrEqual(1)
          expect(total("failed")).toBeGreaterThanOrEqual(1)
          expect(total("retried")).toBeGreaterThanOrEqual(1)
          expect(counts.every((count) => count.minute % 60_000 === 0)).toBe(true)
          expect(yield* store.admin.throughput((yield* store.now) + 120_000)).toEqual([])
        }),
      timeout
    )
  })
}
