/**
 * What a running job knows about its run: provided as a Context tag inside
 * the `run` function given to `job.toLayer`.
 *
 * @since 0.1.0
 */
export * from "./internal/runInfo.js"
