/**
 * The child program of the cluster harness: one real JobsS instance in its own OS process, on the
 * database named by its `WorkerConfig` (environment variable `JOBSS_CLUSTER_WORKER`).
 *
 * - implements `Work`, whose body writes `start` / `end` (or `interrupted`) ledger rows, and
 *   `Block`, which blocks the event loop;
 * - wraps the `SqlStore` to record every settlement (and whether its fence held) and every
 *   takeover (and give-back of an unstarted run) by its reaper in the ledger;
 * - runs on Effect's `Clock` shifted by `clockOffsetMs` (clock-skew scenario);
 * - tells the parent `Ready` over IPC, answers `Create` requests, and shuts down gracefully
 *   (closes the instance's scope) on SIGTERM; exits when the parent goes away.
 *
 * Started by `test/support/processes.ts` as a bundle of this file (or as `node
 * --conditions=@jobss/source --import tsx test/cluster/worker.ts`).
 */
import { SqlClient } from "@effect/sql"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { JobStore, JobsS, RunInfo, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import {
  Cause,
  Clock,
  Context,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  LogLevel,
  Logger,
  Redacted,
  Runtime,
  Schedule,
  Schema
} from "effect"
import {
  Block,
  type ChildMessage,
  Every,
  type LedgerInsert,
  type LedgerKind,
  type ParentMessage,
  WorkerConfig,
  appendLedger,
  configVariable,
  workIn
} from "./protocol.js"

const send = (message: ChildMessage): void => {
  if (process.connected) process.send?.(message)
}

/** Effect's default clock shifted by `offsetMs`: what a machine with a wrong clock sees. */
const skewedClock = (offsetMs: number): Clock.Clock => {
  const base = Clock.make()
  const offsetNanos = BigInt(Math.round(offsetMs)) * 1_000_000n
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis() + offsetMs,
    unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos() + offsetNanos,
    currentTimeMillis: Effect.sync(() => base.unsafeCurrentTimeMillis() + offsetMs),
    currentTimeNanos: Effect.sync(() => base.unsafeCurrentTimeNanos() + offsetNanos),
    sleep: (duration) => base.sleep(duration)
  }
}

const clientLayer = (config: WorkerConfig, url: string): Layer.Layer<SqlClient.SqlClient, unknown> =>
  config.backend === "postgres"
    ? PgClient.layer({
        url: Redacted.make(url),
        maxConnections: config.maxConnections,
        connectTimeout: "5 seconds"
      })
    : config.backend === "mariadb"
      ? MysqlClient.layer({ url: Redacted.make(url), maxConnections: config.maxConnections })
      : SqliteClient.layer({ filename: url })

/** Ledger writes are instrumentation: retried through short outages, then given up (logged). */
const retryLedger = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<void, never, R> =>
  effect.pipe(
    Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("30 seconds"))),
    Effect.catchAllCause((cause) => Effect.logError("Could not write to the ledger", cause)),
    Effect.asVoid
  )

const program = (config: WorkerConfig) =>
  Effect.gen(function* () {
    const base = {
      slot: config.slot,
      generation: config.generation,
      pid: process.pid
    }
    let instanceId = "starting"
    let written = 0
    const row = (
      kind: LedgerKind,
      fields: {
        run_id: string
        origin_id: string
        attempt: number
        detail?: string
        claim?: string
        accepted?: number
        /** The executing instance (a job's rows: its `RunInfo`, known before the instance's own id is, at startup). */
        instance?: string
      }
    ): Effect.Effect<LedgerInsert> =>
      Effect.map(Clock.currentTimeMillis, (now) => ({
        entry: `${config.slot}.${config.generation}.${process.pid}.${++written}`,
        kind,
        run_id: fields.run_id,
        origin_id: fields.origin_id,
        attempt: fields.attempt,
        instance: fields.instance ?? instanceId,
        ...base,
        local_at: now,
        detail: fields.detail ?? "",
        claim: fields.claim ?? "",
        accepted: fields.accepted ?? 0
      }))

    // the ledger's client; the store's is another one when the store connects elsewhere (a proxy)
    const sqlLayer = clientLayer(config, config.url)
    const storeClient = config.storeUrl === undefined ? sqlLayer : clientLayer(config, config.storeUrl)

    /** The SqlStore, with its settlements and takeovers recorded in the ledger. */
    const recordingStore = Layer.effect(
      JobStore.JobStore,
      Effect.gen(function* () {
        const store = yield* JobStore.JobStore
        const sql = yield* SqlClient.SqlClient
        const record = (rows: ReadonlyArray<LedgerInsert>) =>
          retryLedger(appendLedger(rows).pipe(Effect.provideService(SqlClient.SqlClient, sql)))
        const shape: JobStore.JobStoreShape = {
          ...store,
          settle: (settlements) =>
            Effect.tap(store.settle(settlements), (accepted) =>
              Effect.flatMap(
                Effect.forEach(settlements, (settlement, i) =>
                  row("settle", {
                    run_id: settlement.id,
                    origin_id: settlement._tag === "Next" ? settlement.next.originId : settlement.id,
                    attempt: 0,
                    detail: settlement._tag === "Next" ? `Next:${settlement.outcome}` : settlement._tag,
                    claim: settlement.claim,
                    accepted: accepted[i] === true ? 1 : 0
                  })
                ),
                record
              )
            ),
          reap: (request) =>
            Effect.tap(store.reap(request), (reaped) =>
              Effect.flatMap(
                Effect.all([
                  Effect.forEach(reaped.taken, (run) =>
                    row("reap", {
                      run_id: run.id,
                      origin_id: run.originId,
                      attempt: run.runTotalCount,
                      detail: `${run.reason}:${run.startedBy ?? ""}`.slice(0, 64),
                      claim: run.claim,
                      accepted: 1
                    })
                  ),
                  Effect.forEach(reaped.givenBack, (run) =>
                    row("giveBack", {
                      run_id: run.id,
                      origin_id: run.originId,
                      attempt: 0,
                      detail: (run.startedBy ?? "").slice(0, 64),
                      claim: "",
                      accepted: 1
                    })
                  )
                ]),
                ([taken, givenBack]) => record([...taken, ...givenBack])
              )
            )
        }
        return shape
      })
    ).pipe(Layer.provide(SqlStore.layer().pipe(Layer.provide(storeClient))))

    const job = workIn(config.instance.queue)
    const work = job.toLayer(({ ms }) =>
      Effect.gen(function* () {
        const info = yield* RunInfo
        const fields = {
          run_id: info.id,
          origin_id: info.originId,
          attempt: info.runTotalCount,
          instance: info.runStartedBy
        }
        yield* Effect.flatMap(row("start", fields), (entry) => retryLedger(appendLedger([entry])))
        yield* Effect.sleep(Duration.millis(ms))
        yield* Effect.flatMap(row("end", fields), (entry) => retryLedger(appendLedger([entry])))
      }).pipe(
        Effect.onInterrupt(() =>
          Effect.flatMap(RunInfo, (info) =>
            Effect.flatMap(
              row("interrupted", {
                run_id: info.id,
                origin_id: info.originId,
                attempt: info.runTotalCount,
                instance: info.runStartedBy
              }),
              (entry) => appendLedger([entry]).pipe(Effect.timeout("2 seconds"), Effect.ignore)
            )
          )
        )
      )
    )

    const block = Block.toLayer(({ blockMs }) =>
      Effect.gen(function* () {
        const info = yield* RunInfo
        const fields = {
          run_id: info.id,
          origin_id: info.originId,
          attempt: info.runTotalCount,
          instance: info.runStartedBy
        }
        yield* Effect.flatMap(row("start", fields), (entry) => retryLedger(appendLedger([entry])))
        if (info.runTotalCount === 1) {
          const until = Date.now() + blockMs
          while (Date.now() < until) {
            // the event loop, heartbeat and timers included, is blocked
          }
        }
        yield* Effect.flatMap(row("end", fields), (entry) => retryLedger(appendLedger([entry])))
      })
    )

    const options = config.instance
    const instance = JobsS.layer({
      workers: options.workers,
      pollInterval: Duration.millis(options.pollIntervalMs),
      heartbeatInterval: Duration.millis(options.heartbeatIntervalMs),
      leaseDuration: Duration.millis(options.leaseMs),
      timeoutCheck: Duration.millis(options.timeoutCheckMs),
      shutdownTimeout: Duration.millis(options.shutdownTimeoutMs),
      instanceName: `slot${config.slot}.${config.generation}-pid${process.pid}`,
      schedules: [Every],
      ...(options.runTimeoutMs === undefined ? {} : { runTimeout: Duration.millis(options.runTimeoutMs) }),
      ...(options.retriesErrorLimit === undefined ? {} : { retriesErrorLimit: options.retriesErrorLimit }),
      ...(options.retriesTimeoutLimit === undefined ? {} : { retriesTimeoutLimit: options.retriesTimeoutLimit }),
      ...(options.claimAheadMs === undefined ? {} : { claimAhead: Duration.millis(options.claimAheadMs) })
    })

    const app = Layer.merge(work, block).pipe(
      Layer.provideMerge(instance),
      Layer.provide(recordingStore),
      Layer.provideMerge(sqlLayer)
    )

    const context = yield* Layer.build(app)
    instanceId = Context.get(context, JobsS.JobsS).instanceId
    const scheduler = Context.get(context, Scheduler.Scheduler)
    // Requests run on this fiber's runtime: the same (possibly skewed) clock and log level.
    const runtime = yield* Effect.runtime<never>()

    const handle = (message: ParentMessage) =>
      Effect.gen(function* () {
        if (message.at !== undefined) {
          yield* Effect.sleep(Duration.millis(Math.max(0, message.at - Date.now())))
        }
        const calledAt = Date.now()
        const ids = yield* Effect.forEach(
          message.runs,
          (run) =>
            scheduler.createRun(
              job,
              { n: run.n, ms: run.ms },
              {
                ...(run.delayMs > 0 ? { delay: Duration.millis(run.delayMs) } : {}),
                ...(run.partitionKey === undefined ? {} : { partitionKey: run.partitionKey }),
                ...(message.unique === undefined ? {} : { unique: message.unique })
              }
            ),
          { concurrency: 4 }
        )
        send({ _tag: "Created", requestId: message.requestId, ids, calledAt })
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.sync(() => send({ _tag: "Refused", requestId: message.requestId, message: Cause.pretty(cause) }))
        )
      )

    process.on("message", (message: ParentMessage) => {
      Runtime.runFork(runtime)(handle(message))
    })
    yield* Effect.logInfo(`Ready: instance ${instanceId}, slot ${config.slot}, pid ${process.pid}`)
    send({ _tag: "Ready", instanceId, pid: process.pid })
    return yield* Effect.never
  })

/** Logs (to stderr, which the harness keeps in a file) when the event loop was blocked, e.g. by CPU starvation. */
const watchEventLoop = (): void => {
  let last = Date.now()
  setInterval(() => {
    const now = Date.now()
    const lag = now - last - 100
    if (lag > 500) console.error(`${new Date(now).toISOString()} event loop blocked for ${lag} ms`)
    last = now
  }, 100).unref()
}

const main = Effect.gen(function* () {
  const config = yield* Schema.decodeUnknown(Schema.parseJson(WorkerConfig))(process.env[configVariable] ?? "")
  const level = LogLevel.allLevels.find((l) => l.label === config.logLevel.toUpperCase()) ?? LogLevel.Info
  return yield* program(config).pipe(
    Effect.scoped,
    Effect.withClock(skewedClock(config.clockOffsetMs)),
    Logger.withMinimumLogLevel(level)
  )
})

watchEventLoop()
const fiber = Effect.runFork(main)
let terminating = false
process.on("SIGTERM", () => {
  if (terminating) return
  terminating = true
  console.log(`${new Date().toISOString()} SIGTERM: shutting the instance down`)
  Effect.runFork(Fiber.interrupt(fiber))
})
// The parent went away (it crashed or was killed): never outlive it.
process.on("disconnect", () => {
  if (!terminating) process.exit(3)
})
fiber.addObserver((exit) => {
  if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) {
    console.log(`${new Date().toISOString()} stopped`)
    process.exit(0)
  }
  console.error(`${new Date().toISOString()} failed:\n${Cause.pretty(exit.cause)}`)
  process.exit(1)
})
