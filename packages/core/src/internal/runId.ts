/**
 * The identifier `createRun` returns. It addresses a run for its whole life:
 * its retries and, for scheduled runs, every later occurrence.
 *
 * `RunId.ts` re-exports this module: the runtime's internals import it from here.
 */
import { randomUUID } from "node:crypto"
import * as Schema from "effect/Schema"

/** The format of every run id: a UUID in lowercase hexadecimal (`generate` makes version 7 ones). */
const format = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The rule run ids follow, in words. */
const rule = "a run id is a 36-character lowercase UUID, as createRun returns it"

/** The id of a run, as returned by `Scheduler.createRun`: a lowercase UUID. */
export const RunId = Schema.String.pipe(Schema.pattern(format, { message: () => rule }), Schema.brand("@jobss/RunId"))

/** The id of a run, as returned by `Scheduler.createRun`. */
export type RunId = typeof RunId.Type

/** The rule a value breaks when it cannot be a run id (not a string, or not in the format), or `undefined` when it can. */
export const problem = (id: unknown): string | undefined =>
  typeof id === "string" && format.test(id) ? undefined : rule

/** Builds a `RunId` from a stored string (no validation beyond the brand). */
export const make = (id: string): RunId => id as RunId

/**
 * A new time-ordered identifier (UUID version 7 layout): 48 bits of
 * milliseconds followed by 74 random bits, so ids sort by creation time.
 * The random bits come from `randomUUID`, which draws on a pool of entropy
 * (several times faster than a `randomBytes` call per id).
 */
export const generate = (nowMillis: number): string => {
  const time = (Math.max(0, Math.floor(nowMillis)) % 2 ** 48).toString(16).padStart(12, "0")
  // a version 4 UUID is random apart from its version digit (index 14) and variant bits: keep what follows the version
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`
}
