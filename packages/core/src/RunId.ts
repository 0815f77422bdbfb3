import { randomBytes } from "node:crypto"
/**
 * The identifier `createRun` returns. It addresses a run for its whole life:
 * its retries and, for scheduled runs, every later occurrence.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** The id of a run, as returned by `Scheduler.createRun`. */
export const RunId = Schema.String.pipe(Schema.brand("@jobss/RunId"))

/** The id of a run, as returned by `Scheduler.createRun`. */
export type RunId = typeof RunId.Type

/** Builds a `RunId` from a stored string (no validation beyond the brand). */
export const make = (id: string): RunId => id as RunId

/**
 * A new time-ordered identifier (UUID version 7 layout): 48 bits of
 * milliseconds followed by 74 random bits, so ids sort by creation time.
 */
export const generate = (nowMillis: number): string => {
  const bytes = randomBytes(16)
  let ms = Math.max(0, Math.floor(nowMillis))
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
