import { randomUUID } from "node:crypto"
/**
 * The store conformance suite: every point of docs/STORE.md, run unchanged against every
 * `JobStore` (memory, SQLite, PostgreSQL, MariaDB).
 *
 * ```ts
 * storeSuite("memory", {
 *   clock: "test",                       // tests run with TestClock (`it.scoped`)
 *   capabilities: { wakeups: true, blocking: true },
 *   make: Effect.map(JobStore.makeMemory, (store) => ({
 *     store,
 *     connect: Effect.succeed(store),    // "another connection" on the same data
 *     waitPast: (ms) => TestClock.adjust(ms + 1)
 *   }))
 * })
 * ```
 *
 * Every test uses its own job, schedule, unique and instance names, so a backend may share one
 * database between tests. Time passes only through `waitPast` (TestClock on memory, a real sleep on
 * SQL); every comparison with "now" uses `store.now`. Waits for something that should happen are
 * bounded on the live clock, so a broken store fails the test instead of hanging it.
 */
import { describe, expect, it } from "@effect/vitest"
import { JobStore, RunId } from "@jobss/core"
import { Cause, Deferred, Effect, Exit, Fiber, Option, Runtime, type Scope, Stream, TestServices } from "effect"
import { newRun } from "../../packages/core/test/fixtures.js"
import { leaseCases } from "./leaseSuite.js"
import { queueCases } from "./queueSuite.js"

type Store = JobStore.JobStoreShape
type NewRun = JobStore.NewRun
type StoredRun = JobStore.StoredRun
type ClaimedRun = JobStore.ClaimedRun
type Settlement = JobStore.Settlement

/** What a backend gives each test. */
export interface StoreHarness {
  /** The store under test. */
  readonly store: Store
  /**
   * Another store on the SAME database with its own connections (for SQL: a new client and pool),
   * closed with the test's scope. The memory store returns itself.
   */
  readonly connect: Effect.Effect<Store, unknown, Scope.Scope>
  /** Lets more than `ms` milliseconds pass on the store's clock (memory: `TestClock.adjust`; SQL: a sleep). */
  readonly waitPast: (ms: number) => Effect.Effect<void>
}

/** A backend under test. */
export interface StoreBackend {
  /** `"test"`: tests run with `TestClock` (`it.scoped`); `"live"`: with the real clock (`it.scopedLive`). */
  readonly clock: "test" | "live"
  /** What the backend supports beyond the common contract. */
  readonly capabilities: {
    /** `wakeups` emits when another connection inserts a run (memory, PostgreSQL LISTEN/NOTIFY). */
    readonly wakeups: boolean
    /** Each call runs to its end on the JavaScript thread, so the store declares `blocking` (memory, SQLite). */
    readonly blocking: boolean
  }
  /** A fresh harness for one test, scoped to it. */
  readonly make: Effect.Effect<StoreHarness, unknown, Scope.Scope>
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A name no other test uses (tests may share one database). */
const uid = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`

/** The next occurrence of `run` (as a `Next` settlement carries it). */
const nextOf = (run: NewRun, fields: Partial<NewRun> & Pick<NewRun, "runAt">): NewRun =>
  newRun({
    ...run,
    id: RunId.generate(Date.now()),
    occurrence: run.occurrence + 1,
    runTotalCount: run.runTotalCount + 1,
    ...fields
  })

const insertOne = (store: Store, run: NewRun): Effect.Effect<JobStore.InsertResult, unknown> =>
  Effect.map(store.insert([run]), (results) => {
    expect(results).toHaveLength(1)
    return results[0]!
  })

interface ClaimOptions {
  readonly instanceId?: string
  readonly schedules?: ReadonlyArray<string>
  readonly limit?: number
  readonly leaseMs?: number
  /** Report the claimed attempts started (the heartbeat's `extend`), as a worker that dispatched them would. */
  readonly started?: boolean
}

/** Reports the claimed runs' attempts started, with a lease of `leaseMs`; the runs as stored now. */
const startAll = (
  store: Store,
  instanceId: string,
  claimed: ReadonlyArray<ClaimedRun>,
  leaseMs: number
): Effect.Effect<ReadonlyArray<ClaimedRun>, unknown> =>
  Effect.gen(function* () {
    const claims = claimed.map((run) => run.claim)
    expect(yield* store.extend(instanceId, claims, leaseMs, claims)).toHaveLength(claimed.length)
    return yield* Effect.forEach(claimed, (run) =>
      Effect.map(getRun(store, run.originId), (stored) => ({ ...stored, claim: run.claim }))
    )
  })

const claimJob = (
  store: Store,
  job: string,
  options: ClaimOptions = {}
): Effect.Effect<ReadonlyArray<ClaimedRun>, unknown> => {
  const instanceId = options.instanceId ?? "claimer"
  const leaseMs = options.leaseMs ?? 60_000
  const claim = store.claim({
    instanceId,
    jobs: [job],
    schedules: options.schedules ?? [],
    limit: options.limit ?? 100,
    leaseMs
  })
  return options.started === true
    ? Effect.flatMap(claim, (claimed) => startAll(store, instanceId, claimed, leaseMs))
    : claim
}

/** Claims exactly the run with this id (the only due run of its job). */
const claimOnly = (store: Store, run: NewRun, options: ClaimOptions = {}): Effect.Effect<ClaimedRun, unknown> =>
  Effect.map(claimJob(store, run.job, options), (claimed) => {
    expect(claimed.map((c) => c.id)).toEqual([run.id])
    return claimed[0]!
  })

const settleOne = (store: Store, settlement: Settlement): Effect.Effect<boolean, unknown> =>
  Effect.map(store.settle([settlement]), (results) => {
    expect(results).toHaveLength(1)
    return results[0]!
  })

const getRun = (store: Store, originId: string): Effect.Effect<StoredRun, unknown> =>
  Effect.map(store.get(originId), (run) => {
    expect(run, `run ${originId} exists`).toBeDefined()
    return run!
  })

const storedKeys = [
  "id",
  "originId",
  "occurrence",
  "job",
  "args",
  "uniqueName",
  "schedule",
  "status",
  "runAt",
  "runTotalCount",
  "runSuccessCount",
  "runSuccessLimit",
  "runTimeoutMs",
  "retriesErrorCount",
  "retriesErrorLimit",
  "retriesTimeoutCount",
  "retriesTimeoutLimit",
  "createdBy",
  "createdAt",
  "startedAt",
  "startedBy",
  "timeoutAt",
  "leaseUntil",
  "cancelRequested",
  "error",
  "finishedAt",
  "traceContext",
  "result",
  "snoozeCount",
  "dispatchedAt",
  "queue",
  "priority",
  "partitionKey"
] as const satisfies ReadonlyArray<keyof StoredRun>

/** Exactly the `StoredRun` fields (a store may return more). */
const fieldsOf = (run: StoredRun): Record<string, unknown> =>
  Object.fromEntries(storedKeys.map((key) => [key, run[key]]))

/** The fields a freshly inserted run has besides its `NewRun` ones. */
const pendingFields = {
  status: "pending",
  startedAt: null,
  startedBy: null,
  timeoutAt: null,
  leaseUntil: null,
  cancelRequested: false,
  error: null,
  finishedAt: null,
  snoozeCount: 0,
  dispatchedAt: null
} as const

const sortedIds = (runs: ReadonlyArray<{ readonly id: string }>): Array<string> => runs.map((run) => run.id).sort()

const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Fails when `self` has not finished within `ms` of real time (also under TestClock). */
const within =
  (ms: number, what: string) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | Error, R> =>
    Effect.raceFirst(
      self,
      TestServices.provideLive(Effect.sleep(ms)).pipe(
        Effect.zipRight(Effect.fail(new Error(`${what}: not done within ${ms} ms`)))
      )
    )

/**
 * Repeats `take` until it returns nothing; returns everything taken. Fails once more than
 * `atMost` items came back (a store handing rows out again would otherwise loop forever).
 */
const drain = <A>(take: Effect.Effect<ReadonlyArray<A>, unknown>, atMost: number): Effect.Effect<Array<A>, unknown> =>
  Effect.gen(function* () {
    const all: Array<A> = []
    while (true) {
      const taken = yield* take
      if (taken.length === 0) return all
      all.push(...taken)
      if (all.length > atMost)
        return yield* Effect.fail(new Error(`took ${all.length} items, expected at most ${atMost}`))
    }
  })

const counters = (n: number): JobStore.InstanceCounters => ({
  runsStarted: n,
  runsSucceeded: n + 1,
  runsRescheduled: n + 2,
  runsTimedOut: n + 3,
  runsResurrected: n + 4,
  runsErrors: n + 5
})

const zeroCounters: JobStore.InstanceCounters = {
  runsStarted: 0,
  runsSucceeded: 0,
  runsRescheduled: 0,
  runsTimedOut: 0,
  runsResurrected: 0,
  runsErrors: 0
}

// ---------------------------------------------------------------------------------------------
// The suite

/** Declares `store conformance: <name>` with every test of the contract. */
export const storeSuite = (name: string, backend: StoreBackend): void => {
  const test = backend.clock === "test" ? it.scoped : it.scopedLive
  const timeout = 30_000

  describe(`store conformance: ${name}`, () => {
    describe("insert and get", () => {
      test(
        "round-trips every field",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const run = newRun({
              job: uid("Job"),
              args: JSON.stringify({ name: "Zoë ✓ 日本", n: 1.5, nested: { a: [1, null, "x"] }, quote: 'it\'s "q"' }),
              uniqueName: uid("unique"),
              schedule: uid("Schedule"),
              runAt: t + 12_345,
              runTotalCount: 3,
              runSuccessCount: 2,
              runSuccessLimit: 7,
              runTimeoutMs: 45_000,
              retriesErrorCount: 1,
              retriesErrorLimit: -1,
              retriesTimeoutCount: 2,
              retriesTimeoutLimit: 5,
              createdBy: uid("creator"),
              createdAt: t - 99_999,
              traceContext: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
              queue: uid("queue"),
              priority: -2_147_483_648,
              partitionKey: "customer:Zoë ✓"
            })
            expect(yield* store.insert([run])).toEqual([{ originId: run.id, inserted: true }])
            const stored = yield* getRun(store, run.id)
            expect(fieldsOf(stored)).toEqual({ ...run, ...pendingFields })
          }),
        timeout
      )

      test(
        "createdAt null is stamped with the store's clock",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const before = yield* store.now
            const run = newRun({ job: uid("Job"), runAt: before, createdAt: null })
            yield* insertOne(store, run)
            const after = yield* store.now
            const stored = yield* getRun(store, run.id)
            expect(stored.createdAt).toBeGreaterThanOrEqual(before)
            expect(stored.createdAt).toBeLessThanOrEqual(after)
          }),
        timeout
      )

      test(
        "one result per input, in order; get of an unknown id is undefined",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const runs = [3, 1, 2].map((n) => newRun({ job, runAt: t + n }))
            expect(yield* store.insert(runs)).toEqual(runs.map((run) => ({ originId: run.id, inserted: true })))
            expect(yield* store.insert([])).toEqual([])
            for (const run of runs) expect((yield* getRun(store, run.id)).runAt).toBe(run.runAt)
            expect(yield* store.get(RunId.generate(Date.now()))).toBeUndefined()
          }),
        timeout
      )

      test(
        "get returns the occurrence with the highest occurrence number",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const first = newRun({ job: uid("Job"), runAt: t })
            const third = nextOf(first, { runAt: t + 2, occurrence: 2 })
            const second = nextOf(first, { runAt: t + 1, occurrence: 1 })
            yield* store.insert([first, third, second])
            const latest = yield* getRun(store, first.id)
            expect(latest.id).toBe(third.id)
            expect(latest.occurrence).toBe(2)
          }),
        timeout
      )
    })

    describe("uniqueness", () => {
      test(
        "an active unique name (pending, running, retried) yields the holder's id and inserts nothing",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const name = uid("unique")
            const holder = newRun({ job: uid("Job"), runAt: t - 1_000, uniqueName: name })
            expect(yield* insertOne(store, holder)).toEqual({ originId: holder.id, inserted: true })

            const tryInsert = Effect.gen(function* () {
              const other = newRun({ job: uid("Other"), runAt: t, uniqueName: name })
              expect(yield* insertOne(store, other)).toEqual({ originId: holder.id, inserted: false })
              expect(yield* store.get(other.id)).toBeUndefined()
            })
            yield* tryInsert // pending
            const claimed = yield* claimOnly(store, holder)
            yield* tryInsert // running
            const retry: Settlement = {
              _tag: "Retry",
              id: holder.id,
              claim: claimed.claim,
              runAt: t - 1_000,
              retriesErrorCount: 1,
              retriesTimeoutCount: 0,
              error: "boom"
            }
            expect(yield* settleOne(store, retry)).toBe(true)
            yield* tryInsert // pending again after a retry
            const again = yield* claimOnly(store, holder)
            expect(yield* settleOne(store, { _tag: "Released", id: holder.id, claim: again.claim })).toBe(true)
            yield* tryInsert // pending again after a release
          }),
        timeout
      )

      test(
        "duplicates inside one insert batch: the first wins, the others get its id",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const name = uid("unique")
            const a = newRun({ job, runAt: t, uniqueName: name })
            const plain = newRun({ job, runAt: t })
            const b = newRun({ job, runAt: t, uniqueName: name })
            const c = newRun({ job, runAt: t, uniqueName: name })
            expect(yield* store.insert([a, plain, b, c])).toEqual([
              { originId: a.id, inserted: true },
              { originId: plain.id, inserted: true },
              { originId: a.id, inserted: false },
              { originId: a.id, inserted: false }
            ])
            expect(yield* store.get(b.id)).toBeUndefined()
            expect(yield* store.get(c.id)).toBeUndefined()
            expect(sortedIds(yield* claimJob(store, job))).toEqual([a.id, plain.id].sort())
          }),
        timeout
      )

      test(
        "an insert of a run whose id is taken fails naming the id and changes nothing (with a unique name or without)",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const first = newRun({ job, runAt: t })
            yield* store.insert([first])
            for (const uniqueName of [null, uid("unique")]) {
              const again = newRun({ job, runAt: t + 60_000, uniqueName, id: first.id })
              const other = newRun({ job, runAt: t })
              const error = yield* Effect.flip(store.insert([other, again]))
              expect(error).toMatchObject({ _tag: "JobStoreError" })
              expect(error.message).toContain(`duplicate run id ${first.id}`)
              // all or nothing: the other run of the batch is not inserted either
              expect(yield* store.get(other.id)).toBeUndefined()
            }
            const twice = newRun({ job, runAt: t })
            expect((yield* Effect.flip(store.insert([twice, twice]))).message).toContain(`duplicate run id ${twice.id}`)
            expect(yield* store.get(twice.id)).toBeUndefined()
            expect(yield* store.get(first.id)).toMatchObject({ runAt: t, uniqueName: null, status: "pending" })
          }),
        timeout
      )

      test(
        "20 concurrent inserts of one unique name from 5 connections leave exactly one active run",
        () =>
          Effect.gen(function* () {
            const { store, connect } = yield* backend.make
            const connections = yield* Effect.all(Array.from({ length: 5 }, () => connect))
            yield* Effect.forEach(connections, (connection) => connection.now) // open the connections
            const t = yield* store.now
            const job = uid("Job")
            const name = uid("unique")
            const attempts = connections.flatMap((connection) =>
              Array.from({ length: 4 }, () => ({ connection, run: newRun({ job, runAt: t, uniqueName: name }) }))
            )
            const results = yield* Effect.forEach(attempts, ({ connection, run }) => insertOne(connection, run), {
              concurrency: "unbounded"
            })
            const winners = attempts.filter((_, i) => results[i]!.inserted)
            expect(winners).toHaveLength(1)
            const winner = winners[0]!.run
            expect(results.map((result) => result.originId)).toEqual(attempts.map(() => winner.id))
            for (const { run } of attempts) {
              if (run.id !== winner.id) expect(yield* store.get(run.id)).toBeUndefined()
            }
            expect(sortedIds(yield* claimJob(store, job))).toEqual([winner.id])
          }),
        timeout
      )

      for (const ending of ["Succeeded", "Failed", "Cancelled", "cancel()"] as const) {
        test(
          `the name is free again once the run ends (${ending})`,
          () =>
            Effect.gen(function* () {
              const { store } = yield* backend.make
              const t = yield* store.now
              const name = uid("unique")
              const first = newRun({ job: uid("Job"), runAt: t, uniqueName: name })
              yield* insertOne(store, first)
              if (ending === "cancel()") {
                expect(yield* store.cancel(first.id)).toBe("cancelled")
              } else {
                const { claim } = yield* claimOnly(store, first)
                const settlement: Settlement =
                  ending === "Failed"
                    ? { _tag: "Failed", id: first.id, claim, error: "bad" }
                    : { _tag: ending, id: first.id, claim }
                expect(yield* settleOne(store, settlement)).toBe(true)
              }
              const second = newRun({ job: first.job, runAt: t, uniqueName: name })
              expect(yield* insertOne(store, second)).toEqual({ originId: second.id, inserted: true })
              const third = newRun({ job: first.job, runAt: t, uniqueName: name })
              expect(yield* insertOne(store, third)).toEqual({ originId: second.id, inserted: false })
            }),
          timeout
        )
      }

      test(
        "the name stays taken across Next: the next occurrence holds it, then frees it when it ends",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const name = uid("unique")
            const schedule = uid("Schedule")
            const first = newRun({ job: uid("Job"), runAt: t, uniqueName: name, schedule })
            yield* insertOne(store, first)
            const { claim } = yield* claimOnly(store, first, { schedules: [schedule] })
            const next = nextOf(first, { runAt: t })
            const settlement: Settlement = {
              _tag: "Next",
              id: first.id,
              claim,
              outcome: "succeeded",
              error: null,
              next
            }
            expect(yield* settleOne(store, settlement)).toBe(true)
            const other = newRun({ job: first.job, runAt: t, uniqueName: name })
            expect(yield* insertOne(store, other)).toEqual({ originId: first.id, inserted: false })
            expect(yield* store.get(other.id)).toBeUndefined()

            const second = yield* claimOnly(store, next, { schedules: [schedule] })
            expect(yield* settleOne(store, { _tag: "Succeeded", id: next.id, claim: second.claim })).toBe(true)
            expect(yield* insertOne(store, other)).toEqual({ originId: other.id, inserted: true })
          }),
        timeout
      )
    })

    describe("claim", () => {
      test(
        "claims only due pending runs of the listed jobs",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const otherJob = uid("Other")
            const due = newRun({ job, runAt: t - 1_000 })
            const dueNow = newRun({ job, runAt: t })
            const future = newRun({ job, runAt: t + 60_000 })
            const otherDue = newRun({ job: otherJob, runAt: t - 1_000 })
            yield* store.insert([due, dueNow, future, otherDue])
            expect(sortedIds(yield* claimJob(store, job))).toEqual([due.id, dueNow.id].sort())
            expect(yield* claimJob(store, job)).toEqual([]) // running rows are not claimed again
            expect((yield* getRun(store, future.id)).status).toBe("pending")
            expect((yield* getRun(store, otherDue.id)).status).toBe("pending")
            expect(
              yield* store.claim({ instanceId: "i", jobs: [], schedules: [], limit: 100, leaseMs: 60_000 })
            ).toEqual([])
            expect(sortedIds(yield* claimJob(store, otherJob))).toEqual([otherDue.id])
          }),
        timeout
      )

      test(
        "claims scheduled runs only for the listed schedules",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const s1 = uid("S1")
            const s2 = uid("S2")
            const plain = newRun({ job, runAt: t - 10 })
            const onS1 = newRun({ job, runAt: t - 10, schedule: s1 })
            const onS2 = newRun({ job, runAt: t - 10, schedule: s2 })
            yield* store.insert([plain, onS1, onS2])
            expect(sortedIds(yield* claimJob(store, job))).toEqual([plain.id])
            expect(sortedIds(yield* claimJob(store, job, { schedules: [uid("S3"), s1] }))).toEqual([onS1.id])
            expect(sortedIds(yield* claimJob(store, job, { schedules: [s1, s2] }))).toEqual([onS2.id])
          }),
        timeout
      )

      test(
        "takes at most limit runs, oldest run_at first",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const runs = [5, 1, 4, 2, 3].map((n) => newRun({ job, runAt: t - 10_000 + n * 100 }))
            yield* store.insert(runs)
            const byAge = [...runs].sort((a, b) => a.runAt - b.runAt).map((run) => run.id)
            expect(sortedIds(yield* claimJob(store, job, { limit: 2 }))).toEqual(byAge.slice(0, 2).sort())
            expect(sortedIds(yield* claimJob(store, job, { limit: 1 }))).toEqual(byAge.slice(2, 3))
            expect(sortedIds(yield* claimJob(store, job, { limit: 0 }))).toEqual([])
            expect(sortedIds(yield* claimJob(store, job, { limit: 10 }))).toEqual(byAge.slice(3).sort())
          }),
        timeout
      )

      test(
        "sets status, a fresh claim, startedAt/By, lease, timeout (null for runTimeoutMs 0), runTotalCount + 1",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const instanceId = uid("instance")
            const timed = newRun({ job, runAt: t - 2, runTimeoutMs: 45_000, runTotalCount: 4, retriesErrorCount: 1 })
            const untimed = newRun({ job, runAt: t - 1, runTimeoutMs: 0 })
            yield* store.insert([timed, untimed])
            const before = yield* store.now
            const claimed = yield* claimJob(store, job, { instanceId, leaseMs: 20_000 })
            const after = yield* store.now
            expect(sortedIds(claimed)).toEqual([timed.id, untimed.id].sort())
            const claims = claimed.map((run) => run.claim)
            expect(new Set(claims).size).toBe(2)
            for (const run of claimed) {
              const inserted = run.id === timed.id ? timed : untimed
              expect(typeof run.claim).toBe("string")
              expect(run.claim.length).toBeGreaterThan(0)
              expect(run.startedAt).not.toBeNull()
              const startedAt = run.startedAt!
              expect(startedAt).toBeGreaterThanOrEqual(before)
              expect(startedAt).toBeLessThanOrEqual(after)
              const expected = {
                ...inserted,
                ...pendingFields,
                createdAt: run.createdAt,
                status: "running",
                startedAt,
                startedBy: instanceId,
                leaseUntil: startedAt + 20_000,
                timeoutAt: inserted.runTimeoutMs === 0 ? null : startedAt + inserted.runTimeoutMs,
                runTotalCount: inserted.runTotalCount + 1
              }
              expect(fieldsOf(run)).toEqual(expected)
              expect(fieldsOf(yield* getRun(store, run.id))).toEqual(expected)
            }
          }),
        timeout
      )

      test(
        "a row with malformed args or an unknown job does not stop claims of other rows",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const unknownJob = newRun({ job: uid("NoSuchJob"), runAt: t - 4_000, args: "{not json" })
            const malformed = newRun({ job, runAt: t - 3_000, args: "{not json" })
            const good1 = newRun({ job, runAt: t - 2_000, args: '{"ok":1}' })
            const good2 = newRun({ job, runAt: t - 1_000, args: '{"ok":2}' })
            yield* store.insert([unknownJob, malformed, good1, good2])
            expect((yield* getRun(store, malformed.id)).args).toBe("{not json")
            const first = yield* claimJob(store, job, { limit: 1 })
            expect(first.map((run) => [run.id, run.args])).toEqual([[malformed.id, "{not json"]])
            expect(sortedIds(yield* claimJob(store, job))).toEqual([good1.id, good2.id].sort())
            expect((yield* getRun(store, unknownJob.id)).status).toBe("pending")
          }),
        timeout
      )

      test(
        "5 connections claiming in loops from 2,000 due runs never share a run and claim them all",
        () =>
          Effect.gen(function* () {
            const { store, connect } = yield* backend.make
            const connections = yield* Effect.all(Array.from({ length: 5 }, () => connect))
            const t = yield* store.now
            const job = uid("Job")
            const runs = Array.from({ length: 2_000 }, (_, i) => newRun({ job, runAt: t - 10_000 + (i % 50) }))
            for (const batch of chunks(runs, 200)) yield* store.insert(batch)
            const perClaimer = yield* Effect.forEach(
              connections,
              (connection, i) =>
                drain(claimJob(connection, job, { instanceId: `claimer-${i}`, limit: 25 }), runs.length),
              { concurrency: "unbounded" }
            ).pipe(within(25_000, "claiming 2,000 runs"))
            const all = perClaimer.flat()
            expect(all).toHaveLength(2_000)
            expect(new Set(all.map((run) => run.id)).size).toBe(2_000)
            expect(new Set(all.map((run) => run.claim)).size).toBe(2_000)
            expect(sortedIds(all)).toEqual(sortedIds(runs))
            perClaimer.forEach((claimed, i) => {
              for (const run of claimed) expect(run.startedBy).toBe(`claimer-${i}`)
            })
            expect((yield* store.nextDue([job], [])).nextRunAt).toBeNull()
          }),
        timeout
      )
    })

    describe("nextDue", () => {
      test(
        "the smallest run_at of a pending run matching the claim filter, or null; and the store's clock",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const jobA = uid("A")
            const jobB = uid("B")
            const schedule = uid("Schedule")
            const later = newRun({ job: jobA, runAt: t + 5_000 })
            const scheduled = newRun({ job: jobA, runAt: t + 1_000, schedule })
            const dueB = newRun({ job: jobB, runAt: t - 1_000 })
            yield* store.insert([later, scheduled, dueB])
            const before = yield* store.now
            const a = yield* store.nextDue([jobA], [])
            const after = yield* store.now
            expect(a.nextRunAt).toBe(t + 5_000)
            expect(a.now).toBeGreaterThanOrEqual(before)
            expect(a.now).toBeLessThanOrEqual(after)
            expect((yield* store.nextDue([jobA], [schedule])).nextRunAt).toBe(t + 1_000)
            expect((yield* store.nextDue([jobA, jobB], [schedule])).nextRunAt).toBe(t - 1_000)
            expect((yield* store.nextDue([uid("C")], [schedule])).nextRunAt).toBeNull()
            expect((yield* store.nextDue([], [schedule])).nextRunAt).toBeNull()
            yield* claimOnly(store, dueB)
            expect((yield* store.nextDue([jobB], [])).nextRunAt).toBeNull()
          }),
        timeout
      )
    })

    describe("settle", () => {
      test(
        "Succeeded: succeeded, run_success_count + 1, finished_at, lease and error cleared, name freed",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const run = newRun({ job: uid("Job"), runAt: t - 10, uniqueName: uid("unique"), runSuccessCount: 2 })
            yield* insertOne(store, run)
            const first = yield* claimOnly(store, run)
            const retry: Settlement = {
              _tag: "Retry",
              id: run.id,
              claim: first.claim,
              runAt: t - 10,
              retriesErrorCount: 1,
              retriesTimeoutCount: 0,
              error: "first attempt failed"
            }
            expect(yield* settleOne(store, retry)).toBe(true)
            const second = yield* claimOnly(store, run)
            expect(second).toMatchObject({ runTotalCount: 2, retriesErrorCount: 1, error: "first attempt failed" })
            const before = yield* store.now
            expect(yield* settleOne(store, { _tag: "Succeeded", id: run.id, claim: second.claim })).toBe(true)
            const after = yield* store.now
            const stored = yield* getRun(store, run.id)
            expect(stored).toMatchObject({
              status: "succeeded",
              runSuccessCount: 3,
              runTotalCount: 2,
              retriesErrorCount: 1,
              leaseUntil: null,
              error: null,
              startedAt: second.startedAt,
              startedBy: second.startedBy
            })
            expect(stored.finishedAt).toBeGreaterThanOrEqual(before)
            expect(stored.finishedAt).toBeLessThanOrEqual(after)
            expect(
              (yield* insertOne(store, newRun({ job: run.job, runAt: t, uniqueName: run.uniqueName }))).inserted
            ).toBe(true)
          }),
        timeout
      )

      test(
        "Failed: failed with its error, finished_at, lease cleared, name freed",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const run = newRun({ job: uid("Job"), runAt: t - 10, uniqueName: uid("unique") })
            yield* insertOne(store, run)
            const { claim } = yield* claimOnly(store, run)
            const before = yield* store.now
            expect(yield* settleOne(store, { _tag: "Failed", id: run.id, claim, error: "it broke: ✗" })).toBe(true)
            const after = yield* store.now
            const stored = yield* getRun(store, run.id)
            expect(stored).toMatchObject({
              status: "failed",
              error: "it broke: ✗",
              runSuccessCount: 0,
              runTotalCount: 1,
              leaseUntil: null
            })
            expect(stored.finishedAt).toBeGreaterThanOrEqual(before)
            expect(stored.finishedAt).toBeLessThanOrEqual(after)
            expect(
              (yield* insertOne(store, newRun({ job: run.job, runAt: t, uniqueName: run.uniqueName }))).inserted
            ).toBe(true)
            expect(yield* claimJob(store, run.job, { limit: 100 })).toHaveLength(1) // only the new run
          }),
        timeout
      )

      test(
        "Cancelled: cancelled, finished_at, lease cleared, name freed",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const run = newRun({ job: uid("Job"), runAt: t - 10, uniqueName: uid("unique") })
            yield* insertOne(store, run)
            const { claim } = yield* claimOnly(store, run)
            expect(yield* store.cancel(run.id)).toBe("requested")
            const before = yield* store.now
            expect(yield* settleOne(store, { _tag: "Cancelled", id: run.id, claim })).toBe(true)
            const after = yield* store.now
            const stored = yield* getRun(store, run.id)
            expect(stored).toMatchObject({ status: "cancelled", leaseUntil: null, runSuccessCount: 0 })
            expect(stored.finishedAt).toBeGreaterThanOrEqual(before)
            expect(stored.finishedAt).toBeLessThanOrEqual(after)
            expect(yield* store.cancel(run.id)).toBe("finished")
            expect(
              (yield* insertOne(store, newRun({ job: run.job, runAt: t, uniqueName: run.uniqueName }))).inserted
            ).toBe(true)
          }),
        timeout
      )

      test(
        "Retry: pending at run_at with the new counters and error; claim, lease and timeout cleared; name kept",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const run = newRun({ job: uid("Job"), runAt: t - 10, uniqueName: uid("unique"), runTimeoutMs: 30_000 })
            yield* insertOne(store, run)
            const claimed = yield* claimOnly(store, run, { instanceId: "first" })
            const retry: Settlement = {
              _tag: "Retry",
              id: run.id,
              claim: claimed.claim,
              runAt: t + 60_000,
              retriesErrorCount: 2,
              retriesTimeoutCount: 3,
              error: "timed out"
            }
            expect(yield* settleOne(store, retry)).toBe(true)
            const stored = yield* getRun(store, run.id)
            expect(fieldsOf(stored)).toEqual({
              ...fieldsOf(claimed),
              status: "pending",
              runAt: t + 60_000,
              retriesErrorCount: 2,
              retriesTimeoutCount: 3,
              error: "timed out",
              leaseUntil: null,
              timeoutAt: null
            })
            expect(yield* claimJob(store, run.job)).toEqual([]) // not due yet
            expect((yield* store.nextDue([run.job], [])).nextRunAt).toBe(t + 60_000)
            const other = newRun({ job: run.job, runAt: t, uniqueName: run.uniqueName })
            expect(yield* insertOne(store, other)).toEqual({ originId: run.id, inserted: false })
            // the old claim is spent
            expect(yield* settleOne(store, { _tag: "Succeeded", id: run.id, claim: claimed.claim })).toBe(false)
          }),
        timeout
      )

      test(
        "Released: pending again, attempt given back, run_at and counters unchanged, name kept",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const run = newRun({
              job: uid("Job"),
              runAt: t - 10,
              uniqueName: uid("unique"),
              runTimeoutMs: 30_000,
              runTotalCount: 5,
              retriesErrorCount: 1,
              retriesTimeoutCount: 2
            })
            yield* insertOne(store, run)
            const claimed = yield* claimOnly(store, run)
            expect(claimed.runTotalCount).toBe(6)
            expect(yield* settleOne(store, { _tag: "Released", id: run.id, claim: claimed.claim })).toBe(true)
            const stored = yield* getRun(store, run.id)
            expect(fieldsOf(stored)).toEqual({
              ...fieldsOf(claimed),
              status: "pending",
              runTotalCount: 5,
              leaseUntil: null,
              timeoutAt: null
            })
            const other = newRun({ job: run.job, runAt: t, uniqueName: run.uniqueName })
            expect(yield* insertOne(store, other)).toEqual({ originId: run.id, inserted: false })
            expect((yield* claimOnly(store, run)).runTotalCount).toBe(6)
          }),
        timeout
      )

      for (const outcome of ["succeeded", "failed", "cancelled"] as const) {
        test(
          `Next (${outcome}): the occurrence ends, the next one is inserted and holds the name`,
          () =>
            Effect.gen(function* () {
              const { store } = yield* backend.make
              const t = yield* store.now
              const schedule = uid("Schedule")
              const run = newRun({
                job: uid("Job"),
                runAt: t - 10,
                uniqueName: uid("unique"),
                schedule,
                runSuccessLimit: 5,
                runSuccessCount: 1
              })
              yield* insertOne(store, run)
              const claimed = yield* claimOnly(store, run, { schedules: [schedule] })
              const next = nextOf(run, {
                runAt: t + 60_000,
                runTotalCount: 2,
                runSuccessCount: outcome === "succeeded" ? 2 : 1,
                createdAt: claimed.createdAt
              })
              const error = outcome === "succeeded" ? null : `${outcome}: reason`
              const settlement: Settlement = { _tag: "Next", id: run.id, claim: claimed.claim, outcome, error, next }
              expect(yield* settleOne(store, settlement)).toBe(true)

              const latest = yield* getRun(store, run.id)
              expect(fieldsOf(latest)).toEqual({ ...next, ...pendingFields })
              // the ended occurrence is no longer active: nothing to claim now, only the next occurrence is due later
              expect(yield* claimJob(store, run.job, { schedules: [schedule] })).toEqual([])
              expect((yield* store.nextDue([run.job], [schedule])).nextRunAt).toBe(t + 60_000)
              const other = newRun({ job: run.job, runAt: t, uniqueName: run.uniqueName })
              expect(yield* insertOne(store, other)).toEqual({ originId: run.id, inserted: false })
              // the old claim is spent
              expect(yield* settleOne(store, settlement)).toBe(false)
              expect((yield* getRun(store, run.id)).id).toBe(next.id)
              // cancel reaches the active (next) occurrence
              expect(yield* store.cancel(run.id)).toBe("cancelled")
              expect(yield* getRun(store, run.id)).toMatchObject({ id: next.id, status: "cancelled" })
            }),
          timeout
        )
      }

      test(
        "fencing: settlements from a claim that was reaped and re-claimed are rejected and change nothing",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const run = newRun({ job, runAt: t - 10, uniqueName: uid("unique") })
            yield* insertOne(store, run)
            const stale = yield* claimOnly(store, run, { instanceId: "stale", leaseMs: 1, started: true })
            yield* waitPast(30)
            const { taken: reaped } = yield* store.reap({
              instanceId: "reaper",
              jobs: [job],
              schedules: [],
              limit: 10,
              leaseMs: 60_000,
              graceMs: 0
            })
            expect(reaped.map((r) => r.id)).toEqual([run.id])
            const taken = reaped[0]!
            expect(taken.claim).not.toBe(stale.claim)

            const withClaim = (claim: string): ReadonlyArray<Settlement> => [
              { _tag: "Succeeded", id: run.id, claim },
              { _tag: "Failed", id: run.id, claim, error: "stale failure" },
              { _tag: "Cancelled", id: run.id, claim },
              {
                _tag: "Retry",
                id: run.id,
                claim,
                runAt: t,
                retriesErrorCount: 9,
                retriesTimeoutCount: 9,
                error: "stale retry"
              },
              { _tag: "Released", id: run.id, claim },
              {
                _tag: "Next",
                id: run.id,
                claim,
                outcome: "succeeded",
                error: null,
                next: nextOf(run, { runAt: t })
              }
            ]
            const rejectedAll = (claim: string) =>
              Effect.gen(function* () {
                const before = fieldsOf(yield* getRun(store, run.id))
                expect(yield* store.settle(withClaim(claim))).toEqual([false, false, false, false, false, false])
                for (const settlement of withClaim(claim)) expect(yield* settleOne(store, settlement)).toBe(false)
                expect(fieldsOf(yield* getRun(store, run.id))).toEqual(before) // no next occurrence either
                const other = newRun({ job, runAt: t, uniqueName: run.uniqueName })
                expect(yield* insertOne(store, other)).toEqual({ originId: run.id, inserted: false })
              })
            yield* rejectedAll(stale.claim)
            expect(yield* store.extend("stale", [stale.claim], 60_000, [])).toEqual([])

            // the taker hands it back and a third instance claims it: both older claims are dead
            expect(yield* settleOne(store, { _tag: "Released", id: run.id, claim: taken.claim })).toBe(true)
            const current = yield* claimOnly(store, run, { instanceId: "current" })
            yield* rejectedAll(stale.claim)
            yield* rejectedAll(taken.claim)
            expect(yield* settleOne(store, { _tag: "Succeeded", id: run.id, claim: current.claim })).toBe(true)
            expect((yield* getRun(store, run.id)).status).toBe("succeeded")
          }),
        timeout
      )

      test(
        "one result per settlement, in order; unknown ids and claims are false",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const a = newRun({ job, runAt: t - 20 })
            const b = newRun({ job, runAt: t - 10 })
            yield* store.insert([a, b])
            const claimed = yield* claimJob(store, job)
            const claimOf = (id: string) => claimed.find((run) => run.id === id)!.claim
            const results = yield* store.settle([
              { _tag: "Succeeded", id: a.id, claim: "not-a-claim" },
              { _tag: "Succeeded", id: a.id, claim: claimOf(a.id) },
              { _tag: "Succeeded", id: RunId.generate(Date.now()), claim: claimOf(b.id) },
              { _tag: "Failed", id: b.id, claim: claimOf(b.id), error: "x" }
            ])
            expect(results).toEqual([false, true, false, true])
            expect(yield* store.settle([])).toEqual([])
            expect((yield* getRun(store, a.id)).status).toBe("succeeded")
            expect((yield* getRun(store, b.id)).status).toBe("failed")
          }),
        timeout
      )
    })

    describe("extend", () => {
      test(
        "extends held leases and reports cancel requests; omits lost, settled and other instances' claims",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const instanceId = uid("instance")
            const r1 = newRun({ job, runAt: t - 30 })
            const r2 = newRun({ job, runAt: t - 20 })
            const r3 = newRun({ job, runAt: t - 10 })
            const r4 = newRun({ job, runAt: t - 5 })
            yield* store.insert([r1, r2, r3, r4])
            const held = yield* claimJob(store, job, { instanceId, limit: 2 })
            expect(sortedIds(held)).toEqual([r1.id, r2.id].sort())
            const lost = yield* claimOnly(store, r3, { instanceId, leaseMs: 1, limit: 1, started: true })
            const settled = yield* claimOnly(store, r4, { instanceId, limit: 1 })
            expect(yield* settleOne(store, { _tag: "Succeeded", id: r4.id, claim: settled.claim })).toBe(true)
            expect(yield* store.cancel(r2.id)).toBe("requested")
            yield* waitPast(30)
            const reaped = yield* store.reap({
              instanceId: "reaper",
              jobs: [job],
              schedules: [],
              limit: 10,
              leaseMs: 60_000,
              graceMs: 0
            })
            expect(sortedIds(reaped.taken)).toEqual([r3.id])

            const claimOf = (id: string) => held.find((run) => run.id === id)!.claim
            const before = yield* store.now
            const extended = yield* store.extend(
              instanceId,
              [claimOf(r1.id), claimOf(r2.id), lost.claim, settled.claim, "not-a-claim"],
              120_000,
              []
            )
            const after = yield* store.now
            expect([...extended].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
              [
                { id: r1.id, claim: claimOf(r1.id), cancelRequested: false },
                { id: r2.id, claim: claimOf(r2.id), cancelRequested: true }
              ].sort((a, b) => (a.id < b.id ? -1 : 1))
            )
            for (const id of [r1.id, r2.id]) {
              const stored = yield* getRun(store, id)
              expect(stored.leaseUntil).toBeGreaterThanOrEqual(before + 120_000)
              expect(stored.leaseUntil).toBeLessThanOrEqual(after + 120_000)
              expect(stored.status).toBe("running")
            }
            expect(yield* store.extend(uid("someone-else"), [claimOf(r1.id)], 1, [claimOf(r1.id)])).toEqual([])
            expect((yield* getRun(store, r1.id)).dispatchedAt).toBeNull()
            expect((yield* getRun(store, r1.id)).leaseUntil).toBeGreaterThanOrEqual(before + 120_000)
            expect(yield* store.extend(instanceId, [], 1_000, [])).toEqual([])
          }),
        timeout
      )
    })

    describe("reap", () => {
      test(
        "claims and takeovers carry claim tokens in the ClaimToken format, each made for its row",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const runs = [30, 20, 10].map((ago) => newRun({ job, runAt: t - ago }))
            yield* store.insert(runs)
            const claimed = yield* claimJob(store, job, { instanceId: "dead", leaseMs: 1, started: true })
            expect(sortedIds(claimed)).toEqual(sortedIds(runs))
            for (const run of claimed) {
              expect(JobStore.ClaimToken.isFor(run.claim, run.id), run.claim).toBe(true)
              expect(JobStore.ClaimToken.idOf(run.claim)).toBe(run.id)
            }
            expect(new Set(claimed.map((run) => run.claim)).size).toBe(claimed.length)
            yield* waitPast(30)
            const { taken: reaped } = yield* store.reap({
              instanceId: "reaper",
              jobs: [job],
              schedules: [],
              limit: 10,
              leaseMs: 60_000,
              graceMs: 0
            })
            expect(sortedIds(reaped)).toEqual(sortedIds(runs))
            for (const run of reaped) {
              expect(JobStore.ClaimToken.isFor(run.claim, run.id), run.claim).toBe(true)
              expect(run.claim).not.toBe(claimed.find((old) => old.id === run.id)!.claim)
            }
          }),
        timeout
      )

      test(
        "takes over runs whose lease expired (reason lease) with a fresh claim; other fields unchanged",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const expired = newRun({ job, runAt: t - 20 })
            const alive = newRun({ job, runAt: t - 10 })
            yield* store.insert([expired, alive])
            const old = yield* claimOnly(store, expired, { instanceId: "dead", leaseMs: 1, limit: 1, started: true })
            yield* claimOnly(store, alive, { instanceId: "alive", leaseMs: 60_000, limit: 1, started: true })
            yield* waitPast(30)
            const before = yield* store.now
            const { taken: reaped } = yield* store.reap({
              instanceId: "reaper",
              jobs: [job],
              schedules: [],
              limit: 10,
              leaseMs: 45_000,
              graceMs: 0
            })
            const after = yield* store.now
            expect(reaped.map((run) => run.id)).toEqual([expired.id])
            const taken = reaped[0]!
            expect(taken.reason).toBe("lease")
            expect(taken.claim).not.toBe(old.claim)
            expect(taken.leaseUntil).toBeGreaterThanOrEqual(before + 45_000)
            expect(taken.leaseUntil).toBeLessThanOrEqual(after + 45_000)
            // the attempt is still the one its dead instance started: only the claim and lease change
            const expected = { ...fieldsOf(old), leaseUntil: taken.leaseUntil }
            expect(fieldsOf(taken)).toEqual(expected)
            expect(fieldsOf(yield* getRun(store, expired.id))).toEqual(expected)
            expect(
              yield* store.reap({ instanceId: "reaper", jobs: [job], schedules: [], limit: 10, leaseMs: 1, graceMs: 0 })
            ).toEqual({ taken: [], givenBack: [] })
            // the new claim is the one that settles
            expect(yield* settleOne(store, { _tag: "Succeeded", id: expired.id, claim: taken.claim })).toBe(true)
          }),
        timeout
      )

      test(
        "takes over runs past timeout_at + graceMs (reason timeout)",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const timedOut = newRun({ job, runAt: t - 20, runTimeoutMs: 1 })
            const inTime = newRun({ job, runAt: t - 10, runTimeoutMs: 60_000 })
            yield* store.insert([timedOut, inTime])
            const claimed = yield* claimJob(store, job, { instanceId: "slow", leaseMs: 60_000, started: true })
            expect(claimed).toHaveLength(2)
            yield* waitPast(30)
            const request = { instanceId: "reaper", jobs: [job], schedules: [], limit: 10, leaseMs: 60_000 }
            expect(yield* store.reap({ ...request, graceMs: 60_000 })).toEqual({ taken: [], givenBack: [] })
            const { taken: reaped } = yield* store.reap({ ...request, graceMs: 0 })
            expect(reaped.map((run) => [run.id, run.reason])).toEqual([[timedOut.id, "timeout"]])
            const before = claimed.find((run) => run.id === timedOut.id)!
            expect(reaped[0]!.timeoutAt).toBe(before.timeoutAt)
            expect(reaped[0]!.startedAt).toBe(before.startedAt)
            expect(reaped[0]!.runTotalCount).toBe(before.runTotalCount)
            expect(reaped[0]!.startedBy).toBe("slow")
          }),
        timeout
      )

      test(
        "a run whose lease expired before its attempt started is given back: pending, due as before, no attempt used up, nothing recorded",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const dead = uid("dead")
            const [buffered, started, cancelled] = [30, 20, 10].map((ago) =>
              newRun({ job, runAt: t - ago, runTimeoutMs: 60_000, uniqueName: uid("unique") })
            )
            yield* store.insert([buffered!, started!, cancelled!])
            const claimed = yield* claimJob(store, job, { instanceId: dead, leaseMs: 1 })
            expect(sortedIds(claimed)).toEqual(sortedIds([buffered!, started!, cancelled!]))
            const claimOf = (id: string) => claimed.find((run) => run.id === id)!.claim
            // only one attempt started and was reported; the others waited for a worker
            yield* startAll(store, dead, [claimed.find((run) => run.id === started!.id)!], 1)
            expect(yield* store.cancel(cancelled!.id)).toBe("requested")
            yield* waitPast(30)
            const reaped = yield* store.reap({
              instanceId: "reaper",
              jobs: [job],
              schedules: [],
              limit: 10,
              leaseMs: 60_000,
              graceMs: 0
            })
            expect(reaped.taken.map((run) => [run.id, run.reason, run.runTotalCount])).toEqual([
              [started!.id, "lease", 1]
            ])
            expect([...reaped.givenBack].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
              [buffered!, cancelled!]
                .map((run) => ({ id: run.id, originId: run.originId, job, startedBy: dead }))
                .sort((a, b) => (a.id < b.id ? -1 : 1))
            )
            const back = yield* getRun(store, buffered!.id)
            expect(back).toMatchObject({
              status: "pending",
              runAt: buffered!.runAt,
              runTotalCount: 0,
              retriesErrorCount: 0,
              retriesTimeoutCount: 0,
              leaseUntil: null,
              timeoutAt: null,
              // marked: given back free once
              dispatchedAt: JobStore.givenBackUnstarted,
              finishedAt: null
            })
            expect(yield* store.history(buffered!.id)).toEqual([])
            // a cancel request ends it instead, with nothing recorded either (it never started), its name freed
            expect(yield* getRun(store, cancelled!.id)).toMatchObject({ status: "cancelled", runTotalCount: 0 })
            expect(yield* store.history(cancelled!.id)).toEqual([])
            expect(
              (yield* insertOne(store, newRun({ job, runAt: t, uniqueName: cancelled!.uniqueName }))).inserted
            ).toBe(true)
            // the expired claim is spent; the run given back is due and claimed afresh
            expect(yield* settleOne(store, { _tag: "Succeeded", id: buffered!.id, claim: claimOf(buffered!.id) })).toBe(
              false
            )
            expect(
              yield* store.reap({ instanceId: "reaper", jobs: [job], schedules: [], limit: 10, leaseMs: 1, graceMs: 0 })
            ).toEqual({
              taken: [],
              givenBack: []
            })
            const again = yield* claimJob(store, job, { instanceId: "next", limit: 1, leaseMs: 1 })
            expect(again.map((run) => [run.id, run.runTotalCount])).toEqual([[buffered!.id, 1]])
            // once only: the same attempt's lease expiring again before a reported start is charged (a job that
            // kills its process before the first heartbeat cannot be given back for ever)
            yield* waitPast(30)
            const charged = yield* store.reap({
              instanceId: "reaper",
              jobs: [job],
              schedules: [],
              limit: 10,
              leaseMs: 60_000,
              graceMs: 0
            })
            expect(charged.givenBack).toEqual([])
            expect(charged.taken.map((run) => [run.id, run.reason, run.runTotalCount])).toEqual([
              [buffered!.id, "lease", 1]
            ])
          }),
        timeout
      )

      test(
        "extend records the start of the reported claims: dispatchedAt, and timeoutAt counted from it",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const instanceId = uid("instance")
            const [reported, waiting, untimed] = [30, 20, 10].map((ago) =>
              newRun({ job, runAt: t - ago, runTimeoutMs: ago === 10 ? 0 : 60_000 })
            )
            yield* store.insert([reported!, waiting!, untimed!])
            const claimed = yield* claimJob(store, job, { instanceId })
            const claimOf = (id: string) => claimed.find((run) => run.id === id)!
            const before = yield* store.now
            const claims = claimed.map((run) => run.claim)
            const held = yield* store.extend(instanceId, claims, 60_000, [
              claimOf(reported!.id).claim,
              claimOf(untimed!.id).claim
            ])
            const after = yield* store.now
            expect(held).toHaveLength(3)
            const stored = yield* getRun(store, reported!.id)
            expect(stored.dispatchedAt).toBeGreaterThanOrEqual(Math.max(before, stored.startedAt!))
            expect(stored.dispatchedAt).toBeLessThanOrEqual(after)
            expect(stored.timeoutAt).toBe(stored.dispatchedAt! + 60_000)
            // not reported: the claim's stamps stay
            const still = yield* getRun(store, waiting!.id)
            expect(still).toMatchObject({ dispatchedAt: null, timeoutAt: claimOf(waiting!.id).timeoutAt })
            const noTimeout = yield* getRun(store, untimed!.id)
            expect(noTimeout.timeoutAt).toBeNull()
            expect(noTimeout.dispatchedAt).toBeGreaterThanOrEqual(before)
          }),
        timeout
      )

      test(
        "a claimed run whose attempt has not started is not taken over for its timeout while its lease holds",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const instanceId = uid("instance")
            const run = newRun({ job, runAt: t - 10, runTimeoutMs: 1 })
            yield* insertOne(store, run)
            const claimed = yield* claimOnly(store, run, { instanceId, leaseMs: 60_000 })
            yield* waitPast(30)
            const request = { instanceId: "reaper", jobs: [job], schedules: [], limit: 10, leaseMs: 60_000, graceMs: 0 }
            expect(yield* store.reap(request)).toEqual({ taken: [], givenBack: [] })
            expect(yield* getRun(store, run.id)).toMatchObject({ status: "running", startedBy: instanceId })
            // once started, its timeout counts from the report, and then it is taken over
            yield* store.extend(instanceId, [claimed.claim], 60_000, [claimed.claim])
            yield* waitPast(30)
            const reaped = yield* store.reap(request)
            expect(reaped.taken.map((taken) => [taken.id, taken.reason])).toEqual([[run.id, "timeout"]])
            expect(reaped.givenBack).toEqual([])
          }),
        timeout
      )

      test(
        "respects the job and schedule filter and the limit",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const otherJob = uid("Other")
            const schedule = uid("Schedule")
            const plain = [1, 2, 3].map((n) => newRun({ job, runAt: t - n }))
            const scheduled = newRun({ job, runAt: t - 10, schedule })
            const other = newRun({ job: otherJob, runAt: t - 10 })
            yield* store.insert([...plain, scheduled, other])
            yield* claimJob(store, job, { schedules: [schedule], leaseMs: 1, started: true })
            yield* claimJob(store, otherJob, { leaseMs: 1, started: true })
            yield* waitPast(30)
            const reap = (schedules: ReadonlyArray<string>, limit: number) =>
              Effect.map(
                store.reap({ instanceId: "reaper", jobs: [job], schedules, limit, leaseMs: 60_000, graceMs: 0 }),
                ({ givenBack, taken }) => {
                  expect(givenBack).toEqual([])
                  return taken
                }
              )
            const first = yield* reap([], 2)
            expect(first).toHaveLength(2)
            const second = yield* reap([], 2)
            expect(sortedIds([...first, ...second])).toEqual(sortedIds(plain))
            expect(yield* reap([], 2)).toEqual([])
            expect(sortedIds(yield* reap([schedule], 2))).toEqual([scheduled.id])
            expect(yield* reap([schedule], 0)).toEqual([])
            expect((yield* getRun(store, other.id)).startedBy).toBe("claimer")
          }),
        timeout
      )

      test(
        "two concurrent reapers on separate connections never share a run",
        () =>
          Effect.gen(function* () {
            const { store, connect, waitPast } = yield* backend.make
            const reapers = yield* Effect.all([connect, connect])
            const t = yield* store.now
            const job = uid("Job")
            const runs = Array.from({ length: 60 }, (_, i) => newRun({ job, runAt: t - 100 + i }))
            yield* store.insert(runs)
            expect(yield* claimJob(store, job, { leaseMs: 1, started: true })).toHaveLength(60)
            yield* waitPast(30)
            const reapLoop = (reaper: Store) =>
              drain(
                Effect.map(
                  reaper.reap({
                    instanceId: "reaper",
                    jobs: [job],
                    schedules: [],
                    limit: 4,
                    leaseMs: 60_000,
                    graceMs: 0
                  }),
                  (reaped) => reaped.taken
                ),
                runs.length
              )
            const [a, b] = yield* Effect.all([reapLoop(reapers[0]), reapLoop(reapers[1])], {
              concurrency: "unbounded"
            }).pipe(within(20_000, "reaping 60 runs"))
            const all = [...a, ...b]
            expect(all).toHaveLength(60)
            expect(sortedIds(all)).toEqual(sortedIds(runs))
            expect(new Set(all.map((run) => run.claim)).size).toBe(60)
            for (const run of all) expect(run.startedBy).toBe("claimer")
          }),
        timeout
      )
    })

    describe("release", () => {
      test(
        "hands back the runs held under the instance's claims and takeovers (but those kept): pending, no attempt used up, recorded released",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const me = uid("inst")
            const [mine, kept, takenOver, other] = [40, 30, 20, 10].map((ago) => newRun({ job, runAt: t - ago }))
            yield* store.insert([takenOver!])
            // a run started elsewhere, then taken over by this instance's reaper
            yield* claimOnly(store, takenOver!, { instanceId: uid("dead"), leaseMs: 1, started: true })
            yield* waitPast(30)
            const { taken: reaped } = yield* store.reap({
              instanceId: me,
              jobs: [job],
              schedules: [],
              limit: 10,
              leaseMs: 60_000,
              graceMs: 0
            })
            expect(sortedIds(reaped)).toEqual([takenOver!.id])
            yield* store.insert([mine!, kept!])
            const claimed = yield* claimJob(store, job, { instanceId: me })
            expect(sortedIds(claimed)).toEqual(sortedIds([mine!, kept!]))
            yield* store.insert([other!])
            yield* claimOnly(store, other!, { instanceId: uid("alive") })
            const keep = claimed.find((run) => run.id === kept!.id)!.claim
            expect(yield* store.release(me, [keep])).toBe(2)
            for (const run of [mine!, takenOver!]) {
              const stored = yield* getRun(store, run.originId)
              expect(stored).toMatchObject({ status: "pending", leaseUntil: null, runTotalCount: 0 })
              const history = yield* store.history(run.originId)
              expect(history.map((attempt) => attempt.outcome)).toEqual(["released"])
            }
            expect(yield* getRun(store, kept!.originId)).toMatchObject({ status: "running", runTotalCount: 1 })
            expect(yield* getRun(store, other!.originId)).toMatchObject({ status: "running", runTotalCount: 1 })
            // nothing left to hand back: a second release (a retried shutdown) changes nothing
            expect(yield* store.release(me, [keep])).toBe(0)
          }),
        timeout
      )
    })

    describe("cancel", () => {
      test(
        "pending -> cancelled (finished, name freed, not claimable)",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const run = newRun({ job: uid("Job"), runAt: t - 10, uniqueName: uid("unique") })
            yield* insertOne(store, run)
            const before = yield* store.now
            expect(yield* store.cancel(run.id)).toBe("cancelled")
            const after = yield* store.now
            const stored = yield* getRun(store, run.id)
            expect(stored.status).toBe("cancelled")
            expect(stored.finishedAt).toBeGreaterThanOrEqual(before)
            expect(stored.finishedAt).toBeLessThanOrEqual(after)
            expect(yield* claimJob(store, run.job)).toEqual([])
            expect(yield* store.cancel(run.id)).toBe("finished")
            expect(
              (yield* insertOne(store, newRun({ job: run.job, runAt: t, uniqueName: run.uniqueName }))).inserted
            ).toBe(true)
          }),
        timeout
      )

      test(
        "running -> requested (cancel_requested set, still running and held)",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const run = newRun({ job: uid("Job"), runAt: t - 10 })
            yield* insertOne(store, run)
            const claimed = yield* claimOnly(store, run, { instanceId: "worker" })
            expect(yield* store.cancel(run.id)).toBe("requested")
            expect(yield* getRun(store, run.id)).toMatchObject({ status: "running", cancelRequested: true })
            expect(yield* store.cancel(run.id)).toBe("requested")
            expect(yield* store.extend("worker", [claimed.claim], 60_000, [])).toEqual([
              { id: run.id, claim: claimed.claim, cancelRequested: true }
            ])
            expect(yield* settleOne(store, { _tag: "Cancelled", id: run.id, claim: claimed.claim })).toBe(true)
            expect(yield* store.cancel(run.id)).toBe("finished")
          }),
        timeout
      )

      test(
        "finished -> finished; unknown -> notFound",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const run = newRun({ job: uid("Job"), runAt: t - 10 })
            yield* insertOne(store, run)
            const { claim } = yield* claimOnly(store, run)
            expect(yield* settleOne(store, { _tag: "Succeeded", id: run.id, claim })).toBe(true)
            expect(yield* store.cancel(run.id)).toBe("finished")
            expect((yield* getRun(store, run.id)).status).toBe("succeeded")
            expect(yield* store.cancel(RunId.generate(Date.now()))).toBe("notFound")
          }),
        timeout
      )
    })

    describe("history", () => {
      test(
        "settle records one attempt per held fence: outcome, attempt, instance, times, error; stale settlements record nothing",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const run = newRun({ job: uid("Job"), runAt: t - 10 })
            yield* insertOne(store, run)
            const retryOf = (
              claimed: ClaimedRun,
              fields: { readonly attempt?: JobStore.AttemptOutcome; readonly error?: string } = {}
            ): Settlement => ({
              _tag: "Retry",
              id: run.id,
              claim: claimed.claim,
              runAt: t - 10,
              retriesErrorCount: 1,
              retriesTimeoutCount: 0,
              error: "first attempt failed",
              ...fields
            })
            const first = yield* claimOnly(store, run, { instanceId: "instance-a" })
            expect(yield* settleOne(store, retryOf(first))).toBe(true)
            expect(yield* settleOne(store, retryOf(first))).toBe(false) // the fence no longer holds
            const second = yield* claimOnly(store, run, { instanceId: "instance-b" })
            expect(yield* settleOne(store, retryOf(second, { attempt: "timedOut", error: "too slow" }))).toBe(true)
            const third = yield* claimOnly(store, run, { instanceId: "instance-c" })
            expect(yield* settleOne(store, { _tag: "Released", id: run.id, claim: third.claim })).toBe(true)
            const fourth = yield* claimOnly(store, run, { instanceId: "instance-d" })
            const before = yield* store.now
            expect(yield* settleOne(store, { _tag: "Succeeded", id: run.id, claim: fourth.claim })).toBe(true)
            const after = yield* store.now
            const history = yield* store.history(run.id)
            expect(history.map((a) => [a.attempt, a.startedBy, a.outcome, a.error])).toEqual([
              [1, "instance-a", "retried", "first attempt failed"],
              [2, "instance-b", "timedOut", "too slow"],
              [3, "instance-c", "released", null],
              [3, "instance-d", "succeeded", null]
            ])
            for (const [attempt, claimed] of [first, second, third, fourth].entries()) {
              expect(history[attempt]).toMatchObject({
                originId: run.id,
                id: run.id,
                occurrence: 0,
                job: run.job,
                startedAt: claimed.startedAt
              })
              expect(history[attempt]!.finishedAt).toBeGreaterThanOrEqual(claimed.startedAt!)
            }
            const last = history[3]!
            expect(last.finishedAt).toBe((yield* getRun(store, run.id)).finishedAt)
            expect(last.finishedAt).toBeGreaterThanOrEqual(before)
            expect(last.finishedAt).toBeLessThanOrEqual(after)
            expect(yield* store.history(RunId.generate(Date.now()))).toEqual([])
          }),
        timeout
      )

      test(
        "history lists the attempts of every occurrence in the order they ended, each success last; a success without a result leaves the run without one",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const schedule = uid("Schedule")
            const first = newRun({ job: uid("Job"), runAt: t - 10, schedule })
            yield* insertOne(store, first)
            const claim = (run: NewRun) => claimOnly(store, run, { schedules: [schedule] })
            const retried = (claimed: ClaimedRun, error: string): Settlement => ({
              _tag: "Retry",
              id: claimed.id,
              claim: claimed.claim,
              runAt: t - 10,
              retriesErrorCount: 1,
              retriesTimeoutCount: 0,
              error
            })
            const result = '{"n":1}'
            const second = nextOf(first, { runAt: t - 5, result })
            const a1 = yield* claim(first)
            expect(yield* settleOne(store, retried(a1, "first, 1"))).toBe(true)
            const a2 = yield* claim(first)
            expect(
              yield* settleOne(store, {
                _tag: "Next",
                id: first.id,
                claim: a2.claim,
                outcome: "succeeded",
                error: null,
                next: second
              })
            ).toBe(true)
            const b1 = yield* claim(second)
            expect(yield* settleOne(store, retried(b1, "second, 1"))).toBe(true)
            const b2 = yield* claim(second)
            expect(yield* settleOne(store, { _tag: "Succeeded", id: second.id, claim: b2.claim })).toBe(true)
            expect(yield* getRun(store, first.id)).toMatchObject({ id: second.id, status: "succeeded", result: null })
            const history = yield* store.history(first.id)
            expect(history.map((x) => [x.id, x.occurrence, x.outcome, x.error, x.result])).toEqual([
              [first.id, 0, "retried", "first, 1", null],
              [first.id, 0, "succeeded", null, result],
              [second.id, 1, "retried", "second, 1", null],
              [second.id, 1, "succeeded", null, null]
            ])
            expect(history.map((x) => [x.startedBy, x.startedAt])).toEqual(
              [a1, a2, b1, b2].map((claimed) => ["claimer", claimed.startedAt])
            )
            expect(history[3]!.finishedAt).toBe((yield* getRun(store, first.id)).finishedAt)
          }),
        timeout
      )

      test(
        "a batch records only the settlements whose fence held; Next, Failed and Cancelled record their occurrence's attempt",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const schedule = uid("Schedule")
            const runs = Array.from({ length: 4 }, (_, i) => newRun({ job, runAt: t - 100 + i }))
            const scheduled = newRun({ job, runAt: t - 50, schedule })
            yield* store.insert([...runs, scheduled])
            const claimed = yield* claimJob(store, job, { schedules: [schedule] })
            expect(claimed).toHaveLength(5)
            const byId = new Map(claimed.map((run) => [run.id, run]))
            const [a, b, c, d] = runs.map((run) => byId.get(run.id)!)
            const next = nextOf(scheduled, { runAt: t - 10 })
            const held = yield* store.settle([
              { _tag: "Succeeded", id: a!.id, claim: a!.claim },
              // shaped like a live claim of this row, batched with a held one: the batch still tells them apart
              { _tag: "Succeeded", id: b!.id, claim: `stale:${b!.id}` },
              { _tag: "Failed", id: c!.id, claim: c!.claim, error: "broken", attempt: "lost" },
              { _tag: "Cancelled", id: d!.id, claim: d!.claim },
              {
                _tag: "Next",
                id: scheduled.id,
                claim: byId.get(scheduled.id)!.claim,
                outcome: "cancelled",
                error: "skipped",
                next
              }
            ])
            expect(held).toEqual([true, false, true, true, true])
            const outcomes = (id: string) =>
              Effect.map(store.history(id), (attempts) => attempts.map((x) => [x.id, x.outcome, x.error]))
            expect(yield* outcomes(a!.id)).toEqual([[a!.id, "succeeded", null]])
            expect(yield* outcomes(b!.id)).toEqual([])
            expect(yield* outcomes(c!.id)).toEqual([[c!.id, "lost", "broken"]])
            expect(yield* outcomes(d!.id)).toEqual([[d!.id, "cancelled", null]])
            expect(yield* outcomes(scheduled.id)).toEqual([[scheduled.id, "cancelled", "skipped"]])
            // the skipped occurrence ended (its reason recorded); the next one is pending
            expect(yield* getRun(store, scheduled.id)).toMatchObject({ occurrence: 1, status: "pending" })
            const nextClaimed = yield* claimOnly(store, next, { schedules: [schedule] })
            expect(yield* settleOne(store, { _tag: "Succeeded", id: next.id, claim: nextClaimed.claim })).toBe(true)
            const chain = yield* store.history(scheduled.id)
            expect(chain.map((x) => [x.id, x.occurrence, x.outcome])).toEqual([
              [scheduled.id, 0, "cancelled"],
              [next.id, 1, "succeeded"]
            ])
          }),
        timeout
      )
    })

    describe("prune", () => {
      /** Runs `prune` until it deletes nothing; the counts of each call. */
      const pruneAll = (store: Store, request: JobStore.PruneRequest) =>
        Effect.gen(function* () {
          const counts: Array<number> = []
          while (counts.length < 100) {
            const count = yield* store.prune(request)
            counts.push(count)
            if (count === 0) return counts
          }
          return counts
        })

      test(
        "deletes finished runs past their status's retention with their history, never active runs, at most limit per call",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const job = uid("Job")
            const schedule = uid("Schedule")
            const finish = (run: NewRun, settlement: (claimed: ClaimedRun) => Settlement) =>
              Effect.gen(function* () {
                yield* insertOne(store, run)
                const claimed = yield* claimOnly(store, run, { schedules: [schedule] })
                expect(yield* settleOne(store, settlement(claimed))).toBe(true)
              })
            const succeed = (run: NewRun) =>
              finish(run, (claimed) => ({ _tag: "Succeeded", id: run.id, claim: claimed.claim }))
            const oldSucceeded = Array.from({ length: 3 }, () => newRun({ job, runAt: t - 10 }))
            for (const run of oldSucceeded) yield* succeed(run)
            const oldFailed = newRun({ job, runAt: t - 10 })
            yield* finish(oldFailed, (claimed) => ({
              _tag: "Failed",
              id: oldFailed.id,
              claim: claimed.claim,
              error: "x"
            }))
            const oldCancelled = newRun({ job, runAt: t + 60_000 })
            yield* insertOne(store, oldCancelled)
            expect(yield* store.cancel(oldCancelled.id)).toBe("cancelled")
            // a scheduled run: its first occurrence ends, the next one stays pending
            const first = newRun({ job, runAt: t - 10, schedule })
            const next = nextOf(first, { runAt: t + 60_000 })
            yield* finish(first, (claimed) => ({
              _tag: "Next",
              id: first.id,
              claim: claimed.claim,
              outcome: "succeeded",
              error: null,
              next
            }))
            const pending = newRun({ job, runAt: t + 60_000 })
            const running = newRun({ job, runAt: t - 10, runTimeoutMs: 1 })
            yield* insertOne(store, pending)
            yield* insertOne(store, running)
            const held = yield* claimOnly(store, running)
            yield* waitPast(1_000)
            const recent = newRun({ job, runAt: t - 10 })
            yield* succeed(recent)

            const request: JobStore.PruneRequest = {
              keepMs: { succeeded: 500, failed: null, cancelled: 500 },
              limit: 2
            }
            const counts = yield* pruneAll(store, request)
            expect(counts[0]).toBe(2) // the limit (a shared database may hold more)
            expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5)
            for (const run of [...oldSucceeded, oldCancelled]) {
              expect(yield* store.get(run.id), `run ${run.id} is pruned`).toBeUndefined()
              expect(yield* store.history(run.id)).toEqual([])
            }
            expect((yield* getRun(store, oldFailed.id)).status).toBe("failed")
            expect(yield* store.history(oldFailed.id)).toHaveLength(1)
            expect((yield* getRun(store, recent.id)).status).toBe("succeeded")
            expect(yield* store.history(recent.id)).toHaveLength(1)
            expect((yield* getRun(store, pending.id)).status).toBe("pending")
            expect(yield* getRun(store, running.id)).toMatchObject({ status: "running", startedAt: held.startedAt })
            // the ended occurrence went, the active one stays and still answers for the run
            expect(yield* getRun(store, first.id)).toMatchObject({ id: next.id, occurrence: 1, status: "pending" })
            expect(yield* store.history(first.id)).toEqual([])

            // keeping nothing forever: the rest goes, active runs stay
            yield* pruneAll(store, { keepMs: { succeeded: 0, failed: 0, cancelled: 0 }, limit: 1_000 })
            expect(yield* store.get(oldFailed.id)).toBeUndefined()
            expect((yield* getRun(store, pending.id)).status).toBe("pending")
            expect((yield* getRun(store, running.id)).status).toBe("running")
            expect(yield* store.prune({ ...request, limit: 0 })).toBe(0)
          }),
        timeout
      )
    })

    describe("pendingCounts", () => {
      test(
        "counts pending runs per job (due or not), not running or finished ones",
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            const t = yield* store.now
            const [a, b, c] = [uid("A"), uid("B"), uid("C")]
            const cancelled = newRun({ job: b, runAt: t + 60_000 })
            const finished = newRun({ job: c, runAt: t - 10 })
            yield* store.insert([
              newRun({ job: a, runAt: t - 20 }),
              newRun({ job: a, runAt: t - 10 }),
              newRun({ job: a, runAt: t + 60_000 }),
              newRun({ job: b, runAt: t + 60_000 }),
              cancelled,
              finished
            ])
            expect(yield* claimJob(store, a, { limit: 1 })).toHaveLength(1)
            expect(yield* store.cancel(cancelled.id)).toBe("cancelled")
            const { claim } = yield* claimOnly(store, finished)
            expect(yield* settleOne(store, { _tag: "Succeeded", id: finished.id, claim })).toBe(true)
            const ours = (yield* store.pendingCounts)
              .filter((count) => [a, b, c].includes(count.job))
              .sort((x, y) => (x.job < y.job ? -1 : 1))
            expect(ours).toEqual([
              { job: a, count: 2 },
              { job: b, count: 1 }
            ])
          }),
        timeout
      )
    })

    describe("waiting", () => {
      test(
        "pending runs whose job or schedule no live instance implements",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const t = yield* store.now
            const [j1, j2, j3, s1, s2] = [uid("J1"), uid("J2"), uid("J3"), uid("S1"), uid("S2")]
            const instance = (id: string, jobs: ReadonlyArray<string>, schedules: ReadonlyArray<string>) =>
              ({ id, name: id, workers: 1, jobs, schedules, pollIntervalMs: 5_000, pollLimit: 10 }) as const
            const live = uid("live")
            const down = uid("down")
            const stale = uid("stale")
            yield* store.registerInstance(instance(live, [j1], [s1]))
            yield* store.registerInstance(instance(down, [j2], [s2]))
            yield* store.shutdownInstance(down, zeroCounters)
            yield* store.registerInstance(instance(stale, [j3], []))

            const implemented = newRun({ job: j1, runAt: t + 1 })
            const unknownJob = newRun({ job: j2, runAt: t + 2 })
            const unknownSchedule = newRun({ job: j1, runAt: t + 3, schedule: s2 })
            const knownSchedule = newRun({ job: j1, runAt: t + 4, schedule: s1 })
            const staleJob = newRun({ job: j3, runAt: t + 5, schedule: s1 })
            const mine = [implemented, unknownJob, unknownSchedule, knownSchedule, staleJob]
            yield* store.insert(mine)
            const ours = (rows: ReadonlyArray<JobStore.WaitingRun>) =>
              rows.filter((row) => mine.some((run) => run.id === row.id))

            yield* waitPast(1_000)
            yield* store.touchInstance(live, zeroCounters)
            const recent = ours(yield* store.waiting(500))
            expect(sortedIds(recent)).toEqual(sortedIds([unknownJob, unknownSchedule, staleJob]))
            expect(recent.find((row) => row.id === unknownSchedule.id)).toEqual({
              id: unknownSchedule.id,
              originId: unknownSchedule.originId,
              job: j1,
              schedule: s2,
              runAt: t + 3
            })
            // within a long window the stale instance counts as live
            expect(sortedIds(ours(yield* store.waiting(600_000)))).toEqual(sortedIds([unknownJob, unknownSchedule]))
            // only pending rows wait
            yield* store.claim({ instanceId: "x", jobs: [j2], schedules: [], limit: 10, leaseMs: 60_000 })
            expect(yield* store.cancel(unknownSchedule.id)).toBe("cancelled")
            expect(sortedIds(ours(yield* store.waiting(600_000)))).toEqual([])
          }),
        timeout
      )
    })

    describe("instances", () => {
      test(
        "register, touch with counters, shutdown, re-register; all listed",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const id = uid("instance")
            const info = {
              id,
              name: "worker ✓",
              workers: 4,
              jobs: [uid("A"), uid("B")],
              schedules: [uid("S")],
              pollIntervalMs: 5_000,
              pollLimit: 1_000
            }
            const find = (instanceId: string) =>
              Effect.map(store.instances, (all) => {
                const found = all.find((instance) => instance.id === instanceId)
                expect(found, `instance ${instanceId} is listed`).toBeDefined()
                return found!
              })

            const before = yield* store.now
            yield* store.registerInstance(info)
            const after = yield* store.now
            const registered = yield* find(id)
            expect(registered).toEqual({
              ...info,
              ...zeroCounters,
              startedAt: registered.startedAt,
              lastSeenAt: registered.startedAt,
              shutdownAt: null
            })
            expect(registered.startedAt).toBeGreaterThanOrEqual(before)
            expect(registered.startedAt).toBeLessThanOrEqual(after)

            yield* waitPast(20)
            yield* store.touchInstance(id, counters(10))
            const touched = yield* find(id)
            expect(touched).toEqual({ ...registered, ...counters(10), lastSeenAt: touched.lastSeenAt })
            expect(touched.lastSeenAt).toBeGreaterThan(registered.lastSeenAt)

            yield* waitPast(20)
            yield* store.shutdownInstance(id, counters(20))
            const down = yield* find(id)
            expect(down).toEqual({
              ...registered,
              ...counters(20),
              lastSeenAt: down.lastSeenAt,
              shutdownAt: down.lastSeenAt
            })
            expect(down.lastSeenAt).toBeGreaterThan(touched.lastSeenAt)

            const other = uid("instance")
            yield* store.registerInstance({ ...info, id: other, jobs: [], schedules: [] })
            yield* waitPast(20)
            const again = { ...info, workers: 8, jobs: [info.jobs[0]!], schedules: [] }
            yield* store.registerInstance(again)
            const reregistered = yield* find(id)
            expect(reregistered).toEqual({
              ...again,
              ...zeroCounters,
              startedAt: reregistered.startedAt,
              lastSeenAt: reregistered.startedAt,
              shutdownAt: null
            })
            expect(reregistered.startedAt).toBeGreaterThan(registered.startedAt)
            expect((yield* find(other)).jobs).toEqual([])
            expect((yield* store.instances).filter((instance) => instance.id === id)).toHaveLength(1)
          }),
        timeout
      )
    })

    leaseCases(test, backend.make, timeout)

    queueCases(test, backend.make, timeout)

    describe("blocking", () => {
      /**
       * Whether `effect` ends in place when run synchronously; when it cannot (it waits on I/O), its
       * fiber, which goes on in the background, is awaited before answering `false`.
       */
      const endsInPlace = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<boolean> =>
        Effect.suspend(() => {
          const exit = Effect.runSyncExit(effect)
          if (Exit.isSuccess(exit)) return Effect.succeed(true)
          const defect = Cause.dieOption(exit.cause)
          return Option.isSome(defect) && Runtime.isAsyncFiberException(defect.value)
            ? Effect.as(Fiber.await(defect.value.fiber), false)
            : Effect.die(Cause.squash(exit.cause))
        })

      test(
        `is declared ${backend.capabilities.blocking}, as its reads and writes end in place or not`,
        () =>
          Effect.gen(function* () {
            const { store } = yield* backend.make
            expect(store.blocking === true).toBe(backend.capabilities.blocking)
            expect(yield* endsInPlace(store.now)).toBe(backend.capabilities.blocking)
            const t = yield* store.now
            const run = newRun({ job: uid("Job"), runAt: t })
            expect(yield* endsInPlace(store.insert([run]))).toBe(backend.capabilities.blocking)
            // the insert went through either way
            expect((yield* store.get(run.id))?.id).toBe(run.id)
          }),
        timeout
      )
    })

    describe("wakeups", () => {
      test(
        "the stream neither fails nor ends",
        () =>
          Effect.gen(function* () {
            const { store, waitPast } = yield* backend.make
            const fiber = yield* Effect.forkScoped(Stream.runDrain(store.wakeups))
            yield* waitPast(200)
            const t = yield* store.now
            yield* insertOne(store, newRun({ job: uid("Job"), runAt: t }))
            yield* waitPast(200)
            expect(yield* Fiber.poll(fiber)).toEqual(Option.none())
          }),
        timeout
      )

      if (backend.capabilities.wakeups) {
        test(
          "an insert from another connection makes the stream emit within 2 s",
          () =>
            Effect.gen(function* () {
              const { store, connect, waitPast } = yield* backend.make
              const other = yield* connect
              const woken = yield* Deferred.make<void>()
              yield* Effect.forkScoped(
                store.wakeups.pipe(Stream.take(1), Stream.runDrain, Effect.zipRight(Deferred.succeed(woken, undefined)))
              )
              yield* waitPast(300) // lets the subscription (e.g. LISTEN) start
              const t = yield* other.now
              yield* insertOne(other, newRun({ job: uid("Job"), runAt: t }))
              yield* Deferred.await(woken).pipe(within(2_000, "a wake-up after an insert"))
            }),
          timeout
        )
      }
    })
  })
}
