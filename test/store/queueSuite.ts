/**
 * The store conformance cases of flow control, part of `storeSuite`: claim order by priority, runs of
 * queues taken only for the queues a claim names and only within the stored definition (concurrency,
 * per-claimer concurrency, partitions, the rate window), pause and resume, and stored definitions.
 * Two connections play two instances, so on SQL the counts are the database's.
 */
import { randomUUID } from "node:crypto"
import { describe, expect } from "@effect/vitest"
import type { JobStore } from "@jobss/core"
import type { Scope } from "effect"
import { Effect } from "effect"
import { newRun } from "../../packages/core/test/fixtures.js"
import type { StoreHarness } from "./storeSuite.js"

type Test = (name: string, self: () => Effect.Effect<unknown, unknown, Scope.Scope>, timeout?: number) => void
type Store = JobStore.JobStoreShape

const uid = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`

/** A definition with no limits but those given. */
const definition = (name: string, limits: Partial<JobStore.QueueDefinition> = {}): JobStore.QueueDefinition => ({
  name,
  concurrency: null,
  workerConcurrency: null,
  rateLimit: null,
  ratePeriodMs: null,
  partitioned: false,
  ...limits
})

const claim = (store: Store, job: string, queues: ReadonlyArray<string>, limit = 100, instanceId = "claimer") =>
  store.claim({ instanceId, jobs: [job], schedules: [], limit, leaseMs: 60_000, queues })

/** Inserts `count` due runs of `job` with the given fields; returns them in insertion order. */
const insertDue = (store: Store, job: string, count: number, fields: Partial<JobStore.NewRun> = {}) =>
  Effect.gen(function* () {
    const t = yield* store.now
    const runs = Array.from({ length: count }, (_, i) => newRun({ job, runAt: t - 1_000 + i, ...fields }))
    yield* store.insert(runs)
    return runs
  })

const succeed = (store: Store, claimed: ReadonlyArray<JobStore.ClaimedRun>) =>
  store.settle(claimed.map((run) => ({ _tag: "Succeeded" as const, id: run.id, claim: run.claim })))

/** Declares the flow-control cases with the suite's `test` and harness. */
export const queueCases = (
  test: Test,
  make: Effect.Effect<StoreHarness, unknown, Scope.Scope>,
  timeout: number
): void => {
  describe("queues", () => {
    test(
      "claim takes the lowest priority first, then the earliest due, in and out of queues",
      () =>
        Effect.gen(function* () {
          const { store } = yield* make
          const [job, queue] = [uid("Job"), uid("queue")]
          yield* store.registerQueue(definition(queue), "instance")
          const t = yield* store.now
          const late = newRun({ job, runAt: t - 100, priority: 5 })
          const urgent = newRun({ job, runAt: t - 10, priority: -3 })
          const early = newRun({ job, runAt: t - 500, priority: 5 })
          const queued = newRun({ job, runAt: t - 50, priority: 0, queue })
          yield* store.insert([late, urgent, early, queued])
          const first = yield* claim(store, job, [queue], 2)
          expect(first.map((run) => run.id)).toEqual([urgent.id, queued.id])
          const rest = yield* claim(store, job, [queue], 2)
          expect(rest.map((run) => run.id)).toEqual([early.id, late.id])
        }),
      timeout
    )

    test(
      "runs of a queue are claimed only for a claim naming the stored queue; pause holds them, not the others",
      () =>
        Effect.gen(function* () {
          const { connect, store } = yield* make
          const other = yield* connect
          const [job, queue, unstored] = [uid("Job"), uid("queue"), uid("unstored")]
          const [inQueue] = yield* insertDue(store, job, 1, { queue })
          const [inUnstored] = yield* insertDue(store, job, 1, { queue: unstored })
          // not named by the claim: left alone
          expect(yield* claim(store, job, [])).toEqual([])
          // named, but no definition stored (limits unknown): left alone
          expect(yield* claim(store, job, [queue, unstored])).toEqual([])
          yield* store.registerQueue(definition(queue), "instance")
          yield* other.pauseQueue(queue, true)
          const [free] = yield* insertDue(store, job, 1)
          // paused by another connection: the run in no queue is claimed, the queue's waits
          expect((yield* claim(store, job, [queue, unstored])).map((run) => run.id)).toEqual([free!.id])
          expect((yield* store.queues).find((q) => q.name === queue)?.paused).toBe(true)
          yield* other.pauseQueue(queue, false)
          expect((yield* claim(store, job, [queue, unstored])).map((run) => run.id)).toEqual([inQueue!.id])
          expect((yield* store.get(inUnstored!.id))?.status).toBe("pending")
        }),
      timeout
    )

    test(
      "registerQueue returns the row it replaced and keeps the paused flag; pauseQueue stores a row without limits",
      () =>
        Effect.gen(function* () {
          const { store } = yield* make
          const [queue, paused] = [uid("queue"), uid("paused")]
          const first = definition(queue, { concurrency: 5, rateLimit: 100, ratePeriodMs: 60_000 })
          expect(yield* store.registerQueue(first, "a")).toBeUndefined()
          const second = definition(queue, { concurrency: 2, workerConcurrency: 1, partitioned: true })
          expect(yield* store.registerQueue(second, "b")).toMatchObject({ ...first, definedBy: "a", paused: false })
          yield* store.pauseQueue(queue, true)
          yield* store.pauseQueue(paused, true)
          yield* store.registerQueue(second, "c")
          const stored = (yield* store.queues).filter((q) => q.name === queue || q.name === paused)
          expect(stored.map(({ updatedAt: _, ...q }) => q)).toEqual(
            [
              { ...second, definedBy: "c", paused: true },
              { ...definition(paused), definedBy: null, paused: true }
            ].sort((a, b) => (a.name < b.name ? -1 : 1))
          )
        }),
      timeout
    )

    test(
      "concurrency: claims take at most the queue's free slots, across connections; a settlement frees one",
      () =>
        Effect.gen(function* () {
          const { connect, store } = yield* make
          const other = yield* connect
          const [job, queue] = [uid("Job"), uid("queue")]
          yield* store.registerQueue(definition(queue, { concurrency: 3 }), "instance")
          yield* insertDue(store, job, 10, { queue })
          const first = yield* claim(store, job, [queue], 100, "a")
          expect(first).toHaveLength(3)
          expect(yield* claim(other, job, [queue], 100, "b")).toEqual([])
          yield* succeed(store, first.slice(0, 1))
          expect(yield* claim(other, job, [queue], 100, "b")).toHaveLength(1)
          expect(yield* claim(store, job, [queue], 100, "a")).toEqual([])
        }),
      timeout
    )

    test(
      "workerConcurrency: each claimer takes at most its own free slots of the queue, within its concurrency",
      () =>
        Effect.gen(function* () {
          const { connect, store } = yield* make
          const other = yield* connect
          const [job, queue] = [uid("Job"), uid("queue")]
          yield* store.registerQueue(definition(queue, { concurrency: 5, workerConcurrency: 2 }), "instance")
          yield* insertDue(store, job, 10, { queue })
          const a = yield* claim(store, job, [queue], 100, "a")
          expect(a).toHaveLength(2)
          expect(yield* claim(store, job, [queue], 100, "a")).toEqual([])
          expect(yield* claim(other, job, [queue], 100, "b")).toHaveLength(2)
          expect(yield* claim(other, job, [queue], 100, "c")).toHaveLength(1)
          yield* succeed(store, a)
          expect(yield* claim(other, job, [queue], 100, "a")).toHaveLength(2)
        }),
      timeout
    )

    test(
      "concurrency: 4 connections claiming and settling at once never hold more than the limit",
      () =>
        Effect.gen(function* () {
          const { connect, store, waitPast } = yield* make
          const [job, queue] = [uid("Job"), uid("queue")]
          const limit = 3
          yield* store.registerQueue(definition(queue, { concurrency: limit }), "instance")
          yield* insertDue(store, job, 40, { queue })
          const claimers = [store, ...(yield* Effect.forEach([1, 2, 3], () => connect))]
          // runs leave the ledger before their settlement is sent: it holds only runs the store has running
          const held = new Set<string>()
          let most = 0
          let done = 0
          yield* Effect.forEach(
            claimers,
            (claimer, i) =>
              Effect.gen(function* () {
                while (done < 40) {
                  const claimed = yield* claim(claimer, job, [queue], 2, `claimer-${i}`)
                  for (const run of claimed) held.add(run.id)
                  most = Math.max(most, held.size)
                  expect(held.size).toBeLessThanOrEqual(limit)
                  yield* waitPast(claimed.length === 0 ? 2 : 5)
                  for (const run of claimed) held.delete(run.id)
                  yield* succeed(claimer, claimed)
                  done += claimed.length
                }
              }),
            { concurrency: "unbounded", discard: true }
          ).pipe(Effect.timeout("60 seconds"))
          expect(done).toBe(40)
          expect(most).toBe(limit)
        }),
      timeout
    )

    test(
      "partitions: each partition key has its own concurrency, runs without one share a partition",
      () =>
        Effect.gen(function* () {
          const { store } = yield* make
          const [job, queue] = [uid("Job"), uid("queue")]
          yield* store.registerQueue(definition(queue, { concurrency: 2, partitioned: true }), "instance")
          for (const partitionKey of ["a", "b", null]) yield* insertDue(store, job, 4, { queue, partitionKey })
          const claimed = yield* claim(store, job, [queue])
          const byKey = (runs: ReadonlyArray<JobStore.ClaimedRun>) => {
            const counts: Record<string, number> = {}
            for (const run of runs) counts[String(run.partitionKey)] = (counts[String(run.partitionKey)] ?? 0) + 1
            return counts
          }
          expect(byKey(claimed)).toEqual({ a: 2, b: 2, null: 2 })
          expect(yield* claim(store, job, [queue])).toEqual([])
          yield* succeed(
            store,
            claimed.filter((run) => run.partitionKey === "b")
          )
          expect(byKey(yield* claim(store, job, [queue]))).toEqual({ b: 2 })
        }),
      timeout
    )

    test(
      "rate limit: at most `limit` attempts start in any window of `period`, across connections",
      () =>
        Effect.gen(function* () {
          const { connect, store, waitPast } = yield* make
          const other = yield* connect
          const [job, queue] = [uid("Job"), uid("queue")]
          yield* store.registerQueue(definition(queue, { rateLimit: 3, ratePeriodMs: 1_000 }), "instance")
          yield* insertDue(store, job, 10, { queue })
          const first = yield* claim(store, job, [queue], 2, "a")
          expect(first).toHaveLength(2)
          yield* succeed(store, first)
          // settled runs still count: the window counts starts
          expect(yield* claim(other, job, [queue], 100, "b")).toHaveLength(1)
          expect(yield* claim(store, job, [queue], 100, "a")).toEqual([])
          yield* waitPast(1_000)
          expect(yield* claim(other, job, [queue], 100, "b")).toHaveLength(3)
        }),
      timeout
    )

    test(
      "nextDue counts runs in no queue and runs of named queues not yet due (due ones wait on a limit)",
      () =>
        Effect.gen(function* () {
          const { store } = yield* make
          const [job, queue] = [uid("Job"), uid("queue")]
          const t = yield* store.now
          yield* store.insert([newRun({ job, runAt: t - 1_000, queue })])
          expect((yield* store.nextDue([job], [], [queue])).nextRunAt).toBeNull()
          yield* store.insert([newRun({ job, runAt: t + 60_000, queue })])
          expect((yield* store.nextDue([job], [], [queue])).nextRunAt).toBe(t + 60_000)
          expect((yield* store.nextDue([job], [], [])).nextRunAt).toBeNull()
          yield* store.insert([newRun({ job, runAt: t + 30_000 })])
          expect((yield* store.nextDue([job], [], [queue])).nextRunAt).toBe(t + 30_000)
        }),
      timeout
    )

    test(
      "nextDue: a rate-limited queue with due runs and a full window is due when the window's first start leaves it",
      () =>
        Effect.gen(function* () {
          const { store } = yield* make
          const [job, queue] = [uid("Job"), uid("queue")]
          yield* store.registerQueue(definition(queue, { rateLimit: 2, ratePeriodMs: 60_000 }), "a")
          yield* insertDue(store, job, 3, { queue })
          const [first] = yield* claim(store, job, [queue], 1)
          yield* claim(store, job, [queue], 1)
          // the third waits on the window: free when the first start is a period old
          expect(yield* claim(store, job, [queue])).toEqual([])
          expect((yield* store.nextDue([job], [], [queue])).nextRunAt).toBe(first!.startedAt! + 60_000)
          // not for a claimer that does not name the queue, nor once the queue is paused
          expect((yield* store.nextDue([job], [], [])).nextRunAt).toBeNull()
          yield* store.pauseQueue(queue, true)
          expect((yield* store.nextDue([job], [], [queue])).nextRunAt).toBeNull()
        }),
      timeout
    )
  })
}
