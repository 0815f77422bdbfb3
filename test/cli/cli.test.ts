/**
 * The `jobss` command as child processes on every SQL backend: it migrates a new database, lists
 * the failed run an instance left (table and JSON), shows it, retries it (the instance then runs it
 * to success), makes a delayed run due now, refuses to delete an active run (exit 1), deletes a
 * finished one, cancels a recurring one, and lists instances, schedules and stats; it lists,
 * pauses and resumes a queue an instance runs, and lists the runs of a queue; `jobss stats` shows a
 * count that reached `Admin.maxCount` as `10000+` and names its status in `capped`; `jobss dashboard`
 * serves the dashboard (basic auth: 401 without it; read-only: a POST refused). Usage errors
 * exit with 2 and every command has its help.
 *
 * The command is bundled once per test file with esbuild (from the sources, `@jobss/source`), so a
 * child starts in a fraction of a second.
 */
import { execFile, spawn } from "node:child_process"
import { mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Admin, Job, JobQueue, JobSchedule, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Deferred, Effect, Layer, LogLevel, Logger, Schedule, Schema } from "effect"
import { fastOptions } from "../support/cluster.js"
import { makeDatabase, sqlBackends } from "../support/databases.js"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
const bundleDir = join(repo, "node_modules", ".cache", "jobss-cli")
const bundle = join(bundleDir, `jobss-${process.pid}.mjs`)

beforeAll(async () => {
  mkdirSync(bundleDir, { recursive: true })
  const esbuild = await import("esbuild")
  await esbuild.build({
    entryPoints: [join(repo, "packages", "cli", "src", "bin.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@jobss/source"],
    outfile: bundle,
    external: ["better-sqlite3", "pg-native"],
    banner: {
      js: "import { createRequire as __jobssRequire } from 'node:module'; const require = __jobssRequire(import.meta.url);"
    },
    logLevel: "error"
  })
}, 60_000)

afterAll(async () => {
  const { rm } = await import("node:fs/promises")
  await rm(bundle, { force: true })
})

interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `jobss` with `args` (and `DATABASE_URL` unset unless given). */
const jobss = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Effect.Effect<Result> =>
  Effect.async<Result>((resume) => {
    const { DATABASE_URL: _, ...inherited } = process.env
    execFile(
      process.execPath,
      [bundle, ...args],
      { env: { ...inherited, NO_COLOR: "1", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
  })

/** Starts `jobss dashboard` with `args` until the scope closes; returns the URL it prints. */
const dashboard = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly stop: () => void }, Error>((resume) => {
      const { DATABASE_URL: _, ...inherited } = process.env
      const child = spawn(process.execPath, [bundle, "dashboard", "--port", "0", ...args], {
        env: { ...inherited, NO_COLOR: "1", ...env }
      })
      let output = ""
      let done = false
      const read = (chunk: Buffer) => {
        output += chunk.toString()
        const found = /JobsS dashboard on (http:\/\/\S+)/.exec(output)
        if (found !== null && !done) {
          done = true
          resume(Effect.succeed({ url: found[1]!, stop: () => child.kill("SIGTERM") }))
        }
      }
      child.stdout.on("data", read)
      child.stderr.on("data", read)
      child.on("exit", (code) => {
        if (!done) {
          done = true
          resume(Effect.fail(new Error(`jobss dashboard exited with ${code}: ${output}`)))
        }
      })
    }),
    ({ stop }) => Effect.sync(stop)
  )

/** Runs `jobss` and parses its JSON output; the exit code must be `code`. */
const jobssJson = (args: ReadonlyArray<string>, code = 0) =>
  Effect.map(jobss([...args, "--json"]), (result) => {
    expect(result.code, result.stderr).toBe(code)
    return JSON.parse(result.stdout) as unknown
  })

const Flaky = Job.make({ name: "CliFlaky", args: Schema.Struct({}), retriesErrorLimit: 0 })
const Hourly = JobSchedule.spaced({ name: "CliHourly", every: "1 hour" })
const Mail = JobQueue.make({ name: "cli-mail", concurrency: 1, rateLimit: { limit: 30, period: "1 minute" } })
const Send = Job.make({ name: "CliSend", args: Schema.Struct({}), queue: Mail })

describe.each(sqlBackends)("jobss on %s", (backend) => {
  it.scopedLive(
    `migrate, runs list/show/retry/run-now/delete/cancel, instances, schedules, stats (${backend})`,
    () =>
      Effect.gen(function* () {
        const database = yield* makeDatabase(backend)
        const url = database.url
        const db = ["--database-url", url]

        const migrated = yield* jobss(["migrate", ...db])
        expect(migrated.code, migrated.stderr).toBe(0)
        expect(migrated.stdout).toContain("10_admin")
        const again = yield* jobss(["migrate"], { DATABASE_URL: url })
        expect(again.code, again.stderr).toBe(0)
        expect(again.stdout).toContain("up to date")

        let healthy = false
        const context = yield* Layer.build(
          Flaky.toLayer(() => (healthy ? Effect.void : Effect.fail("not yet"))).pipe(
            Layer.provideMerge(JobsS.layer({ ...fastOptions, schedules: [Hourly] })),
            Layer.provide(SqlStore.layer({ autoMigrate: false })),
            Layer.provide(database.layer)
          )
        ).pipe(Logger.withMinimumLogLevel(LogLevel.Error))
        const scheduler = Context.get(context, Scheduler.Scheduler)
        const instanceId = Context.get(context, JobsS.JobsS).instanceId
        const failed = yield* scheduler.createRun(Flaky, {})
        expect((yield* scheduler.awaitRun(failed, { timeout: "20 seconds" })).status).toBe("failed")
        const delayed = yield* scheduler.createRun(Flaky, {}, { delay: "1 hour" })
        const recurring = yield* scheduler.createRun(Flaky, {}, { schedule: Hourly })

        const listed = (yield* jobssJson(["runs", "list", "--status", "failed", "--job", Flaky.name, ...db])) as {
          runs: ReadonlyArray<{ originId: string; status: string; runCompletedError: string }>
        }
        expect(listed.runs.map((run) => [run.originId, run.status])).toEqual([[failed, "failed"]])
        expect(listed.runs[0]!.runCompletedError).toContain("not yet")
        const table = yield* jobss(["runs", "list", "--job", Flaky.name, "--limit", "2", ...db])
        expect(table.code, table.stderr).toBe(0)
        expect(table.stdout).toMatch(/^ID +JOB +STATUS +RUN AT/)
        expect(table.stdout).toContain("More: --cursor ")

        const shown = (yield* jobssJson(["runs", "show", failed, ...db])) as {
          state: { status: string }
          history: ReadonlyArray<{ outcome: string }>
        }
        expect(shown.state.status).toBe("failed")
        expect(shown.history.map((attempt) => attempt.outcome)).toEqual(["failed"])

        healthy = true
        const retried = yield* jobss(["runs", "retry", failed, ...db])
        expect(retried.code, retried.stderr).toBe(0)
        expect(retried.stdout).toMatch(new RegExp(`${failed} +changed +pending`))
        expect((yield* scheduler.awaitRun(failed, { timeout: "20 seconds" })).status).toBe("succeeded")

        const refused = yield* jobss(["runs", "delete", delayed, ...db])
        expect(refused.code).toBe(1)
        expect(refused.stdout).toContain("wrongState")
        expect(refused.stderr).toContain("1 of 1 runs were not changed")
        const due = yield* jobss(["runs", "run-now", delayed, ...db])
        expect(due.code, due.stderr).toBe(0)
        expect((yield* scheduler.awaitRun(delayed, { timeout: "20 seconds" })).status).toBe("succeeded")

        const schedules = (yield* jobssJson(["schedules", ...db])) as {
          schedules: ReadonlyArray<{ originId: string; schedule: string }>
        }
        expect(schedules.schedules.map((s) => [s.originId, s.schedule])).toEqual([[recurring, Hourly.name]])
        expect((yield* jobss(["runs", "cancel", recurring, ...db])).code).toBe(0)
        expect((yield* scheduler.getRunState(recurring)).status).toBe("cancelled")

        const deleted = yield* jobss(["runs", "delete", failed, ...db])
        expect(deleted.code, deleted.stderr).toBe(0)
        const gone = yield* jobss(["runs", "show", failed, ...db])
        expect(gone.code).toBe(1)
        expect(gone.stderr).toContain("RunNotFound")

        const instances = (yield* jobssJson(["instances", ...db])) as ReadonlyArray<{ id: string; alive: boolean }>
        expect(instances).toContainEqual(expect.objectContaining({ id: instanceId, alive: true }))
        const stats = (yield* jobssJson(["stats", "--minutes", "5", ...db])) as {
          counts: { byJob: ReadonlyArray<{ job: string; byStatus: Record<string, number> }> }
          throughput: ReadonlyArray<{ succeeded: number }>
        }
        expect(stats.counts.byJob.find((job) => job.job === Flaky.name)?.byStatus).toMatchObject({
          succeeded: 1,
          cancelled: 1
        })
        expect(stats.throughput).toHaveLength(5)
        const text = yield* jobss(["stats", ...db])
        expect(text.stdout).toContain(Flaky.name)
      }),
    120_000
  )
})

describe.each(sqlBackends)("jobss queues on %s", (backend) => {
  it.scopedLive(
    `queues list (table and JSON), pause and resume; runs list --queue; stats by queue; dashboard (${backend})`,
    () =>
      Effect.gen(function* () {
        const database = yield* makeDatabase(backend)
        const db = ["--database-url", database.url]
        const release = yield* Deferred.make<void>()
        const context = yield* Layer.build(
          Send.toLayer(() => Deferred.await(release)).pipe(
            Layer.provideMerge(JobsS.layer(fastOptions)),
            Layer.provide(SqlStore.layer()),
            Layer.provide(database.layer)
          )
        ).pipe(Logger.withMinimumLogLevel(LogLevel.Error))
        const scheduler = Context.get(context, Scheduler.Scheduler)
        const ids = [yield* scheduler.createRun(Send, {}), yield* scheduler.createRun(Send, {})]
        yield* Effect.repeat(scheduler.listQueues, {
          until: (queues) => queues.some((q) => q.running === 1),
          schedule: Schedule.spaced("50 millis")
        }).pipe(Effect.timeout("15 seconds"))

        const listed = (yield* jobssJson(["queues", "list", ...db])) as ReadonlyArray<Record<string, unknown>>
        expect(listed).toEqual([
          {
            name: Mail.name,
            defined: true,
            concurrency: 1,
            rateLimit: { limit: 30, period: 60_000 },
            partitioned: false,
            paused: false,
            running: 1,
            pending: 1,
            updatedAt: expect.any(String)
          }
        ])
        const table = yield* jobss(["queues", "list", ...db])
        expect(table.code, table.stderr).toBe(0)
        expect(table.stdout).toMatch(/^NAME +PAUSED +RUNNING +PENDING +CONCURRENCY/)
        expect(table.stdout).toMatch(new RegExp(`${Mail.name} +no +1 +1 +1 +- +30 per 1m`))

        const paused = yield* jobss(["queues", "pause", Mail.name, ...db])
        expect(paused.code, paused.stderr).toBe(0)
        expect((yield* scheduler.listQueues)[0]?.paused).toBe(true)
        const resumed = yield* jobss(["queues", "resume", Mail.name, ...db])
        expect(resumed.code, resumed.stderr).toBe(0)
        expect((yield* scheduler.listQueues)[0]?.paused).toBe(false)

        const runs = (yield* jobssJson(["runs", "list", "--queue", Mail.name, ...db])) as {
          runs: ReadonlyArray<{ originId: string }>
        }
        expect(runs.runs.map((run) => run.originId).sort()).toEqual([...ids].sort())
        const none = (yield* jobssJson(["runs", "list", "--queue", "cli-other", ...db])) as {
          runs: ReadonlyArray<unknown>
        }
        expect(none.runs).toEqual([])
        const stats = yield* jobss(["stats", ...db])
        expect(stats.stdout).toMatch(new RegExp(`QUEUE +TOTAL[\\s\\S]*${Mail.name} +2 +1 +1`))

        const served = yield* dashboard([...db, "--read-only", "--user", "ops"], { JOBSS_DASHBOARD_PASSWORD: "pw" })
        const fetchPage = (path: string, init: RequestInit = {}) =>
          Effect.promise(async () => {
            const response = await fetch(new URL(path, served.url), { redirect: "manual", ...init })
            return { status: response.status, text: await response.text() }
          })
        const auth = { authorization: `Basic ${Buffer.from("ops:pw").toString("base64")}` }
        expect((yield* fetchPage("queues")).status).toBe(401)
        const page = yield* fetchPage("queues", { headers: auth })
        expect(page.status).toBe(200)
        expect(page.text).toContain(Mail.name)
        expect(page.text).toContain("(read-only)")
        const forged = yield* fetchPage(`queues/${Mail.name}/pause`, { method: "POST", headers: auth })
        expect(forged.status).toBe(403)
        expect((yield* scheduler.listQueues)[0]?.paused).toBe(false)
        yield* Deferred.succeed(release, undefined)
      }),
    120_000
  )
})

describe.each(sqlBackends)("jobss stats with capped counts on %s", (backend) => {
  it.scopedLive(
    `stats shows a count that reached Admin.maxCount as 10000+ and names its status in capped (${backend})`,
    () =>
      Effect.gen(function* () {
        const database = yield* makeDatabase(backend)
        const db = ["--database-url", database.url]
        const scheduler = Context.get(
          yield* Layer.build(
            JobsS.layerClient().pipe(Layer.provide(SqlStore.layer()), Layer.provide(database.layer))
          ).pipe(Logger.withMinimumLogLevel(LogLevel.Error)),
          Scheduler.Scheduler
        )
        // nothing runs them: no instance serves the job, and they are due in an hour
        yield* scheduler.createRuns(
          Flaky,
          Array.from({ length: Admin.maxCount + 1 }, () => ({})),
          { delay: "1 hour" }
        )
        const [last] = yield* scheduler.createRuns(Flaky, [{}], { delay: "1 hour" })
        yield* scheduler.cancelRun(last!)

        const stats = (yield* jobssJson(["stats", ...db])) as {
          counts: {
            total: number
            capped: ReadonlyArray<string>
            byJob: ReadonlyArray<{ job: string; total: number; capped: ReadonlyArray<string> }>
          }
        }
        expect(stats.counts.total).toBe(Admin.maxCount + 1)
        expect(stats.counts.capped).toEqual(["pending"])
        expect(stats.counts.byJob).toEqual([
          expect.objectContaining({ job: Flaky.name, total: Admin.maxCount + 1, capped: ["pending"] })
        ])
        const text = yield* jobss(["stats", ...db])
        expect(text.code, text.stderr).toBe(0)
        // JOB, TOTAL, PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED
        expect(text.stdout).toMatch(new RegExp(`${Flaky.name} +10001\\+ +10000\\+ +0 +0 +0 +1\\b`))
        expect(text.stdout).toMatch(/\(all\) +10001\+ +10000\+ +0 +0 +0 +1\b/)
      }),
    120_000
  )
})

describe("jobss usage", () => {
  it.effect(
    "--help on every command exits with 0; usage errors exit with 2; a database error with 1",
    () =>
      Effect.gen(function* () {
        const commands = [
          [],
          ["migrate"],
          ["runs"],
          ["runs", "list"],
          ["runs", "show"],
          ["runs", "retry"],
          ["runs", "cancel"],
          ["runs", "delete"],
          ["runs", "run-now"],
          ["queues"],
          ["queues", "list"],
          ["queues", "pause"],
          ["queues", "resume"],
          ["instances"],
          ["schedules"],
          ["stats"],
          ["dashboard"]
        ]
        for (const command of commands) {
          const help = yield* jobss([...command, "--help"])
          expect(help.code, command.join(" ")).toBe(0)
          expect(help.stdout, command.join(" ")).toContain("USAGE")
        }
        const top = yield* jobss(["--help"])
        for (const name of ["migrate", "runs", "queues", "instances", "schedules", "stats", "dashboard"])
          expect(top.stdout).toContain(name)

        expect((yield* jobss([])).code).toBe(2)
        expect((yield* jobss(["runs"])).code).toBe(2)
        expect((yield* jobss(["queues"])).code).toBe(2)
        expect((yield* jobss(["queues", "pause", "--database-url", "x.db"])).code).toBe(2)
        expect((yield* jobss(["dashboard", "--database-url", "x.db", "--user", "ops"])).code).toBe(2)
        expect((yield* jobss(["nope"])).code).toBe(2)
        const noDatabase = yield* jobss(["runs", "list"])
        expect(noDatabase.code).toBe(2)
        expect(noDatabase.stdout + noDatabase.stderr).toContain("--database-url")
        expect((yield* jobss(["runs", "list", "--database-url", "x.db", "--limit", "many"])).code).toBe(2)
        expect((yield* jobss(["runs", "list", "--database-url", "x.db", "--status", "broken"])).code).toBe(2)

        const missing = yield* jobss(["runs", "list", "--database-url", join(bundleDir, "missing.db")])
        expect(missing.code).toBe(1)
        expect(missing.stderr).toContain("No SQLite database at")
        const unreachable = yield* jobss(["instances", "--database-url", "postgres://jobss@127.0.0.1:1/none"])
        expect(unreachable.code).toBe(1)
        expect(unreachable.stderr).toContain("JobStoreError")
      }),
    120_000
  )
})
