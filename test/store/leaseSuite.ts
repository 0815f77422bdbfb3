/**
 * The store conformance cases of named leases (`acquireLease`, `releaseLease`, `lease`), part of
 * `storeSuite`: acquire when free, renew by the holder, refused while another holds it, taken over
 * once expired, given up at shutdown, and the holder's jobs and schedules with the lease. Two
 * connections play two instances, so on SQL the fence is the database's.
 */
import { randomUUID } from "node:crypto"
import { describe, expect } from "@effect/vitest"
import type { Effect, Scope } from "effect"
import { Effect as E } from "effect"
import type { StoreHarness } from "./storeSuite.js"

type Test = (name: string, self: () => Effect.Effect<unknown, unknown, Scope.Scope>, timeout?: number) => void

const uid = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`

/** Declares the lease cases with the suite's `test` and harness. */
export const leaseCases = (
  test: Test,
  make: Effect.Effect<StoreHarness, unknown, Scope.Scope>,
  timeout: number
): void => {
  describe("leases", () => {
    test(
      "acquire when free (never taken), renew by the holder; refused to another while it lasts",
      () =>
        E.gen(function* () {
          const { store, connect } = yield* make
          const other = yield* connect
          const name = uid("lease")
          const [a, b] = [uid("instance-a"), uid("instance-b")]
          expect(yield* store.lease(name)).toBeUndefined()

          const before = yield* store.now
          expect(yield* store.acquireLease({ name, holder: a, leaseMs: 60_000 })).toBe(true)
          const after = yield* store.now
          const taken = yield* store.lease(name)
          expect(taken).toMatchObject({ name, holder: a, live: true, jobs: [], schedules: [] })
          expect(taken!.leaseUntil).toBeGreaterThanOrEqual(before + 60_000)
          expect(taken!.leaseUntil).toBeLessThanOrEqual(after + 60_000)

          expect(yield* other.acquireLease({ name, holder: b, leaseMs: 60_000 })).toBe(false)
          expect(yield* other.lease(name)).toMatchObject({ holder: a, live: true })
          // a release by a non-holder changes nothing
          yield* other.releaseLease(name, b)
          expect(yield* other.acquireLease({ name, holder: b, leaseMs: 60_000 })).toBe(false)

          expect(yield* store.acquireLease({ name, holder: a, leaseMs: 120_000 })).toBe(true)
          const renewed = yield* store.lease(name)
          expect(renewed!.holder).toBe(a)
          expect(renewed!.leaseUntil).toBeGreaterThanOrEqual(before + 120_000)
        }),
      timeout
    )

    test(
      "taken over by another holder once expired; the old holder is refused then",
      () =>
        E.gen(function* () {
          const { store, connect, waitPast } = yield* make
          const other = yield* connect
          const name = uid("lease")
          const [a, b] = [uid("instance-a"), uid("instance-b")]
          expect(yield* store.acquireLease({ name, holder: a, leaseMs: 300 })).toBe(true)
          expect(yield* other.acquireLease({ name, holder: b, leaseMs: 60_000 })).toBe(false)
          yield* waitPast(300)
          expect(yield* store.lease(name)).toMatchObject({ holder: a, live: false })
          expect(yield* other.acquireLease({ name, holder: b, leaseMs: 60_000 })).toBe(true)
          expect(yield* store.acquireLease({ name, holder: a, leaseMs: 300 })).toBe(false)
          expect(yield* store.lease(name)).toMatchObject({ holder: b, live: true })
        }),
      timeout
    )

    test(
      "given up by its holder (shutdown): another holder takes it at once",
      () =>
        E.gen(function* () {
          const { store, connect } = yield* make
          const other = yield* connect
          const name = uid("lease")
          const [a, b] = [uid("instance-a"), uid("instance-b")]
          expect(yield* store.acquireLease({ name, holder: a, leaseMs: 60_000 })).toBe(true)
          yield* store.releaseLease(name, a)
          expect(yield* store.lease(name)).toMatchObject({ holder: a, live: false })
          expect(yield* other.acquireLease({ name, holder: b, leaseMs: 60_000 })).toBe(true)
          // the old holder's late release does not free the new holder's lease
          yield* store.releaseLease(name, a)
          expect(yield* store.lease(name)).toMatchObject({ holder: b, live: true })
        }),
      timeout
    )

    test(
      "leases of different names are independent; the lease shows its holder's jobs and schedules",
      () =>
        E.gen(function* () {
          const { store, connect } = yield* make
          const other = yield* connect
          const [first, second] = [uid("lease"), uid("lease")]
          const [a, b] = [uid("instance-a"), uid("instance-b")]
          const jobs = [uid("Job"), uid("Job")]
          const schedules = [uid("Schedule")]
          yield* store.registerInstance({
            id: a,
            name: "a",
            workers: 1,
            jobs,
            schedules,
            pollIntervalMs: 1_000,
            pollLimit: 10
          })
          expect(yield* store.acquireLease({ name: first, holder: a, leaseMs: 60_000 })).toBe(true)
          expect(yield* other.acquireLease({ name: second, holder: b, leaseMs: 60_000 })).toBe(true)
          expect(yield* other.lease(first)).toMatchObject({ holder: a, jobs, schedules })
          expect(yield* store.lease(second)).toMatchObject({ holder: b, jobs: [], schedules: [] })
        }),
      timeout
    )
  })
}
