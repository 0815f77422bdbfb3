/**
 * The claim token, the fencing token of one claim of one run: `<owner>.<nonce>:<id>`, where `owner`
 * is 16 hexadecimal digits derived from the claiming instance's id (the same for all its claims and
 * takeovers), `nonce` 16 fresh random hexadecimal digits, and `id` the claimed row's id. The text
 * before the colon is the prefix; one prefix may serve a whole batch of claims, since each token
 * ends with its own row's id. A prefix has no colon, so the id is everything after the first colon;
 * every prefix of one instance starts with `owned(instanceId)`, so a store can find the claims an
 * instance holds without knowing them (`JobStoreShape.release`). Stores that build tokens in SQL
 * concatenate the prefix (a bound parameter) with the `id` column (`Dialect.claimTokens` in
 * `@jobss/sql`, and the PostgreSQL claim function of migration 4, `p_token || r.id`).
 *
 * @internal
 */
import { createHash, randomUUID } from "node:crypto"

/** The text that starts every claim prefix of the instance `instanceId`: 16 hexadecimal digits and a dot. */
export const owned = (instanceId: string): string =>
  `${createHash("sha256").update(instanceId).digest("hex").slice(0, 16)}.`

/** A fresh prefix for the claims of one batch by the instance `instanceId`: its `owned` text, a nonce and a colon. */
export const prefix = (instanceId: string): string =>
  `${owned(instanceId)}${randomUUID().replaceAll("-", "").slice(0, 16)}:`

/** The token of one claimed row: the batch's `prefix`, then the row's id. */
export const make = (prefix: string, id: string): string => `${prefix}${id}`

/** The row id a token was made for (the text after its first colon). */
export const idOf = (token: string): string => token.slice(token.indexOf(":") + 1)

/** Whether `token` has the form of a claim of row `id` (a prefix, then `id`). */
export const isFor = (token: string, id: string): boolean => {
  const colon = token.indexOf(":")
  return colon >= 0 && token.slice(colon + 1) === id
}
