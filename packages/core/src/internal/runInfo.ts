/**
 * What a running job knows about its run: provided as a Context tag inside
 * the `run` function given to `job.toLayer`.
 *
 * `RunInfo.ts` re-exports this module: the runtime's internals import it from here.
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type { RunId } from "./runId.js"

/** The fields of one attempt of a run, as seen by the job executing it. */
export interface RunInfoShape {
  /** The id of this occurrence (equal to `originId` for a run without a schedule). */
  readonly id: string
  /** The id `createRun` returned: the same for every retry and occurrence. */
  readonly originId: RunId
  /** The unique name, when the run was created with `unique`. */
  readonly name: string | undefined
  /** The job's name. */
  readonly job: string
  /** The decoded arguments. */
  readonly args: unknown
  /** When this attempt was due: the occurrence's due time, or for a retry the retry's. */
  readonly runAt: Date
  /** Attempts started so far, this one included, across all occurrences. */
  readonly runTotalCount: number
  /** Successful occurrences before this one. */
  readonly runSuccessCount: number
  /** The number of successful occurrences after which a scheduled run stops; `undefined` is unlimited. */
  readonly runSuccessLimit: number | undefined
  /** When this attempt started. */
  readonly runStartedAt: Date
  /** The id of the instance running this attempt. */
  readonly runStartedBy: string
  /** The attempt's timeout; `Duration.zero` when disabled. */
  readonly runTimeout: Duration.Duration
  /** When the attempt times out; `undefined` when the timeout is disabled. */
  readonly runTimeoutAt: Date | undefined
  /** Retries used after errors in this occurrence. */
  readonly retriesOnErrorCount: number
  /** The most retries after errors for this occurrence; -1 is unlimited. */
  readonly retriesErrorLimit: number
  /** Retries used after timeouts in this occurrence. */
  readonly retriesOnTimeoutCount: number
  /** The most retries after timeouts for this occurrence; -1 is unlimited. */
  readonly retriesTimeoutLimit: number
  /** Times this occurrence snoozed so far (`Job.snooze`). */
  readonly snoozeCount: number
  /** The schedule's name, for recurring runs. */
  readonly schedule: string | undefined
  /** When the run was created. */
  readonly createdAt: Date
  /** The id of the instance (or client) that created the run. */
  readonly createdBy: string
}

/** The current run, available inside a job's `run` effect. */
export class RunInfo extends Context.Tag("@jobss/core/RunInfo")<RunInfo, RunInfoShape>() {}
