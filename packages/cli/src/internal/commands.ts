/**
 * The commands of `jobss`, each with its options, its help and its handler over the admin API
 * (`Scheduler.listRuns`, `retryRuns`, ...) on a client-only `Scheduler`.
 */
import { Args, Command, Options } from "@effect/cli"
import { Admin, type JobsSError, type RunId, Scheduler } from "@jobss/core"
import { SqlStoreMigrations } from "@jobss/sql"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { client } from "./connection.js"
import { dashboard } from "./dashboardCommand.js"
import { cell, printJson, printTable } from "./output.js"
import { queues } from "./queueCommands.js"
import { connection, given, json, needsCommand, optionalInteger, optionalText, withScheduler } from "./shared.js"
import { instances, schedules, stats } from "./statusCommands.js"

/** Some runs of a bulk command were not changed (the command exits with 1 after its report). */
export class SomeRunsUnchanged extends Data.TaggedError("SomeRunsUnchanged")<{
  /** What the command says. */
  readonly message: string
}> {}

const migrate = Command.make("migrate", connection, (c) =>
  Effect.gen(function* () {
    const applied = yield* SqlStoreMigrations.run({ tablePrefix: c.tablePrefix }).pipe(
      Effect.provide(client(c, { create: true }))
    )
    yield* Console.log(
      applied.length === 0
        ? "The schema is up to date: no migration to apply"
        : `Applied ${applied.length} migration${applied.length === 1 ? "" : "s"}: ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`
    )
  })
).pipe(Command.withDescription("Applies the store's pending schema migrations (creates the tables on a new database)"))

const statuses = ["pending", "running", "succeeded", "failed", "cancelled"] as const

const list = Command.make(
  "list",
  {
    ...connection,
    json,
    status: Options.choice("status", statuses).pipe(
      Options.repeated,
      Options.withDescription("Only runs in this status (repeat for several)")
    ),
    job: optionalText("job", "Only runs of this job"),
    queue: optionalText("queue", "Only runs in this queue"),
    name: optionalText("name", "Only runs with this unique name"),
    createdAfter: Options.date("created-after").pipe(
      Options.optional,
      Options.withDescription("Only runs created at or after this time (ISO 8601)")
    ),
    createdBefore: Options.date("created-before").pipe(
      Options.optional,
      Options.withDescription("Only runs created before this time (ISO 8601)")
    ),
    argsContains: optionalText(
      "args-contains",
      `Only runs whose JSON arguments contain this text (searched in ${Admin.argsScanLimit} runs per page)`
    ),
    limit: optionalInteger(
      "limit",
      `The most runs shown, 1 to ${Admin.maxPageSize} (default ${Admin.defaultPageSize})`
    ),
    cursor: optionalText("cursor", "Go on from the cursor a previous page printed")
  },
  (c) =>
    withScheduler(
      c,
      Effect.gen(function* () {
        const options: Admin.ListRunsOptions = Object.fromEntries(
          Object.entries({
            status: c.status.length === 0 ? undefined : c.status,
            job: given(c.job),
            queue: given(c.queue),
            name: given(c.name),
            createdAfter: given(c.createdAfter),
            createdBefore: given(c.createdBefore),
            argsContains: given(c.argsContains),
            limit: given(c.limit),
            cursor: given(c.cursor)
          }).filter(([, value]) => value !== undefined)
        )
        const page = yield* Scheduler.listRuns(options)
        if (c.json) return yield* printJson(page)
        yield* printTable(
          ["ID", "JOB", "STATUS", "RUN AT", "ATTEMPTS", "CREATED", "ERROR"],
          page.runs.map((run) => [
            run.id,
            cell(run.job, 40),
            run.status,
            cell(run.runAt),
            String(run.runTotalCount),
            cell(run.createdAt),
            cell(run.runCompletedError)
          ]),
          "No runs"
        )
        if (page.cursor !== undefined) yield* Console.log(`More: --cursor ${page.cursor}`)
      })
    )
).pipe(Command.withDescription("Lists runs, newest first: jobss runs list --status failed --job SendEmail --json"))

const runId = Args.text({ name: "id" }).pipe(Args.withDescription("A run id, as createRun returned it"))

const show = Command.make("show", { ...connection, json, id: runId }, (c) =>
  withScheduler(
    c,
    Effect.gen(function* () {
      const id = c.id as RunId.RunId
      const state = yield* Scheduler.getRunState(id)
      const history = yield* Scheduler.getRunHistory(id)
      if (c.json) return yield* printJson({ state, history })
      const fields: ReadonlyArray<readonly [string, unknown]> = [
        ["id", state.originId],
        ["occurrence", state.id === state.originId ? undefined : `${state.occurrence} (${state.id})`],
        ["job", state.job],
        ["status", state.status],
        ["name", state.name],
        ["schedule", state.schedule],
        ["run at", state.runAt],
        ["attempts", state.runTotalCount],
        [
          "retries",
          `${state.retriesOnErrorCount} of ${state.retriesErrorLimit} after errors, ${state.retriesOnTimeoutCount} of ${state.retriesTimeoutLimit} after timeouts`
        ],
        ["created", `${state.createdAt.toISOString()} by ${state.createdBy}`],
        [
          "started",
          state.runStartedAt === undefined ? undefined : `${state.runStartedAt.toISOString()} by ${state.runStartedBy}`
        ],
        ["completed", state.runCompletedAt],
        ["error", state.runCompletedError],
        ["args", JSON.stringify(state.args)],
        ["result", state.result === undefined ? undefined : JSON.stringify(state.result)]
      ]
      yield* Console.log(
        fields
          .filter(([, value]) => value !== undefined)
          .map(([label, value]) => `${label.padEnd(11)}${cell(value, 1000)}`)
          .join("\n")
      )
      yield* Console.log("")
      yield* printTable(
        ["ATTEMPT", "OCCURRENCE", "OUTCOME", "INSTANCE", "STARTED", "MS", "ERROR"],
        history.map((attempt) => [
          String(attempt.attempt),
          String(attempt.occurrence),
          attempt.outcome,
          cell(attempt.runStartedBy, 40),
          cell(attempt.runStartedAt),
          String(Math.round(attempt.runCompletedAt.getTime() - attempt.runStartedAt.getTime())),
          cell(attempt.runCompletedError)
        ]),
        "No attempt recorded yet"
      )
    })
  )
).pipe(Command.withDescription("Shows a run's state and every recorded attempt"))

const runIds = Args.text({ name: "id" }).pipe(
  Args.atLeast(1),
  Args.withDescription(`Run ids (at most ${Admin.maxBulkIds})`)
)

/** Prints a bulk change's report; fails (exit 1) when some runs were not changed. */
const report = (jsonOutput: boolean, reports: ReadonlyArray<Admin.RunChangeReport>) =>
  Effect.gen(function* () {
    if (jsonOutput) yield* printJson(reports)
    else {
      yield* printTable(
        ["ID", "RESULT", "STATUS"],
        reports.map((r) => [r.id, r.result, cell(r.status)]),
        "No runs"
      )
    }
    const unchanged = reports.filter((r) => r.result !== "changed").length
    if (unchanged > 0) {
      return yield* new SomeRunsUnchanged({ message: `${unchanged} of ${reports.length} runs were not changed` })
    }
  })

const bulk = (
  name: string,
  description: string,
  change: (
    ids: ReadonlyArray<RunId.RunId>
  ) => Effect.Effect<
    ReadonlyArray<Admin.RunChangeReport>,
    JobsSError.InvalidAdminQuery | JobsSError.JobStoreError,
    Scheduler.Scheduler
  >
) =>
  Command.make(name, { ...connection, json, ids: runIds }, (c) =>
    withScheduler(
      c,
      Effect.flatMap(change(c.ids.map((id) => id as RunId.RunId)), (reports) => report(c.json, reports))
    )
  ).pipe(Command.withDescription(description))

/** `cancelRun` of each run, reported like the other bulk changes (`requested`: it is interrupted where it runs). */
const cancelEach = (ids: ReadonlyArray<RunId.RunId>) =>
  Effect.forEach(ids, (id) =>
    Scheduler.cancelRun(id).pipe(
      Effect.map(
        (result): Admin.RunChangeReport => ({
          id,
          result: result === "finished" ? "wrongState" : "changed",
          status: result === "cancelled" ? "cancelled" : result === "requested" ? "running" : undefined
        })
      ),
      Effect.catchTag("RunNotFound", () =>
        Effect.succeed<Admin.RunChangeReport>({ id, result: "notFound", status: undefined })
      )
    )
  )

const runs = Command.make("runs", {}, () => needsCommand("jobss runs")).pipe(
  Command.withDescription("Lists, shows, retries, cancels, deletes runs or makes them due now"),
  Command.withSubcommands([
    list,
    show,
    bulk("retry", "Makes failed or cancelled runs pending again, with fresh retry counters", Scheduler.retryRuns),
    bulk("cancel", "Cancels pending runs; running ones are interrupted where they run", cancelEach),
    bulk("delete", "Deletes finished runs with their history", Scheduler.deleteRuns),
    bulk("run-now", "Makes pending runs due now", Scheduler.runRunsNow)
  ])
)

/** The `jobss` command and its subcommands. */
export const jobss = Command.make("jobss", {}, () => needsCommand("jobss")).pipe(
  Command.withDescription(
    "Operates a JobsS cluster: its schema, runs, queues, instances and schedules; serves the dashboard"
  ),
  Command.withSubcommands([migrate, runs, queues, instances, schedules, stats, dashboard])
)
