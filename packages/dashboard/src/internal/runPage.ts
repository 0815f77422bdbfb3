/**
 * A run's page (`<base>/runs/<id>`): its state, arguments and result as formatted JSON (unless
 * `hideArgs`), its trace id (the span that created it: its attempts' spans link to it), every
 * attempt (instance, duration, outcome, error), and the actions its status
 * allows: Retry (failed, cancelled), Run now (pending), Cancel (pending, running), Delete (finished).
 */
import { type RunId, Scheduler } from "@jobss/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { type Part, html, json, when } from "./html.js"
import { type PageContext, actionButton, page, status, table } from "./layout.js"

/** The page of run `id`. */
export const runPage = (ctx: PageContext, id: RunId.RunId, notice?: string) =>
  Effect.gen(function* () {
    const state = yield* Scheduler.getRunState(id)
    const history = yield* Scheduler.getRunHistory(id)
    const path = `/runs/${encodeURIComponent(state.originId)}`
    const final = state.status === "succeeded" || state.status === "failed" || state.status === "cancelled"
    const actions = [
      state.status === "failed" || state.status === "cancelled" ? actionButton(ctx, `${path}/retry`, "Retry") : "",
      state.status === "pending" ? actionButton(ctx, `${path}/run-now`, "Run now") : "",
      !final ? actionButton(ctx, `${path}/cancel`, "Cancel") : "",
      final ? actionButton(ctx, `${path}/delete`, "Delete") : ""
    ]
    const fields: ReadonlyArray<readonly [string, unknown]> = [
      ["Status", status(state.status)],
      ["Job", state.job],
      ["Occurrence", state.id === state.originId ? undefined : `${state.occurrence} (${state.id})`],
      ["Unique name", state.name],
      ["Schedule", state.schedule],
      ["Queue", state.queue],
      ["Partition", state.partitionKey],
      ["Priority", state.priority],
      ["Run at", when(state.runAt)],
      ["Attempts", state.runTotalCount],
      [
        "Retries",
        `${state.retriesOnErrorCount} of ${state.retriesErrorLimit} after errors, ${state.retriesOnTimeoutCount} of ${state.retriesTimeoutLimit} after timeouts`
      ],
      ["Created", `${when(state.createdAt)} by ${state.createdBy}`],
      [
        "Started",
        state.runStartedAt === undefined ? undefined : `${when(state.runStartedAt)} by ${state.runStartedBy}`
      ],
      ["Completed", state.runCompletedAt === undefined ? undefined : when(state.runCompletedAt)],
      ["Error", state.runCompletedError],
      ["Trace id", state.traceId]
    ]
    const body = html`<p>${ctx.readOnly ? "" : actions}</p>
<dl>${fields
      .filter(([, value]) => value !== undefined)
      .map(([label, value]) => html`<dt>${label}</dt><dd>${value as Part}</dd>`)}</dl>
<h2>Arguments</h2>${ctx.hideArgs ? html`<p>(hidden)</p>` : html`<pre aria-label="Arguments">${json(state.args)}</pre>`}
<h2>Result</h2>${
      ctx.hideArgs
        ? html`<p>(hidden)</p>`
        : state.result === undefined
          ? html`<p>None</p>`
          : html`<pre aria-label="Result">${json(state.result)}</pre>`
    }
<h2>Attempts</h2>${table(
      "Attempts, oldest first",
      ["Attempt", "Occurrence", "Outcome", "Instance", "Started", "Duration", "Error"],
      history.map((a) => [
        a.attempt,
        a.occurrence,
        status(a.outcome),
        a.runStartedBy,
        when(a.runStartedAt),
        Duration.format(a.duration),
        a.runCompletedError ?? ""
      ]),
      "No attempt recorded yet"
    )}`
    return page(ctx, "/runs", `Run ${state.originId}`, body, notice)
  })
