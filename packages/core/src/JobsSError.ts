/**
 * The errors JobsS returns. Every error that crosses the public API is a
 * `Schema.TaggedError`, so it can be matched with `Effect.catchTag`.
 *
 * @since 0.1.0
 */
export * from "./internal/errors.js"
export * from "./internal/adminErrors.js"
