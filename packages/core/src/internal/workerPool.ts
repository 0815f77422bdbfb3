/**
 * The worker pool. Claimed runs wait in a small local buffer (held under lease
 * like any claim: the heartbeat extends them, shutdown hands them back, cancel
 * and lost claims drop them) until a worker permit is free; each then runs as
 * an attempt (`attempt.ts`) in its own fiber. A permit is free again as soon as
 * the attempt ends: its ending goes to completion (`completion.ts`), which
 * writes it in a shared batch, fenced by the claim.
 *
 * Every claim held here is an entry, and every change of an entry's state goes
 * through `transition` (buffered → running → settling → done, or straight to
 * done when nothing is to be written): it alone removes an entry from the
 * buffer and forgets it, so no path leaves a claim the heartbeat extends forever.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { ClaimedRun, JobStoreShape } from "../JobStore.js"
import * as Attempt from "./attempt.js"
import type { ClaimAhead } from "./claimAhead.js"
import * as Completion from "./completion.js"
import type { Counters } from "./counters.js"
import * as LocalClock from "./localClock.js"
import * as outcomes from "./outcome.js"
import type { Registry } from "./registry.js"
import * as RunMetrics from "./runMetrics.js"
import type { StoreClock } from "./storeClock.js"

/** A claim this instance holds, for the heartbeat. */
export interface Held {
  readonly id: string
  readonly claim: string
  /** Its attempt started and the store has not recorded that yet (`JobStoreShape.extend`'s `dispatched`). */
  readonly unreported: boolean
}

/** The worker pool of an instance. */
export interface WorkerPool {
  /** How many runs to claim now: 0 while enough runs are running and buffered. */
  readonly wanted: Effect.Effect<number>
  /** Takes claimed runs: they start on free workers, the rest wait in the buffer. */
  readonly offer: (runs: ReadonlyArray<ClaimedRun>) => Effect.Effect<void>
  /** The claims of runs buffered, executing or being settled. */
  readonly held: Effect.Effect<ReadonlyArray<Held>>
  /** The claims of runs whose attempt is executing (after shutdown: those that did not end when interrupted). */
  readonly executing: Effect.Effect<ReadonlyArray<string>>
  /** Stops a run for the outcome `stop` if this instance holds it under `claim` (any claim when omitted). */
  readonly stop: (id: string, stop: outcomes.Stop, claim?: string) => Effect.Effect<void>
  /** Stops the occurrence of a run held here, by its `RunId`, for the outcome `stop`. */
  readonly stopOrigin: (originId: string, stop: outcomes.Stop) => Effect.Effect<void>
  /** Records that the store extended these claims until `until` (store clock ms) and recorded the starts of `started`. */
  readonly renewed: (
    claims: ReadonlyArray<string>,
    until: number,
    started: ReadonlyArray<string>
  ) => Effect.Effect<void>
  /** Hands back buffered runs that waited longer than `ms` (the claim-ahead guess was wrong). */
  readonly releaseStale: (ms: number) => Effect.Effect<void>
  /** Settles an attempt decided outside a worker (the reaper) and waits; retries store errors. */
  readonly settle: (run: ClaimedRun, ending: outcomes.Ending) => Effect.Effect<boolean>
  /**
   * Shutdown: hands back buffered runs, waits up to `timeoutMs` for running ones, interrupts and hands back the
   * rest; runs that do not end when interrupted are waited for as long again (at least a second), then left.
   */
  readonly drain: (timeoutMs: number) => Effect.Effect<void>
}

/** What a worker pool needs. */
export interface WorkerPoolOptions {
  readonly store: JobStoreShape
  readonly registry: Registry
  readonly counters: Counters
  readonly clock: StoreClock
  readonly workers: number
  /** Sizes the buffer of claimed runs waiting for a worker. */
  readonly ahead: ClaimAhead
  /** How long a settlement is retried through store errors before the lease is left to expire. */
  readonly settleRetryMs: number
  /**
   * A held claim whose lease the heartbeat did not renew is given up this long before the lease ends
   * (on the store clock): its attempt is interrupted and nothing is written, before another instance
   * can take the run over. Checked every half of it.
   */
  readonly leaseMarginMs: number
  /** The largest encoded result accepted, in bytes (`maxArgsBytes`). */
  readonly maxResultBytes: number
  /** Called when the poller should claim again (the buffer ran low). */
  readonly onDemand: () => void
  /** Called when settled runs are pending again (retries, next occurrences): their due times may be the nearest. */
  readonly onRequeued: Effect.Effect<void>
  /** Called when this instance lets go of a run in a queue (its settlement written): a slot of the queue may be free. */
  readonly onSlotFreed: () => void
}

/** The shortest wait at shutdown for interrupted runs to end. */
const minInterruptWaitMs = 1_000

/** Where a held claim is: waiting for a worker, in an attempt, its outcome being written, or forgotten. */
type State = "buffered" | "running" | "settling" | "done"

/** A claim held by this instance, from the claim to the end of its settlement. */
interface Entry extends Attempt.Slot {
  state: State
  /** When it entered the buffer (`Clock` ms). */
  readonly bufferedAt: number
  /** Until when the store holds the claim for us, as far as we know (store clock ms). */
  leaseUntil: number
  /** Whether the store recorded the start of its attempt (a heartbeat reported it). */
  reported: boolean
}

/** Builds the worker pool in the current scope. */
export const make = (options: WorkerPoolOptions): Effect.Effect<WorkerPool, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { ahead, counters, registry, workers } = options
    // the per-run bookkeeping is plain code (see attempt.ts), so it reads the clocks without effects:
    // Effect's `Clock` (`TestClock` in tests) and the store clock
    const clock = yield* Effect.clock
    const localNow = () => LocalClock.unsafeMillis(clock)
    const storeNow = options.clock.unsafeNow
    const metricsOf = yield* RunMetrics.make
    /** Every claim held here, by claim token (a run id may come back under a new claim before we forget the old). */
    const entries = new Map<string, Entry>()
    const buffer: Array<Entry> = []
    /** Worker permits taken: from the start of an attempt until its outcome is handed to completion. */
    let running = 0
    let lowWater = 0
    let stopping = false
    let idle: Deferred.Deferred<void> | undefined

    /** The one place an entry changes state: it leaves the buffer here, and is forgotten here. */
    const transition = (entry: Entry, to: State): void => {
      if (entry.state === "buffered") {
        const index = buffer.indexOf(entry)
        if (index >= 0) buffer.splice(index, 1)
      }
      entry.state = to
      if (to !== "done") return
      entries.delete(entry.run.claim)
      if (entry.run.queue !== null) options.onSlotFreed()
    }

    const completion = yield* Completion.make({
      store: options.store,
      registry,
      counters,
      metricsOf,
      storeNow,
      settleRetryMs: options.settleRetryMs,
      onRequeued: options.onRequeued,
      caughtUp: () => {
        if (buffer.length <= lowWater && !stopping) options.onDemand()
      }
    })

    /** Hands an entry's ending to completion (`random` only matters for retries); forgotten once written. */
    const submitWith = (entry: Entry, ending: outcomes.Ending, random: number): void => {
      transition(entry, "settling")
      completion.submit(entry.run, ending, random, () => transition(entry, "done"))
    }

    /** `submitWith`, reading `Random` first for endings that may retry. */
    const submit = (entry: Entry, ending: outcomes.Ending): Effect.Effect<void> =>
      Completion.needsRandom(ending)
        ? Effect.flatMap(Random.next, (random) => Effect.sync(() => submitWith(entry, ending, random)))
        : Effect.sync(() => submitWith(entry, ending, 0))

    /** A worker is free again: start the next run, ask for more when the buffer runs low. */
    const finished = (entry: Entry): void => {
      running -= 1
      ahead.completed()
      entry.fiber = undefined
      if (running === 0 && idle !== undefined) Deferred.unsafeDone(idle, Effect.void)
      dispatch()
      if (buffer.length <= lowWater && !stopping) options.onDemand()
    }

    /** An attempt ended: its ending goes to completion (in a fiber when it logs or reads `Random`) and the worker is free. */
    const ended: Attempt.Ended<Entry> = (entry, ending, first) => {
      if (ending === undefined) {
        // the claim was lost: nothing to write; the warning is logged while the worker is freed
        transition(entry, "done")
        attempts.background(
          Effect.logWarning(
            "Run interrupted: this instance lost its claim (another instance took it over, or its lease could not be renewed in time)"
          ).pipe(Effect.annotateLogs({ runId: entry.run.originId, job: entry.run.job }))
        )
        finished(entry)
        return
      }
      if (first === undefined && !Completion.needsRandom(ending)) {
        submitWith(entry, ending, 0)
        finished(entry)
        return
      }
      entry.fiber = attempts.background(
        (first ?? Effect.void).pipe(
          Effect.zipRight(submit(entry, ending)),
          Effect.ensuring(Effect.sync(() => finished(entry))),
          Effect.annotateLogs({ runId: entry.run.originId, job: entry.run.job })
        )
      )
    }

    const attempts = yield* Attempt.make<Entry>({
      registry,
      counters,
      metricsOf,
      storeNow,
      maxResultBytes: options.maxResultBytes,
      ended
    })

    /** Starts buffered runs on free workers. */
    const dispatch = (): void => {
      if (running >= workers || buffer.length === 0 || stopping) return
      const now = storeNow()
      const local = localNow()
      while (running < workers && buffer.length > 0 && !stopping) {
        const entry = buffer[0]!
        if (entry.leaseUntil <= now) {
          // the claim expired while it waited (a frozen process, a lost database): never start it,
          // another instance may have taken it over
          transition(entry, "done")
          continue
        }
        transition(entry, "running")
        running += 1
        attempts.start(entry, now, local)
      }
    }

    /** Stops a held run: a running one is interrupted, a buffered one is settled (or dropped) at once. */
    const stopEntry = (entry: Entry, stop: outcomes.Stop): Effect.Effect<void> => {
      switch (entry.state) {
        case "running":
          return attempts.interrupt(entry, stop)
        case "settling":
        case "done":
          return Effect.void
        case "buffered": {
          const ending = outcomes.stopped(entry.run, stop)
          return ending === undefined ? Effect.sync(() => transition(entry, "done")) : submit(entry, ending)
        }
      }
    }

    /**
     * Gives up the claims whose lease ends within the margin (the store did not answer the heartbeat:
     * a lost connection, a partition, an exhausted pool): the run may soon run elsewhere.
     */
    const guardLeases: Effect.Effect<void> = Effect.suspend(() => {
      const limit = storeNow() + options.leaseMarginMs
      const expiring = [...entries.values()].filter(
        (entry) => (entry.state === "running" || entry.state === "buffered") && entry.leaseUntil <= limit
      )
      return Effect.forEach(expiring, (entry) => stopEntry(entry, "lost"), { discard: true })
    })
    yield* Effect.forkScoped(
      guardLeases.pipe(
        Effect.repeat(Schedule.spaced(Duration.millis(Math.max(1, options.leaseMarginMs / 2)))),
        Effect.annotateLogs({ fiber: "leaseGuard" })
      )
    )

    const awaitIdle: Effect.Effect<void> = Effect.suspend(() => {
      if (running === 0) return Effect.void
      if (idle !== undefined) return Deferred.await(idle)
      return Effect.flatMap(Deferred.make<void>(), (created) => {
        idle = created
        return Deferred.await(created)
      })
    })

    /** Waits up to `ms` for no run to be running; `None` when some still are. */
    const idleWithin = (ms: number): Effect.Effect<Option.Option<void>> =>
      // shutdown runs in a finalizer (uninterruptible): the wait must be interruptible for the timeout to win
      awaitIdle.pipe(Effect.interruptible, Effect.timeout(Duration.millis(ms)), Effect.option)

    return {
      wanted: Effect.map(LocalClock.millis, (now) => {
        const target = ahead.target(now)
        lowWater = Math.floor(target / 2)
        if (stopping || buffer.length > lowWater || completion.backlog() > Completion.settleBacklog) return 0
        return Math.max(0, workers + target - running - buffer.length)
      }),
      offer: (runs) =>
        Effect.sync(() => {
          const now = localNow()
          for (const run of runs) {
            const entry: Entry = {
              run,
              state: "buffered",
              bufferedAt: now,
              leaseUntil: run.leaseUntil ?? Number.POSITIVE_INFINITY,
              stop: undefined,
              fiber: undefined,
              dispatched: false,
              reported: false
            }
            entries.set(run.claim, entry)
            buffer.push(entry)
          }
          dispatch()
        }),
      held: Effect.sync(() =>
        [...entries.values()].map(({ dispatched, reported, run }) => ({
          id: run.id,
          claim: run.claim,
          unreported: dispatched && !reported
        }))
      ),
      executing: Effect.sync(() =>
        [...entries.values()].filter((entry) => entry.state === "running").map(({ run }) => run.claim)
      ),
      stop: (id, stop, claim) =>
        Effect.suspend(() => {
          const entry =
            claim === undefined ? [...entries.values()].find((held) => held.run.id === id) : entries.get(claim)
          return entry === undefined || entry.run.id !== id ? Effect.void : stopEntry(entry, stop)
        }),
      stopOrigin: (originId, stop) =>
        Effect.forEach(
          [...entries.values()].filter(({ run }) => run.originId === originId),
          (entry) => stopEntry(entry, stop),
          { discard: true }
        ),
      renewed: (claims, until, started) =>
        Effect.sync(() => {
          for (const claim of claims) {
            const entry = entries.get(claim)
            if (entry !== undefined) entry.leaseUntil = until
          }
          for (const claim of started) {
            const entry = entries.get(claim)
            if (entry !== undefined) entry.reported = true
          }
        }),
      releaseStale: (ms) =>
        Effect.flatMap(LocalClock.millis, (now) =>
          Effect.forEach(
            buffer.filter((entry) => now - entry.bufferedAt > ms),
            (entry) => stopEntry(entry, "released"),
            { discard: true }
          )
        ),
      settle: completion.settle,
      drain: (timeoutMs) =>
        Effect.gen(function* () {
          stopping = true
          yield* Effect.forEach([...buffer], (entry) => stopEntry(entry, "released"), { discard: true })
          if (Option.isNone(yield* idleWithin(timeoutMs))) {
            const remaining = [...entries.values()].filter((entry) => entry.state === "running")
            yield* Effect.logInfo(`Shutdown: interrupting ${remaining.length} runs and handing them back`)
            yield* Effect.forEach(remaining, (entry) => attempts.interrupt(entry, "released"), { discard: true })
            // a run that cannot end (its fiber broke inside Effect's runtime) must not hold the shutdown forever
            if (Option.isNone(yield* idleWithin(Math.max(timeoutMs, minInterruptWaitMs)))) {
              yield* Effect.logError(
                `Shutdown: ${running} runs did not end when interrupted; their claims are left to expire, ` +
                  "and another instance takes them over"
              )
            }
          }
          yield* completion.flush
        })
    }
  })
