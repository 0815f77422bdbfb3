/**
 * JobsS web dashboard: `JobsSDashboard.router(options)`, an `@effect/platform` HTTP router.
 *
 * @since 0.2.0
 */

/** The dashboard's router, its options and its auth helpers. */
export * as JobsSDashboard from "./JobsSDashboard.js"
