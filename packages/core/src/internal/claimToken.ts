/**
 * The claim token, the fencing token of one claim of one run: `<prefix><id>`, where the prefix is a
 * fresh random UUID followed by a colon (`<uuid>:`) and `id` is the claimed row's id. One prefix may
 * serve a whole batch of claims, since each token ends with its own row's id; a UUID has no colon,
 * so the id is everything after the first colon. Stores that build tokens in SQL concatenate the
 * prefix (a bound parameter) with the `id` column (`Dialect.claimTokens` in `@jobss/sql`, and the
 * PostgreSQL claim function of migration 4, `p_token || r.id`).
 *
 * @internal
 */
import { randomUUID } from "node:crypto"

/** A fresh prefix for the claims of one batch: a random UUID and a colon. */
export const prefix = (): string => `${randomUUID()}:`

/** The token of one claimed row: the batch's `prefix`, then the row's id. */
export const make = (prefix: string, id: string): string => `${prefix}${id}`

/** The row id a token was made for (the text after its first colon). */
export const idOf = (token: string): string => token.slice(token.indexOf(":") + 1)

/** Whether `token` has the form of a claim of row `id` (a prefix, then `id`). */
export const isFor = (token: string, id: string): boolean => {
  const colon = token.indexOf(":")
  return colon >= 0 && token.slice(colon + 1) === id
}
