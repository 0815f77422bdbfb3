/**
 * JobsS core: job definitions, the runtime, the client API and the store interface.
 *
 * @since 0.1.0
 */

/** Errors returned by JobsS. */
export * as JobsSError from "./JobsSError.js"

/** The durable store interface and the in-memory store. */
export * as JobStore from "./JobStore.js"

/** Run identifiers. */
export * as RunId from "./RunId.js"
