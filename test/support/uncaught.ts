/** Watching the test process for errors nothing handled: what would kill a real instance's process. */
import { Effect, type Scope } from "effect"

/** Errors that reached the process (uncaught exceptions, unhandled rejections) while the watch lasted. */
export interface Uncaught {
  readonly errors: ReadonlyArray<unknown>
}

/** Records uncaught exceptions and unhandled rejections until the scope closes (Node would exit on either). */
export const watchUncaught: Effect.Effect<Uncaught, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => {
    const errors: Array<unknown> = []
    const record = (error: unknown) => {
      errors.push(error)
    }
    process.on("uncaughtException", record)
    process.on("unhandledRejection", record)
    return { errors, record }
  }),
  ({ record }) =>
    Effect.sync(() => {
      process.off("uncaughtException", record)
      process.off("unhandledRejection", record)
    })
).pipe(Effect.map(({ errors }) => ({ errors })))
