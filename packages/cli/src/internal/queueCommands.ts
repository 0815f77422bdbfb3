/**
 * `jobss queues list|pause|resume`: the queues the store knows (limits, paused flag, running and
 * pending runs) and their cluster-wide pause, over the admin API (`Scheduler.listQueues`,
 * `pauseQueue`, `resumeQueue`).
 */
import { Args, Command } from "@effect/cli"
import { Scheduler } from "@jobss/core"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { cell, printJson, printTable } from "./output.js"
import { connection, json, needsCommand, withScheduler } from "./shared.js"

const list = Command.make("list", { ...connection, json }, (c) =>
  withScheduler(
    c,
    Effect.gen(function* () {
      const queues = yield* Scheduler.listQueues
      if (c.json) return yield* printJson(queues)
      yield* printTable(
        ["NAME", "PAUSED", "RUNNING", "PENDING", "CONCURRENCY", "PER INSTANCE", "RATE LIMIT", "PARTITIONED"],
        queues.map((q) => [
          cell(q.name, 40),
          q.paused ? "yes" : "no",
          String(q.running),
          String(q.pending),
          q.defined ? cell(q.concurrency) : "(not defined)",
          cell(q.workerConcurrency),
          q.rateLimit === undefined ? "-" : `${q.rateLimit.limit} per ${Duration.format(q.rateLimit.period)}`,
          q.partitioned ? "yes" : "no"
        ]),
        "No queues"
      )
    })
  )
).pipe(Command.withDescription("Lists the queues: limits, paused or not, running and pending runs"))

const queueName = Args.text({ name: "name" }).pipe(Args.withDescription("The queue's name (JobQueue.make's name)"))

/** `pause` or `resume`: sets the queue's stored paused flag, cluster-wide. */
const pausing = (paused: boolean) =>
  Command.make(paused ? "pause" : "resume", { ...connection, name: queueName }, (c) =>
    withScheduler(
      c,
      Effect.zipRight(
        paused ? Scheduler.pauseQueue(c.name) : Scheduler.resumeQueue(c.name),
        Console.log(`Queue ${c.name} ${paused ? "paused: no instance starts its runs" : "resumed"}`)
      )
    )
  ).pipe(
    Command.withDescription(
      paused
        ? "Pauses a queue cluster-wide: running runs go on, no instance starts another"
        : "Resumes a paused queue: its runs start again"
    )
  )

/** `jobss queues` and its commands. */
export const queues = Command.make("queues", {}, () => needsCommand("jobss queues")).pipe(
  Command.withDescription("Lists queues, pauses or resumes them"),
  Command.withSubcommands([list, pausing(true), pausing(false)])
)
