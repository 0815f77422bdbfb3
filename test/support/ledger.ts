/** A record of job executions in one test process, for asserting who ran what, when and how often. */
import { RunInfo } from "@jobss/core"
import { Effect } from "effect"

/** One attempt as the job saw it. */
export interface Execution {
  readonly job: string
  readonly id: string
  readonly originId: string
  readonly instance: string
  readonly attempt: number
  readonly args: unknown
  readonly at: number
}

/** The executions recorded so far. */
export interface Ledger {
  readonly entries: ReadonlyArray<Execution>
  /** Records the current attempt (requires `RunInfo`). */
  readonly record: Effect.Effect<Execution, never, RunInfo>
  /** The executions of one run. */
  readonly of: (originId: string) => ReadonlyArray<Execution>
}

/** An empty ledger. */
export const makeLedger = (): Ledger => {
  const entries: Array<Execution> = []
  return {
    entries,
    record: Effect.map(RunInfo, (info) => {
      const execution: Execution = {
        job: info.job,
        id: info.id,
        originId: info.originId,
        instance: info.runStartedBy,
        attempt: info.runTotalCount,
        args: info.args,
        at: Date.now()
      }
      entries.push(execution)
      return execution
    }),
    of: (originId) => entries.filter((entry) => entry.originId === originId)
  }
}
