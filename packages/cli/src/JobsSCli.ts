/**
 * The `jobss` command, also usable from a program: `JobsSCli.run(process.argv)` runs it and
 * returns its exit code (0: done; 1: an error, printed on stderr; 2: a usage error, with the help).
 *
 * @since 0.2.0
 */
import { type CliApp, Command, ValidationError } from "@effect/cli"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { jobss } from "./internal/commands.js"

/** The version `jobss --version` prints. */
export const version = "0.2.0"

/** The message of a failure, for stderr. */
const messageOf = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const tag = "_tag" in error ? String(error._tag) : "Error"
    const message = "message" in error ? String(error.message) : String(error)
    return tag === "SomeRunsUnchanged" ? message : `${tag}: ${message}`
  }
  return String(error)
}

/**
 * Runs `jobss` on a command line (`process.argv`: the runtime and the script first) and returns
 * its exit code: 0 when it succeeded, 2 for a usage error (after the help), 1 for anything else
 * (the error printed on stderr).
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  Command.run(jobss, { name: "jobss", version })(argv).pipe(
    Effect.exit,
    Effect.flatMap((exit) => {
      if (Exit.isSuccess(exit)) return Effect.succeed(0)
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some" && ValidationError.isValidationError(failure.value)) return Effect.succeed(2)
      const shown = failure._tag === "Some" ? messageOf(failure.value) : Cause.pretty(exit.cause)
      return Effect.as(Console.error(shown), 1)
    })
  )
