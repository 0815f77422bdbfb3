/**
 * Multi-process clusters for reliability scenarios (`test/cluster/`): N child Node processes, each
 * a real JobsS instance (`test/cluster/worker.ts`) on one shared database, each job execution and
 * settlement written to a `ledger` table in that database. The test can SIGKILL, freeze
 * (SIGSTOP/SIGCONT), SIGTERM and restart children, ask them to create runs over IPC, and read the
 * ledger. Children's stdout/stderr go to files (kept when the test fails, or with
 * `JOBSS_CLUSTER_KEEP=1`). Every child is killed when the scope closes, and when this process exits.
 *
 * Also here: a PostgreSQL / MariaDB server the test owns and can restart on the same port and data
 * folder (`startServer`, for the outage scenario), and a lock that keeps heavy scenarios from
 * running at the same time in several vitest workers (`acquireScenarioLock`).
 *
 * ```ts
 * const db = yield* makeDatabase("postgres")
 * const cluster = yield* makeProcessCluster({ backend: "postgres", url: db.url, label: "crash", size: 4, instance })
 * yield* cluster.startAll
 * yield* cluster.kill(2)          // SIGKILL, logged in cluster.events
 * yield* cluster.start(2)         // a new process (generation + 1) in slot 2
 * const ledger = yield* cluster.ledger
 * ```
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import {
  closeSync as closeFd,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { chmod, chown, mkdtemp, readFile, rm } from "node:fs/promises"
import { connect, createServer } from "node:net"
import { tmpdir } from "node:os"
import { delimiter, dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { SqlClient } from "@effect/sql"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Data, Deferred, Duration, Effect, Exit, Layer, Redacted, type Scope } from "effect"
import {
  type ChildMessage,
  type LedgerRow,
  type ParentMessage,
  type RunRequest,
  type WorkerBackend,
  type WorkerConfig,
  type WorkerInstance,
  configVariable,
  createLedger,
  readLedger
} from "../cluster/protocol.js"

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
const workerPath = join(repoRoot, "test", "cluster", "worker.ts")
const bundleDir = join(repoRoot, "node_modules", ".cache", "jobss-cluster")

/** Something in the harness itself went wrong (a child would not start, a server would not stop, ...). */
export class HarnessError extends Data.TaggedError("HarnessError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/** `JOBSS_SOAK` (default 1): how much `npm run soak` scales the scenarios up. */
export const soakScale: number = Math.max(1, Number(process.env.JOBSS_SOAK ?? "1") || 1)

const keepLogs = process.env.JOBSS_CLUSTER_KEEP === "1"

// ---------------------------------------------------------------------------------------------
// Last-resort cleanup: whatever happens to the test, children and servers die with this process.

const livePids = new Set<number>()
const liveServers = new Set<number>()
let exitHookInstalled = false
const installExitHook = (): void => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on("exit", () => {
    for (const pid of livePids) signalPid(pid, "SIGKILL")
    for (const pid of liveServers) signalPid(pid, "SIGKILL")
  })
}

const signalPid = (pid: number, signal: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  }
}

const tail = (file: string, lines = 40): string => {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n")
  } catch {
    return "(no file)"
  }
}

// ---------------------------------------------------------------------------------------------
// The child program

let workerArgs: Promise<ReadonlyArray<string>> | undefined

/**
 * The node arguments that run `test/cluster/worker.ts`. Under `node --import tsx` a child needs
 * about 2 s of CPU to start (the loader hooks every module of effect), too much for 20 children
 * on 2 cores; so the worker is bundled once per test process with esbuild (tsx's own dependency)
 * into `node_modules/.cache/jobss-cluster/worker-<content hash>.mjs` (next to `node_modules`, so
 * `better-sqlite3` resolves), which starts in about 0.3 s. Bundles older than a day are removed.
 * JobsS comes from its sources (the `@jobss/source` export condition) either way.
 * `JOBSS_CLUSTER_TSX=1`, or esbuild missing, uses `--import tsx` instead.
 */
const workerCommand = (): Promise<ReadonlyArray<string>> => {
  workerArgs ??= (async (): Promise<ReadonlyArray<string>> => {
    const viaTsx = ["--conditions=@jobss/source", "--import", "tsx", workerPath]
    if (process.env.JOBSS_CLUSTER_TSX === "1") return viaTsx
    try {
      const esbuild = await import("esbuild")
      const result = await esbuild.build({
        entryPoints: [workerPath],
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        conditions: ["@jobss/source"],
        write: false,
        outfile: join(bundleDir, "worker.mjs"),
        external: ["better-sqlite3", "pg-native"],
        banner: {
          js: "import { createRequire as __jobssRequire } from 'node:module'; const require = __jobssRequire(import.meta.url);"
        },
        logLevel: "error"
      })
      const contents = result.outputFiles[0]!.contents
      mkdirSync(bundleDir, { recursive: true })
      const dayAgo = Date.now() - 24 * 3600_000
      for (const name of readdirSync(bundleDir)) {
        try {
          const file = join(bundleDir, name)
          if (statSync(file).mtimeMs < dayAgo) rmSync(file, { force: true })
        } catch {
          // removed meanwhile by another test process
        }
      }
      const outfile = join(bundleDir, `worker-${createHash("sha256").update(contents).digest("hex").slice(0, 16)}.mjs`)
      if (!existsSync(outfile)) {
        // written aside, then renamed: another test process may be starting children from it
        const partial = `${outfile}.${process.pid}.tmp`
        writeFileSync(partial, contents)
        renameSync(partial, outfile)
      } else {
        utimesSync(outfile, new Date(), new Date())
      }
      return [outfile]
    } catch (error) {
      console.log(`[cluster] cannot bundle the worker (${error}); children start with --import tsx`)
      return viaTsx
    }
  })()
  return workerArgs
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** What the harness starts every child with. */
export interface ClusterSpec {
  readonly backend: WorkerBackend
  /** Database URL; for SQLite the (WAL) file's path. */
  readonly url: string
  /** Names the log folder. */
  readonly label: string
  /** Number of slots (`startAll` starts one child in each). */
  readonly size: number
  readonly instance: WorkerInstance
  /** The database URL of each slot's JobsS store, if not `url` (a proxy per child); the ledger uses `url`. */
  readonly storeUrls?: ReadonlyArray<string | undefined>
  /** Clock offset of each slot in milliseconds (default 0). */
  readonly clockOffsets?: ReadonlyArray<number>
  /** Pool size of each child (PostgreSQL, MariaDB; default 4). */
  readonly maxConnections?: number
  /** Log level of the children (default `Info`). */
  readonly logLevel?: string
}

/** A control action, with the parent's wall-clock time (`Date.now()`) it happened at. */
export interface ControlEvent {
  readonly at: number
  readonly slot: number
  readonly generation: number
  readonly pid: number
  /** The child's JobsS instance id (empty until it is ready). */
  readonly instanceId: string
  readonly action: "start" | "ready" | "kill" | "freeze" | "thaw" | "term" | "exit"
  /** For `exit`: code or signal, and whether the harness expected it. */
  readonly detail?: string
  readonly expected?: boolean
}

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** A running (or ended) child. */
export interface ChildInfo {
  readonly slot: number
  readonly generation: number
  readonly pid: number
  readonly instanceId: string
  readonly logFile: string
  readonly errFile: string
}

interface ChildState {
  readonly info: Omit<ChildInfo, "instanceId"> & { instanceId: string }
  readonly process: ChildProcess
  readonly exited: Deferred.Deferred<ChildExit>
  readonly pending: Map<number, (message: ChildMessage) => void>
  expectExit: boolean
  frozen: boolean
}

/** What a `create` request returned. */
export interface Created {
  readonly ids: ReadonlyArray<string>
  /** `Date.now()` in the child when it called `createRun`. */
  readonly calledAt: number
}

/** A cluster of child processes on one database. */
export interface ProcessCluster {
  readonly spec: ClusterSpec
  /** The folder with the children's logs (`slot<N>.<generation>.out/.err`). */
  readonly dir: string
  /** Starts a new process in `slot` (the previous one must have ended) and waits until it is ready. */
  readonly start: (slot: number) => Effect.Effect<ChildInfo, HarnessError>
  /** Starts every slot, concurrently. */
  readonly startAll: Effect.Effect<ReadonlyArray<ChildInfo>, HarnessError>
  /** SIGKILL (logged before the signal is sent), then waits for the exit. */
  readonly kill: (slot: number) => Effect.Effect<ControlEvent, HarnessError>
  /** SIGSTOP: the process and its connections hang. */
  readonly freeze: (slot: number) => Effect.Effect<ControlEvent, HarnessError>
  /** SIGCONT. */
  readonly thaw: (slot: number) => Effect.Effect<ControlEvent, HarnessError>
  /** SIGTERM, then waits up to `timeout` for the exit (graceful shutdown). */
  readonly terminate: (
    slot: number,
    timeout: Duration.DurationInput
  ) => Effect.Effect<{ readonly exit: ChildExit; readonly millis: number }, HarnessError>
  /** The child now in `slot`, if it runs. */
  readonly child: (slot: number) => Effect.Effect<ChildInfo | undefined>
  /** Asks the child in `slot` to create runs (optionally unique, optionally at a wall-clock time). */
  readonly create: (
    slot: number,
    runs: ReadonlyArray<RunRequest>,
    options?: { readonly unique?: string; readonly at?: number }
  ) => Effect.Effect<Created, HarnessError>
  /** Every control action so far, in order. */
  readonly events: Effect.Effect<ReadonlyArray<ControlEvent>>
  /** Children that ended without the harness killing or stopping them. */
  readonly unexpectedExits: Effect.Effect<ReadonlyArray<ControlEvent>>
  /** The ledger, read through the parent's own connection. */
  readonly ledger: Effect.Effect<ReadonlyArray<LedgerRow>, HarnessError>
  /** The end of a child's stderr and stdout, for failure messages. */
  readonly logTail: (slot: number) => Effect.Effect<string>
}

/** A parent-side client on the cluster's database (own pool of 2). */
export const parentClientLayer = (
  backend: WorkerBackend,
  url: string
): Layer.Layer<SqlClient.SqlClient, HarnessError> =>
  Layer.fresh(
    backend === "postgres"
      ? PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })
      : backend === "mariadb"
        ? MysqlClient.layer({ url: Redacted.make(url), maxConnections: 2 })
        : SqliteClient.layer({ filename: url })
  ).pipe(Layer.mapError((cause) => new HarnessError({ message: `cannot connect to ${backend}`, cause })))

/**
 * Starts nothing yet: creates the ledger table and the log folder; `start`/`startAll` spawn
 * children. Closing the scope kills every child (SIGCONT + SIGKILL) and removes the logs unless the
 * scope failed (or `JOBSS_CLUSTER_KEEP=1`).
 */
export const makeProcessCluster = (spec: ClusterSpec): Effect.Effect<ProcessCluster, HarnessError, Scope.Scope> =>
  Effect.gen(function* () {
    installExitHook()
    const sqlContext = yield* Layer.build(parentClientLayer(spec.backend, spec.url))
    const withSql = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
      Effect.provide(effect, sqlContext).pipe(
        Effect.mapError((cause) => new HarnessError({ message: "ledger query failed", cause }))
      )
    yield* withSql(createLedger)
    const events: Array<ControlEvent> = []

    const dir = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => mkdtemp(join(tmpdir(), `jobss-cluster-${spec.label}-`)),
        catch: (cause) => new HarnessError({ message: "cannot create the log folder", cause })
      }),
      (dir, exit) =>
        Exit.isSuccess(exit) && !keepLogs
          ? Effect.promise(() => rm(dir, { recursive: true, force: true }))
          : withSql(readLedger).pipe(
              Effect.flatMap((rows) =>
                Effect.sync(() =>
                  writeFileSync(join(dir, "ledger.jsonl"), rows.map((row) => JSON.stringify(row)).join("\n"))
                )
              ),
              Effect.catchAll(() => Effect.void),
              Effect.zipRight(
                Effect.sync(() => {
                  writeFileSync(join(dir, "events.jsonl"), events.map((event) => JSON.stringify(event)).join("\n"))
                  console.log(
                    `[cluster ${spec.label}] children's logs, the ledger and the control events kept in ${dir}`
                  )
                })
              )
            )
    )

    const slots = new Map<number, ChildState>()
    const generations = new Map<number, number>()
    let nextRequest = 1

    const log = (state: ChildState, action: ControlEvent["action"], extra?: Partial<ControlEvent>): ControlEvent => {
      const event: ControlEvent = {
        at: Date.now(),
        slot: state.info.slot,
        generation: state.info.generation,
        pid: state.info.pid,
        instanceId: state.info.instanceId,
        action,
        ...extra
      }
      events.push(event)
      return event
    }

    const live = (slot: number): Effect.Effect<ChildState, HarnessError> =>
      Effect.suspend(() => {
        const state = slots.get(slot)
        return state !== undefined && state.process.exitCode === null && state.process.signalCode === null
          ? Effect.succeed(state)
          : Effect.fail(new HarnessError({ message: `slot ${slot} has no running process` }))
      })

    const describeFailure = (state: ChildState, what: string) =>
      `${what} (slot ${state.info.slot}, pid ${state.info.pid}).\n--- stderr ---\n${tail(state.info.errFile)}\n--- stdout ---\n${tail(state.info.logFile, 15)}`

    const start = (slot: number): Effect.Effect<ChildInfo, HarnessError> =>
      Effect.gen(function* () {
        const previous = slots.get(slot)
        if (previous !== undefined && !(yield* Deferred.isDone(previous.exited))) {
          return yield* Effect.fail(new HarnessError({ message: `slot ${slot} still has a running process` }))
        }
        const generation = (generations.get(slot) ?? 0) + 1
        generations.set(slot, generation)
        const config: WorkerConfig = {
          backend: spec.backend,
          url: spec.url,
          ...(spec.storeUrls?.[slot] === undefined ? {} : { storeUrl: spec.storeUrls[slot] }),
          slot,
          generation,
          instance: spec.instance,
          clockOffsetMs: spec.clockOffsets?.[slot] ?? 0,
          maxConnections: spec.maxConnections ?? 4,
          logLevel: spec.logLevel ?? "Info"
        }
        const logFile = join(dir, `slot${slot}.${generation}.out`)
        const errFile = join(dir, `slot${slot}.${generation}.err`)
        const exited = yield* Deferred.make<ChildExit>()
        const ready = yield* Deferred.make<string, HarnessError>()
        const command = yield* Effect.promise(workerCommand)
        const child = yield* Effect.try({
          try: () => {
            const out = openSync(logFile, "a")
            const err = openSync(errFile, "a")
            try {
              return spawn(process.execPath, command, {
                cwd: repoRoot,
                env: { ...process.env, [configVariable]: JSON.stringify(config) },
                stdio: ["ignore", out, err, "ipc"]
              })
            } finally {
              closeFd(out)
              closeFd(err)
            }
          },
          catch: (cause) => new HarnessError({ message: `cannot spawn a child in slot ${slot}`, cause })
        })
        const pid = child.pid ?? -1
        livePids.add(pid)
        const state: ChildState = {
          info: { slot, generation, pid, instanceId: "", logFile, errFile },
          process: child,
          exited,
          pending: new Map(),
          expectExit: false,
          frozen: false
        }
        slots.set(slot, state)
        log(state, "start")
        child.on("message", (message: ChildMessage) => {
          if (message._tag === "Ready") {
            state.info.instanceId = message.instanceId
            Deferred.unsafeDone(ready, Exit.succeed(message.instanceId))
          } else {
            const reply = state.pending.get(message.requestId)
            state.pending.delete(message.requestId)
            reply?.(message)
          }
        })
        child.on("error", (error) => {
          Deferred.unsafeDone(ready, Exit.fail(new HarnessError({ message: `child in slot ${slot}: ${error}` })))
        })
        child.on("exit", (code, signal) => {
          livePids.delete(pid)
          log(state, "exit", { detail: signal ?? `code ${code}`, expected: state.expectExit })
          if (!state.expectExit) {
            console.log(`[cluster ${spec.label}] slot ${slot} (pid ${pid}) exited on its own: ${signal ?? code}`)
          }
          Deferred.unsafeDone(exited, Exit.succeed({ code, signal }))
          Deferred.unsafeDone(
            ready,
            Exit.fail(new HarnessError({ message: describeFailure(state, `child exited with ${signal ?? code}`) }))
          )
          for (const reply of state.pending.values())
            reply({ _tag: "Refused", requestId: -1, message: "the child exited" })
          state.pending.clear()
        })
        yield* Deferred.await(ready).pipe(
          Effect.timeoutFail({
            duration: Duration.seconds(60),
            onTimeout: () => new HarnessError({ message: describeFailure(state, "child not ready within 60 s") })
          })
        )
        log(state, "ready")
        return { ...state.info }
      })

    const waitExit = (state: ChildState, timeout: Duration.DurationInput) =>
      Deferred.await(state.exited).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new HarnessError({ message: describeFailure(state, "child did not exit in time") })
        })
      )

    const kill = (slot: number) =>
      Effect.gen(function* () {
        const state = yield* live(slot)
        state.expectExit = true
        const event = log(state, "kill")
        signalPid(state.info.pid, "SIGKILL")
        yield* waitExit(state, "10 seconds")
        return event
      })

    const freeze = (slot: number) =>
      Effect.gen(function* () {
        const state = yield* live(slot)
        state.frozen = true
        const event = log(state, "freeze")
        signalPid(state.info.pid, "SIGSTOP")
        return event
      })

    const thaw = (slot: number) =>
      Effect.gen(function* () {
        const state = yield* live(slot)
        state.frozen = false
        const event = log(state, "thaw")
        signalPid(state.info.pid, "SIGCONT")
        return event
      })

    const terminate = (slot: number, timeout: Duration.DurationInput) =>
      Effect.gen(function* () {
        const state = yield* live(slot)
        state.expectExit = true
        const event = log(state, "term")
        signalPid(state.info.pid, "SIGTERM")
        const exit = yield* waitExit(state, timeout)
        return { exit, millis: Date.now() - event.at }
      })

    const create: ProcessCluster["create"] = (slot, runs, options) =>
      Effect.gen(function* () {
        const state = yield* live(slot)
        const requestId = nextRequest++
        const message: ParentMessage = {
          _tag: "Create",
          requestId,
          runs,
          ...(options?.unique === undefined ? {} : { unique: options.unique }),
          ...(options?.at === undefined ? {} : { at: options.at })
        }
        const reply = yield* Effect.async<ChildMessage>((resume) => {
          state.pending.set(requestId, (answer) => resume(Effect.succeed(answer)))
          state.process.send(message)
          return Effect.sync(() => state.pending.delete(requestId))
        }).pipe(
          Effect.timeoutFail({
            duration: Duration.seconds(60),
            onTimeout: () => new HarnessError({ message: describeFailure(state, "no answer to a create request") })
          })
        )
        return reply._tag === "Created"
          ? { ids: reply.ids, calledAt: reply.calledAt }
          : yield* Effect.fail(
              new HarnessError({
                message: describeFailure(state, `create refused: ${reply._tag === "Refused" ? reply.message : ""}`)
              })
            )
      })

    // Kill everything at the end, frozen children included.
    yield* Effect.addFinalizer(() =>
      Effect.forEach(
        [...slots.values()],
        (state) =>
          Effect.gen(function* () {
            if (yield* Deferred.isDone(state.exited)) return
            state.expectExit = true
            signalPid(state.info.pid, "SIGCONT")
            signalPid(state.info.pid, "SIGKILL")
            yield* Deferred.await(state.exited).pipe(Effect.timeout("10 seconds"), Effect.ignore)
          }),
        { discard: true, concurrency: "unbounded" }
      )
    )

    return {
      spec,
      dir,
      start,
      startAll: Effect.forEach(
        Array.from({ length: spec.size }, (_, slot) => slot),
        start,
        { concurrency: "unbounded" }
      ),
      kill,
      freeze,
      thaw,
      terminate,
      child: (slot) =>
        Effect.sync(() => {
          const state = slots.get(slot)
          return state !== undefined && state.process.exitCode === null && state.process.signalCode === null
            ? { ...state.info }
            : undefined
        }),
      create,
      events: Effect.sync(() => [...events]),
      unexpectedExits: Effect.sync(() => events.filter((event) => event.action === "exit" && event.expected === false)),
      ledger: withSql(readLedger),
      logTail: (slot) =>
        Effect.sync(() => {
          const state = slots.get(slot)
          return state === undefined ? "(never started)" : describeFailure(state, "logs")
        })
    }
  })

// ---------------------------------------------------------------------------------------------
// A database server the test owns (restartable on the same port and data folder)

/** A PostgreSQL or MariaDB server the test started and can stop and start again. */
export interface OwnedServer {
  readonly backend: "postgres" | "mariadb"
  /** URL of the database the cluster uses (`jobss` on MariaDB, `postgres` on PostgreSQL). */
  readonly url: string
  readonly port: number
  readonly logFile: string
  /** Stops the server (PostgreSQL: fast shutdown, MariaDB: SIGTERM) and waits for it to exit. */
  readonly stop: Effect.Effect<void, HarnessError>
  /** Starts it again on the same port and data folder and waits until it accepts connections. */
  readonly start: Effect.Effect<void, HarnessError>
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0
const pgBin = process.env.JOBSS_PG_BIN ?? "/usr/lib/postgresql/15/bin"

const which = (name: string): string | undefined =>
  [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"]
    .filter((folder) => folder !== "")
    .map((folder) => join(folder, name))
    .find((path) => existsSync(path))

interface RunResult {
  readonly code: number
  readonly output: string
}

const runCommand = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly uid?: number; readonly gid?: number; readonly cwd?: string } = {}
): Effect.Effect<RunResult> =>
  Effect.async<RunResult>((resume) => {
    let output = ""
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] })
    child.stdout.on("data", (chunk) => {
      output += chunk
    })
    child.stderr.on("data", (chunk) => {
      output += chunk
    })
    child.on("error", (error) => resume(Effect.succeed({ code: -1, output: output + String(error) })))
    child.on("close", (code) => resume(Effect.succeed({ code: code ?? 1, output })))
  })

const mustRun = (
  what: string,
  command: string,
  args: ReadonlyArray<string>,
  options?: Parameters<typeof runCommand>[2]
) =>
  Effect.flatMap(runCommand(command, args, options), (result) =>
    result.code === 0
      ? Effect.succeed(result.output)
      : Effect.fail(
          new HarnessError({ message: `${what} failed (exit ${result.code}):\n${result.output.slice(-3000)}` })
        )
  )

const userIds = (name: string) =>
  Effect.gen(function* () {
    if (!isRoot) return undefined
    const uid = yield* runCommand("id", ["-u", name])
    const gid = yield* runCommand("id", ["-g", name])
    if (uid.code !== 0 || gid.code !== 0) {
      return yield* Effect.fail(
        new HarnessError({ message: `system user ${name} is missing (npm test creates it when it starts servers)` })
      )
    }
    return { uid: Number(uid.output.trim()), gid: Number(gid.output.trim()) }
  })

const freePort: Effect.Effect<number, HarnessError> = Effect.async((resume) => {
  const server = createServer()
  server.unref()
  server.on("error", (cause) => resume(Effect.fail(new HarnessError({ message: "no free port", cause }))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const accepts = (port: number): Effect.Effect<boolean> =>
  Effect.async((resume) => {
    const socket = connect({ host: "127.0.0.1", port })
    socket.setTimeout(1_000)
    const done = (ok: boolean) => {
      socket.destroy()
      resume(Effect.succeed(ok))
    }
    socket.on("connect", () => done(true))
    socket.on("error", () => done(false))
    socket.on("timeout", () => done(false))
  })

interface ServerProcess {
  readonly process: ChildProcess
  readonly exited: Deferred.Deferred<ChildExit>
}

/**
 * Starts a PostgreSQL 15 or MariaDB server of its own (same binaries and settings as
 * `scripts/databases.mjs`, which cannot restart a server) in a temporary folder, as the
 * `postgres` / `mysql` user when root. Stopped and deleted when the scope closes.
 */
export const startServer = (backend: "postgres" | "mariadb"): Effect.Effect<OwnedServer, HarnessError, Scope.Scope> =>
  Effect.gen(function* () {
    installExitHook()
    const owner = yield* userIds(backend === "postgres" ? "postgres" : "mysql")
    const asOwner = owner === undefined ? {} : { uid: owner.uid, gid: owner.gid }
    const root = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const folder = await mkdtemp(join(tmpdir(), `jobss-owned-${backend}-`))
          await chmod(folder, 0o755)
          if (owner !== undefined) await chown(folder, owner.uid, owner.gid)
          return folder
        },
        catch: (cause) => new HarnessError({ message: "cannot create the server folder", cause })
      }),
      (folder) => Effect.promise(() => rm(folder, { recursive: true, force: true }))
    )
    const data = join(root, "data")
    const logFile = join(root, "server.log")
    const port = yield* freePort
    let current: ServerProcess | undefined

    let command: string
    let args: ReadonlyArray<string>
    let stopSignal: NodeJS.Signals
    if (backend === "postgres") {
      const initdb = join(pgBin, "initdb")
      command = join(pgBin, "postgres")
      if (!existsSync(initdb) || !existsSync(command)) {
        return yield* Effect.fail(
          new HarnessError({ message: `PostgreSQL binaries not found in ${pgBin} (JOBSS_PG_BIN)` })
        )
      }
      yield* mustRun(
        "initdb",
        initdb,
        ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
        { cwd: root, ...asOwner }
      )
      args = [
        "-D",
        data,
        "-k",
        root,
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200"
      ]
      stopSignal = "SIGINT" // fast shutdown: open connections are terminated
    } else {
      const mariadbd = which("mariadbd")
      const installDb = which("mariadb-install-db")
      if (mariadbd === undefined || installDb === undefined) {
        return yield* Effect.fail(new HarnessError({ message: "mariadbd / mariadb-install-db not found" }))
      }
      command = mariadbd
      const userArgs = isRoot ? ["--user=mysql"] : []
      yield* mustRun(
        "mariadb-install-db",
        installDb,
        [
          "--no-defaults",
          ...userArgs,
          `--datadir=${data}`,
          "--auth-root-authentication-method=normal",
          "--skip-test-db",
          "--skip-name-resolve"
        ],
        { cwd: root }
      )
      args = [
        "--no-defaults",
        ...userArgs,
        `--datadir=${data}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--socket=${join(root, "mysqld.sock")}`,
        `--pid-file=${join(root, "mysqld.pid")}`,
        `--tmpdir=${root}`,
        "--max-connections=300",
        "--innodb-flush-log-at-trx-commit=2",
        "--innodb-doublewrite=0",
        "--skip-log-bin",
        "--skip-name-resolve",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_general_ci"
      ]
      stopSignal = "SIGTERM"
    }

    const waitReady = (server: ServerProcess) =>
      Effect.gen(function* () {
        const deadline = Date.now() + 60_000
        for (;;) {
          if (yield* Deferred.isDone(server.exited)) {
            return yield* Effect.fail(
              new HarnessError({ message: `${backend} exited during startup:\n${tail(logFile)}` })
            )
          }
          if (yield* accepts(port)) {
            // the port opens before the server accepts logins: try a real query
            const ok = yield* Effect.scoped(
              Effect.flatMap(Layer.build(parentClientLayer(backend, adminUrl)), (context) =>
                Effect.provide(
                  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`),
                  context
                )
              )
            ).pipe(
              Effect.as(true),
              Effect.catchAll(() => Effect.succeed(false))
            )
            if (ok) return
          }
          if (Date.now() > deadline) {
            return yield* Effect.fail(new HarnessError({ message: `${backend} not ready in 60 s:\n${tail(logFile)}` }))
          }
          yield* Effect.sleep("100 millis")
        }
      })

    const adminUrl =
      backend === "postgres" ? `postgres://postgres@127.0.0.1:${port}/postgres` : `mysql://root@127.0.0.1:${port}`
    const url = backend === "postgres" ? adminUrl : `${adminUrl}/jobss`

    const start = Effect.gen(function* () {
      if (current !== undefined && !(yield* Deferred.isDone(current.exited))) return
      const exited = yield* Deferred.make<ChildExit>()
      const child = yield* Effect.try({
        try: () => {
          const out = openSync(logFile, "a")
          try {
            // Not detached: in the test runner's process group, so `npm test` stopping the group
            // stops this server too, whatever happened to this process.
            return spawn(command, args, {
              cwd: root,
              stdio: ["ignore", out, out],
              ...asOwner,
              env: { ...process.env, ...(owner === undefined ? {} : { HOME: root }) }
            })
          } finally {
            closeFd(out)
          }
        },
        catch: (cause) => new HarnessError({ message: `cannot start ${backend}`, cause })
      })
      const pid = child.pid ?? -1
      liveServers.add(pid)
      child.on("exit", (code, signal) => {
        liveServers.delete(pid)
        Deferred.unsafeDone(exited, Exit.succeed({ code, signal }))
      })
      child.on("error", () => Deferred.unsafeDone(exited, Exit.succeed({ code: -1, signal: null })))
      current = { process: child, exited }
      yield* waitReady(current)
    })

    const stop = Effect.gen(function* () {
      const server = current
      if (server === undefined || (yield* Deferred.isDone(server.exited))) return
      const pid = server.process.pid ?? -1
      signalPid(pid, stopSignal)
      const stopped = yield* Deferred.await(server.exited).pipe(Effect.timeout("30 seconds"), Effect.option)
      if (stopped._tag === "None") {
        // a server that ignored the signal (PostgreSQL backends exit when their postmaster dies)
        signalPid(pid, "SIGKILL")
        yield* Deferred.await(server.exited).pipe(Effect.timeout("10 seconds"), Effect.ignore)
      }
    })

    yield* Effect.addFinalizer(() => stop.pipe(Effect.ignore))
    yield* start
    if (backend === "mariadb") {
      yield* Effect.scoped(
        Effect.flatMap(Layer.build(parentClientLayer(backend, adminUrl)), (context) =>
          Effect.provide(
            Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE DATABASE jobss CHARACTER SET utf8mb4`),
            context
          )
        )
      ).pipe(Effect.mapError((cause) => new HarnessError({ message: "cannot create the database", cause })))
    }
    return { backend, url, port, logFile, stop, start }
  })

// ---------------------------------------------------------------------------------------------
// One heavy scenario at a time across vitest workers

const lockDir = join(tmpdir(), "jobss-cluster-scenarios.lock")

/**
 * Waits until no other vitest worker runs a cluster scenario file, then holds the lock until
 * `releaseScenarioLock` (use in `beforeAll` / `afterAll` with a long hook timeout). A lock left
 * by a dead process is taken over.
 */
export const acquireScenarioLock = async (): Promise<void> => {
  for (;;) {
    try {
      mkdirSync(lockDir)
      writeFileSync(join(lockDir, "pid"), String(process.pid))
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      let owner = Number.NaN
      try {
        owner = Number(await readFile(join(lockDir, "pid"), "utf8"))
      } catch {
        // being written or removed
      }
      if (owner === process.pid) return
      if (Number.isInteger(owner) && owner > 0 && !signalPid(owner, 0)) {
        rmSync(lockDir, { recursive: true, force: true })
        continue
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}

/** Releases the lock taken by `acquireScenarioLock`. */
export const releaseScenarioLock = (): void => {
  try {
    if (Number(readFileSync(join(lockDir, "pid"), "utf8")) === process.pid) rmSync(lockDir, { recursive: true })
  } catch {
    // not held
  }
}
