/**
 * What an attempt is given: its arguments, decoded from the stored JSON with
 * the job's Schema (synchronously when the Schema allows, which is the hot
 * path), and its `RunInfo`.
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { ClaimedRun } from "../JobStore.js"
import * as ErrorText from "./errorText.js"
import type { Registration } from "./registry.js"
import { oncePerObject } from "./rules.js"
import * as RunId from "./runId.js"
import type { RunInfoShape } from "./runInfo.js"

/** The `RunInfo` of an attempt of `run`, given its decoded arguments. */
export const runInfo = (run: ClaimedRun, args: unknown): RunInfoShape => ({
  id: run.id,
  originId: RunId.make(run.originId),
  name: run.uniqueName ?? undefined,
  job: run.job,
  args,
  runAt: new Date(run.runAt),
  runTotalCount: run.runTotalCount,
  runSuccessCount: run.runSuccessCount,
  runSuccessLimit: run.runSuccessLimit ?? undefined,
  runStartedAt: new Date(run.startedAt ?? run.runAt),
  runStartedBy: run.startedBy ?? "",
  runTimeout: Duration.millis(run.runTimeoutMs),
  runTimeoutAt: run.timeoutAt === null ? undefined : new Date(run.timeoutAt),
  retriesOnErrorCount: run.retriesErrorCount,
  retriesErrorLimit: run.retriesErrorLimit,
  retriesOnTimeoutCount: run.retriesTimeoutCount,
  retriesTimeoutLimit: run.retriesTimeoutLimit,
  snoozeCount: run.snoozeCount,
  schedule: run.schedule ?? undefined,
  createdAt: new Date(run.createdAt),
  createdBy: run.createdBy
})

const parseJson = (text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text))
  } catch (error) {
    return Either.left(`Stored arguments are not valid JSON: ${String(error)}`)
  }
}

const schemaMismatch = (error: ParseResult.ParseError): string =>
  `Stored arguments do not match the job's Schema: ${ParseResult.TreeFormatter.formatErrorSync(error)}`

/** Whether a synchronous decode could not complete: part of the Schema is asynchronous (or died), at any depth. */
const isForbidden = (issue: ParseResult.ParseIssue): boolean => {
  switch (issue._tag) {
    case "Forbidden":
      return true
    case "Pointer":
    case "Refinement":
    case "Transformation":
      return isForbidden(issue.issue)
    case "Composite":
      return Array.isArray(issue.issues)
        ? issue.issues.some(isForbidden)
        : isForbidden(issue.issues as ParseResult.ParseIssue)
    default:
      return false
  }
}

/** The synchronous decoder of a job's arguments Schema, made once per Schema. */
const syncDecoder = oncePerObject((schema: Schema.Schema<unknown, unknown>) => Schema.decodeUnknownEither(schema))

/**
 * Decodes the stored JSON with the job's Schema (a failure is a readable message); `undefined` when the
 * synchronous decode cannot complete (an asynchronous Schema) or throws: `decodeArgsAsync` answers then.
 */
export const decodeArgs = (registration: Registration, text: string): Either.Either<unknown, string> | undefined => {
  const json = parseJson(text)
  if (Either.isLeft(json)) return json
  try {
    const decoded = syncDecoder(registration.job.args)(json.right)
    if (Either.isRight(decoded)) return Either.right(decoded.right)
    return isForbidden(decoded.left.issue) ? undefined : Either.left(schemaMismatch(decoded.left))
  } catch {
    return undefined
  }
}

/** `decodeArgs` with the Schema's effects: asynchronous ones, and defects of the Schema's code, which end the run like a mismatch. */
export const decodeArgsAsync = (registration: Registration, text: string): Effect.Effect<unknown, string> =>
  Effect.flatMap(parseJson(text), (json) =>
    Effect.suspend(() => Schema.decodeUnknown(registration.job.args)(json)).pipe(
      Effect.mapError(schemaMismatch),
      Effect.catchAllDefect((defect) =>
        Effect.fail(
          `Decoding the stored arguments with the job's Schema failed: ${ErrorText.fromCause(Cause.die(defect))}`
        )
      )
    )
  )
