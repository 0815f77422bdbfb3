/**
 * What an idle cluster costs the database: the SQL statements each of two idle instances sends,
 * counted with a tracer per instance (`sql.execute` spans, plus BEGIN and COMMIT per transaction).
 * The intervals are the defaults divided by 10, so a 6-second window counts about a minute at the
 * defaults; `JOBSS_IDLE_DEFAULTS=1` runs the real defaults for a real minute instead (to measure:
 * `JOBSS_IDLE_DEFAULTS=1 npx vitest run test/features/idleStatements.test.ts` logs the counts).
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobsS, type JobsSConfig } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Effect, Exit, Layer, LogLevel, Logger, Schema, Scope, Tracer } from "effect"
import { makeDatabase, sqlBackends } from "../support/databases.js"

const Idle = Job.make({ name: "Idle", args: Schema.Struct({}) })

const atDefaults = process.env["JOBSS_IDLE_DEFAULTS"] === "1"

/** The defaults, ten times faster (`timeoutCheck` 30 s, `heartbeatInterval` 5 s, ...). */
const scaled = {
  pollInterval: "500 millis",
  heartbeatInterval: "500 millis",
  timeoutCheck: "3 seconds",
  leaseDuration: "3 seconds",
  retentionCheck: "6 seconds"
} as const satisfies JobsSConfig.InstanceOptions

/** A "minute" at the options used. */
const windowMs = atDefaults ? 60_000 : 6_000

/** Counts the statements of the fibers it traces, by their first words. */
const countingTracer = (base: Tracer.Tracer) => {
  const counts = new Map<string, number>()
  const add = (key: string, n = 1) => counts.set(key, (counts.get(key) ?? 0) + n)
  let counting = false
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const span = base.span(name, parent, context, links, startTime, kind)
      if (counting && name === "sql.transaction") add("BEGIN/COMMIT", 2)
      if (counting && name === "sql.execute") {
        const original = span.attribute.bind(span)
        span.attribute = (key, value) => {
          if (key === "db.query.text") add(String(value).trim().split(/\s+/).slice(0, 4).join(" "))
          original(key, value)
        }
      }
      return span
    },
    context: base.context
  })
  return {
    tracer,
    start: () => {
      counting = true
    },
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    counts
  }
}

describe.each(sqlBackends)("idle statements on %s", (backend) => {
  it.live(
    `of two idle instances only the leader samples the gauge; the other sends fewer statements (${backend})`,
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const database = yield* makeDatabase(backend)
          const options = atDefaults ? {} : scaled
          const instances = yield* Effect.forEach([0, 1], () =>
            Effect.gen(function* () {
              const counter = countingTracer(yield* Effect.tracer)
              const scope = yield* Scope.make()
              yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
              yield* Layer.buildWithScope(
                Idle.toLayer(() => Effect.void).pipe(
                  Layer.provideMerge(JobsS.layer(options)),
                  Layer.provide(SqlStore.layer()),
                  Layer.provide(database.layer)
                ),
                scope
              ).pipe(Effect.withTracer(counter.tracer), Logger.withMinimumLogLevel(LogLevel.Error))
              return counter
            })
          )
          // let both start up and settle into their loops, then count one window
          yield* Effect.sleep(windowMs / 6)
          for (const instance of instances) instance.start()
          yield* Effect.sleep(windowMs)
          const report = instances.map((instance) => ({
            total: instance.total(),
            ...Object.fromEntries(instance.counts)
          }))
          yield* Effect.logInfo(`${backend}: statements of each idle instance in ${windowMs} ms`, report).pipe(
            Logger.withMinimumLogLevel(LogLevel.Info)
          )
          const of = (instance: (typeof instances)[number], pattern: RegExp) =>
            [...instance.counts].filter(([text]) => pattern.test(text)).reduce((sum, [, n]) => sum + n, 0)
          // one instance samples the gauge (the leader); the other sends none of it
          const gauge = instances.map((instance) => of(instance, /COUNT\(\*\)/))
          const follower = gauge[0] === 0 ? instances[0]! : instances[1]!
          const leader = follower === instances[0] ? instances[1]! : instances[0]!
          expect(gauge.filter((n) => n === 0)).toHaveLength(1)
          expect(of(leader, /COUNT\(\*\)/)).toBeGreaterThanOrEqual(10)
          // the follower tries the lease every two heartbeat intervals: 6 a minute
          expect(of(follower, /leader/)).toBeLessThanOrEqual(6 + 3)
          expect(follower.total()).toBeLessThan(leader.total())
          // an idle poll reads the next due time and claims nothing: under one statement a second
          expect(follower.total()).toBeLessThanOrEqual(50)
        })
      ),
    { timeout: windowMs * 3 + 60_000 }
  )
})
