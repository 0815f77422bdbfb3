/**
 * `awaitRun` rides out a database outage: an instance reaches its database through a TCP proxy
 * that the test severs for a few seconds (open connections drop, new ones are refused) while
 * callers wait for runs; once the proxy is back, every wait returns the run's final state.
 *
 * PostgreSQL and MariaDB only: SQLite is a file opened in-process, with no connection to lose.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Context, Effect, Layer, LogLevel, Logger, Schema } from "effect"
import { clientLayer, makeDatabase } from "../support/databases.js"
import * as TcpProxy from "../support/tcpProxy.js"

const runs = 50
const severedMs = 3_000

const Second = Job.make({ name: "Second", args: Schema.Struct({ n: Schema.Number }) })

describe.each(["postgres", "mariadb"] as const)("awaitRun through a database outage on %s", (backend) => {
  it.scopedLive(
    `every awaitRun returns the final state when the database comes back after ${severedMs} ms (${backend})`,
    () =>
      Effect.gen(function* () {
        const database = yield* makeDatabase(backend)
        const proxy = yield* TcpProxy.make(database.url)
        const context = yield* Layer.build(
          Second.toLayer(() => Effect.sleep("1 second")).pipe(
            Layer.provideMerge(
              JobsS.layer({ workers: runs, pollInterval: "200 millis", heartbeatInterval: "1 second" })
            ),
            Layer.provide(SqlStore.layer()),
            Layer.provide(clientLayer(backend, proxy.url))
          )
        ).pipe(Logger.withMinimumLogLevel(LogLevel.None))
        const scheduler = Context.get(context, Scheduler.Scheduler)
        const ids = yield* scheduler.createRuns(
          Second,
          Array.from({ length: runs }, (_, n) => ({ n }))
        )
        const waits = yield* Effect.forkScoped(
          Effect.forEach(ids, (id) => Effect.either(scheduler.awaitRun(id)), { concurrency: "unbounded" })
        )

        yield* Effect.sleep("300 millis")
        yield* proxy.sever
        yield* Effect.sleep(severedMs / 2)
        // the database is really out of reach, and says so with a transient error
        const during = yield* Effect.flip(scheduler.getRunState(ids[0]!))
        expect(during).toMatchObject({ _tag: "JobStoreError", transient: true })
        yield* Effect.sleep(severedMs / 2)
        yield* proxy.restore

        const outcomes = yield* waits.await.pipe(Effect.flatten, Effect.timeout("60 seconds"))
        const failures = outcomes.flatMap((outcome) => (outcome._tag === "Left" ? [outcome.left] : []))
        expect(failures.map((error) => `${error._tag}: ${error.message}`)).toEqual([])
        const states = outcomes.flatMap((outcome) => (outcome._tag === "Right" ? [outcome.right] : []))
        expect(states.map((state) => state.originId)).toEqual(ids)
        expect(states.every((state) => state.status === "succeeded")).toBe(true)
      }),
    120_000
  )
})
