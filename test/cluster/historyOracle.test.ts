/** The run-history oracle of the cluster scenarios finds each breach it names, and passes a clean history. */
import { describe, expect, it } from "@effect/vitest"
import { type RunHistory, RunId, type RunState } from "@jobss/core"
import { Duration } from "effect"
import { runBreaches } from "./scenario.js"

const origin = RunId.make("01900000-0000-7000-8000-000000000001")

const state = (status: RunState.RunState["status"], id: string = origin): RunState.RunState =>
  ({ originId: origin, id, status }) as RunState.RunState

const attempt = (attempt: number, outcome: RunHistory.AttemptOutcome, id: string = origin): RunHistory.RunAttempt => ({
  originId: origin,
  id,
  occurrence: 0,
  attempt,
  job: "Work",
  runStartedBy: "instance",
  runStartedAt: new Date(0),
  runCompletedAt: new Date(1),
  duration: Duration.millis(1),
  outcome,
  runCompletedError: undefined,
  result: undefined
})

describe("run history oracle", () => {
  it("passes a takeover, a hand-back and a success", () => {
    const history = [attempt(1, "lost"), attempt(2, "released"), attempt(2, "retried"), attempt(3, "succeeded")]
    expect(runBreaches(state("succeeded"), history)).toEqual([])
  })

  it("passes a run cancelled before it started", () => {
    expect(runBreaches(state("cancelled"), [])).toEqual([])
  })

  it("finds an attempt accepted twice", () => {
    expect(runBreaches(state("succeeded"), [attempt(1, "succeeded"), attempt(1, "succeeded")])).toEqual([
      `${origin}: attempt 1 of ${origin} accepted twice`,
      `${origin}: occurrence ${origin} ended 2 times`,
      `${origin}: final (succeeded) but its occurrence ${origin} ended 2 times`
    ])
  })

  it("finds a final run whose occurrence never ended, and attempts out of order", () => {
    expect(runBreaches(state("succeeded"), [attempt(2, "retried"), attempt(1, "lost")])).toEqual([
      `${origin}: attempt 1 of ${origin} recorded after a later one`,
      `${origin}: final (succeeded) but its occurrence ${origin} ended 0 times`
    ])
  })
})
