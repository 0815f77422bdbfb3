import type * as Effect from "effect/Effect"
/**
 * Queues as a store keeps them: the checked definition an instance writes, the
 * stored row (definition, `paused` flag, who wrote it last), and the store
 * operations on them. `definitionOf` checks a `JobQueue` once per object.
 *
 * @internal
 */
import * as Either from "effect/Either"
import { InvalidQueue, type JobStoreError } from "./errors.js"
import type { JobQueue } from "./jobQueue.js"
import * as Names from "./names.js"
import { type Check, count, duration, isObject, oncePerObject, refuse, show } from "./rules.js"

/** A queue's limits as stored, in milliseconds and counts; `null` is unlimited. */
export interface QueueDefinition {
  /** The queue's name. */
  readonly name: string
  /** The most running attempts of the queue cluster-wide (per partition when `partitioned`). */
  readonly concurrency: number | null
  /** The most running attempts of the queue on one instance. */
  readonly workerConcurrency: number | null
  /** The most attempt starts in any window of `ratePeriodMs` (per partition when `partitioned`). */
  readonly rateLimit: number | null
  /** The rate limit's window, milliseconds (`null` exactly when `rateLimit` is). */
  readonly ratePeriodMs: number | null
  /** Whether `concurrency` and `rateLimit` hold per partition key. */
  readonly partitioned: boolean
}

/** A stored queue: the definition written last, and whether it is paused. */
export interface StoredQueue extends QueueDefinition {
  /** Whether the queue is paused: no instance starts its runs. */
  readonly paused: boolean
  /** The instance that wrote the definition last; `null` when only `pauseQueue` wrote the row (no limits known). */
  readonly definedBy: string | null
  /** When the row was written last, epoch milliseconds on the store clock. */
  readonly updatedAt: number
}

/** The store operations on queues (part of `JobStoreShape`). */
export interface QueueOperations {
  /** Writes a queue's definition (the paused flag stays); returns the row as it was before, if any. */
  readonly registerQueue: (
    definition: QueueDefinition,
    instanceId: string
  ) => Effect.Effect<StoredQueue | undefined, JobStoreError>
  /** Sets a queue's paused flag, storing a row without limits when none exists; resuming wakes the instances. */
  readonly pauseQueue: (name: string, paused: boolean) => Effect.Effect<void, JobStoreError>
  /** Every stored queue, by name. */
  readonly queues: Effect.Effect<ReadonlyArray<StoredQueue>, JobStoreError>
  /** The running and pending runs of each queue that has any (a stored definition or not), by name. */
  readonly queueCounts: Effect.Effect<ReadonlyArray<QueueCount>, JobStoreError>
}

/** How many runs of a queue are running and pending. */
export interface QueueCount {
  /** The queue's name. */
  readonly queue: string
  /** Its running runs (claimed, not yet settled), on every instance. */
  readonly running: number
  /** Its pending runs (due or not). */
  readonly pending: number
}

const limit = count(1)

/** A rate limit's `{ limit, period }`, checked. */
const rateOf = (input: unknown): Either.Either<readonly [number, number], string> => {
  if (!isObject(input)) return refuse("rateLimit must be an object { limit, period }", input)
  const { limit: max, period } = input as { readonly limit?: unknown; readonly period?: unknown }
  return Either.all([
    Either.mapLeft(limit(max), (why) => `rateLimit.limit ${why}`),
    Either.mapLeft(duration(1)(period), (why) => `rateLimit.period ${why}`)
  ])
}

const optionalLimit = (field: string, input: unknown): Either.Either<number | null, string> =>
  input === undefined ? Either.right(null) : Either.mapLeft(limit(input), (why) => `${field} ${why}`)

/** Checks a queue definition: its stored form, or `InvalidQueue` naming the field, the value and the rule. */
export const definitionOf: (queue: JobQueue) => Either.Either<QueueDefinition, InvalidQueue> = oncePerObject(
  (queue) => {
    const name: unknown = isObject(queue) ? queue.name : undefined
    const fail = (message: string) =>
      Either.left(new InvalidQueue({ queue: typeof name === "string" ? name : Names.quote(name), message }))
    if (!isObject(queue) || queue._tag !== "JobQueue")
      return fail(`queue must be made by JobQueue.make, got ${show(queue)}`)
    const badName = Names.check("queue name", name)
    if (badName !== undefined) return fail(badName)
    const checked = Either.all({
      concurrency: optionalLimit("concurrency", queue.concurrency),
      workerConcurrency: optionalLimit("workerConcurrency", queue.workerConcurrency),
      rate: queue.rateLimit === undefined ? Either.right(undefined) : rateOf(queue.rateLimit),
      partitioned:
        typeof queue.partitioned === "boolean"
          ? Either.right(queue.partitioned)
          : refuse("partitioned must be true or false", queue.partitioned)
    })
    if (Either.isLeft(checked)) return fail(`queue ${queue.name}: ${checked.left}`)
    const { concurrency, partitioned, rate, workerConcurrency } = checked.right
    return Either.right({
      name: queue.name,
      concurrency,
      workerConcurrency,
      rateLimit: rate?.[0] ?? null,
      ratePeriodMs: rate?.[1] ?? null,
      partitioned
    })
  }
)

/** Whether two definitions have the same limits. */
export const sameLimits = (a: QueueDefinition, b: QueueDefinition): boolean =>
  a.concurrency === b.concurrency &&
  a.workerConcurrency === b.workerConcurrency &&
  a.rateLimit === b.rateLimit &&
  a.ratePeriodMs === b.ratePeriodMs &&
  a.partitioned === b.partitioned

/** A definition's limits in words, for logs: `concurrency 5, workerConcurrency 2, rateLimit 100 per 60000 ms`. */
export const describe = (definition: QueueDefinition): string => {
  const parts = [
    definition.concurrency === null ? undefined : `concurrency ${definition.concurrency}`,
    definition.workerConcurrency === null ? undefined : `workerConcurrency ${definition.workerConcurrency}`,
    definition.rateLimit === null ? undefined : `rateLimit ${definition.rateLimit} per ${definition.ratePeriodMs} ms`,
    definition.partitioned ? "partitioned" : undefined
  ].filter((part) => part !== undefined)
  return parts.length === 0 ? "unlimited" : parts.join(", ")
}

/** A priority (lower starts first): an integer in the range of the database's `int` columns. */
export const priority: Check<number> = (input) =>
  typeof input === "number" && Number.isSafeInteger(input) && input >= -2_147_483_648 && input <= 2_147_483_647
    ? Either.right(input)
    : refuse("must be an integer from -2147483648 to 2147483647 (lower starts first)", input)
