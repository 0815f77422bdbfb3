/**
 * What makes the dashboard safe to expose: the CSRF token (an HMAC of a secret, in a hidden field of
 * every form) and the same-origin check of state-changing requests (`Origin`, `Sec-Fetch-Site`), the
 * response headers (a Content-Security-Policy allowing only this response's inline script and style,
 * no framing, no caching), and constant-time comparisons for the auth helpers.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import type { HttpServerRequest } from "@effect/platform"

/** The name of the hidden form field that carries the CSRF token. */
export const csrfField = "_csrf"

/** The CSRF token of a secret: every form of the dashboard carries it; a POST without it is refused. */
export const csrfToken = (secret: string): string =>
  createHmac("sha256", secret).update("jobss-dashboard-csrf-v1").digest("base64url")

/** A fresh random secret (the default: tokens are valid in this process only). */
export const randomSecret = (): string => randomBytes(32).toString("base64url")

/** Whether two texts are equal, in time independent of where they differ. */
export const sameText = (a: string, b: string): boolean =>
  timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest())

/**
 * Why a state-changing request is refused as cross-site, or `undefined`: a browser's
 * `Sec-Fetch-Site` must say `same-origin` (or `none`, typed by the user), and an `Origin` must name
 * the host the request was sent to.
 */
export const crossSite = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
  const site = request.headers["sec-fetch-site"]
  if (site !== undefined && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site is ${site}`
  const origin = request.headers["origin"]
  if (origin === undefined) return undefined
  const host = request.headers["host"]
  let originHost: string | undefined
  try {
    originHost = new URL(origin).host
  } catch {
    originHost = undefined
  }
  return originHost !== undefined && originHost === host ? undefined : `Origin ${origin} is not this server`
}

/** A nonce for one response's inline script and style. */
export const nonce = (): string => randomBytes(16).toString("base64")

/** The headers of every page: only this page's inline script and style run, nothing is framed or cached. */
export const pageHeaders = (scriptNonce: string): Record<string, string> => ({
  "content-security-policy": [
    "default-src 'none'",
    `script-src 'nonce-${scriptNonce}'`,
    `style-src 'nonce-${scriptNonce}'`,
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'"
  ].join("; "),
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cache-control": "no-store"
})
