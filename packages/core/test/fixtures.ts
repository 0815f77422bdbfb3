/** Store-level fixtures shared by the core package's tests. */
import { type JobStore, RunId } from "../src/index.js"

/** A pending first occurrence of `job` due at `runAt`, with default limits; `fields` override any column. */
export const newRun = (fields: Partial<JobStore.NewRun> & Pick<JobStore.NewRun, "job" | "runAt">): JobStore.NewRun => {
  const id = fields.id ?? RunId.generate(Date.now())
  return {
    id,
    originId: id,
    occurrence: 0,
    args: "{}",
    uniqueName: null,
    schedule: null,
    runTotalCount: 0,
    runSuccessCount: 0,
    runSuccessLimit: null,
    runTimeoutMs: 0,
    retriesErrorCount: 0,
    retriesErrorLimit: 3,
    retriesTimeoutCount: 0,
    retriesTimeoutLimit: 3,
    createdBy: "test",
    createdAt: null,
    traceContext: null,
    result: null,
    queue: null,
    priority: 0,
    partitionKey: null,
    ...fields
  }
}

/** An admin query of runs with no filter but those given. */
export const runQuery = (fields: Partial<JobStore.RunQuery>): JobStore.RunQuery => ({
  statuses: [],
  job: null,
  queue: null,
  name: null,
  createdAfter: null,
  createdBefore: null,
  argsContains: null,
  after: null,
  limit: 50,
  scanLimit: 10_000,
  ...fields
})
