/**
 * `release`: shutdown's last step. The runs still running under a claim of the instance (found by
 * the text every claim of it starts with, `JobStore.ClaimToken.owned`) are handed back through the
 * one fenced `Released` settlement (pending again, the attempt given back, recorded `released`).
 *
 * @internal
 */
import { JobStore } from "@jobss/core"
import * as Effect from "effect/Effect"
import type { Row } from "../dialect.js"
import type { StoreContext } from "./context.js"

/** The store's `release`, over its `settle`. */
export const make = (
  ctx: StoreContext,
  settle: JobStore.JobStoreShape["settle"]
): Pick<JobStore.JobStoreShape, "release"> => {
  const { sql, runs, unit, operation } = ctx

  const release = (instanceId: string, keep: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      // the owned text is hexadecimal digits and a dot: no LIKE wildcard
      const found = yield* unit(
        sql<Row>`SELECT id, claim FROM ${runs}
          WHERE status = 'running' AND claim LIKE ${`${JobStore.ClaimToken.owned(instanceId)}%`}`
      )
      const kept = new Set(keep)
      const held = found
        .map((row) => ({ id: String(row["id"]), claim: String(row["claim"]) }))
        .filter(({ claim }) => !kept.has(claim))
      if (held.length === 0) return 0
      const results = yield* settle(held.map((run): JobStore.Settlement => ({ _tag: "Released", ...run })))
      return results.filter(Boolean).length
    }).pipe(operation("release"))

  return { release }
}
