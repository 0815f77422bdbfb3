/**
 * Named schedules: each says when the next occurrence of a recurring run is due.
 * An instance claims scheduled runs only for the schedules it was given
 * (`JobsS.layer({ schedules })`), because the next time is computed in code.
 *
 * @since 0.1.0
 */
export * from "./internal/jobSchedule.js"
