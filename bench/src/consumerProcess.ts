/**
 * The parent's side of a consumer process (child.ts). The process runs as users run their workers:
 * child.ts and the adapters it loads are compiled to JavaScript first (`compiledChild`) and run by
 * plain `node`, so no loader hook inflates its memory (under tsx, measured in turn at 20,000 runs, JobsS,
 * whose Effect modules are many, peaked 53 MiB higher, graphile-worker 40). JobsS runs there as the parent does: from
 * its built `dist/` (what users install; `npm run bench` builds it first), or from its TypeScript
 * sources, through tsx, when the parent was started with the `@jobss/source` export condition (the
 * smoke test).
 */
import { type ChildProcess, fork } from "node:child_process"
import { rmSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { ConsumerSpec, DrainResult, FromChild, ToChild } from "./common.js"

/** Whether this process runs JobsS from its TypeScript sources (the `@jobss/source` condition), not `dist/`. */
export const jobssFromSources: boolean = import.meta.resolve("@jobss/core").endsWith(".ts")

/** This process's compiled consumer, under `bench/build` (so that its package imports resolve from the workspace). */
const childDir = fileURLToPath(new URL(`../build/child-${process.pid}/`, import.meta.url))

let compiling: Promise<string> | undefined

/**
 * child.ts compiled to JavaScript once per benchmark process: the bench's own modules bundled, one
 * file per adapter so a process loads only its system's, every package left to `node` to resolve.
 * Removed when this process exits.
 */
const compiledChild = (): Promise<string> => {
  compiling ??= import("esbuild").then(async ({ build }) => {
    process.once("exit", () => rmSync(childDir, { recursive: true, force: true }))
    await build({
      entryPoints: [fileURLToPath(new URL("./child.ts", import.meta.url))],
      outdir: childDir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      packages: "external",
      logLevel: "warning"
    })
    return join(childDir, "child.js")
  })
  return compiling
}

/** Every consumer process still alive, for cleanup on Ctrl-C. */
const live = new Set<ChildProcess>()

/** Kills every consumer process still alive. */
export const killConsumers = (): void => {
  for (const child of live) child.kill("SIGKILL")
  live.clear()
}

/** A started job: payload index, wall-clock start time, due time when the system knows it. */
export interface Started {
  readonly i: number
  readonly at: number
  readonly due: number | null
}

/** A consumer process. */
export interface ConsumerProcess {
  /** `drain` mode: starts the worker and resolves when all jobs are completed (or the cap). */
  readonly drain: () => Promise<DrainResult>
  /** `listen` mode: starts the worker; resolves once it runs. `onStarted` sees every job start. */
  readonly listen: (onStarted: (started: Started) => void) => Promise<void>
  /** Stops the worker (listen mode) and resolves its peak RSS in MiB. */
  readonly stop: () => Promise<number>
}

/** Forks a consumer for `spec` and waits until it is loaded and connected ("ready"). */
export const startConsumer = async (spec: ConsumerSpec): Promise<ConsumerProcess> => {
  const child = fork(await compiledChild(), [], {
    // BENCH_CPU_PROF=dir writes a V8 CPU profile of each consumer process there.
    execArgv: [
      ...(jobssFromSources ? ["--conditions=@jobss/source", "--import", "tsx"] : []),
      ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])
    ],
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  live.add(child)
  let onMessage: (message: FromChild) => void = () => {}
  let onExit: (why: string) => void = () => {}
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  /** Waits for the process to end on its own (it does after reporting), then kills it. */
  const ended = async () => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    await exited
    clearTimeout(timer)
  }
  child.on("message", (message: FromChild) => onMessage(message))
  child.on("exit", (code, signal) => {
    live.delete(child)
    onExit(`consumer process (${spec.system}/${spec.variant}) exited (code ${code}, signal ${signal})`)
  })
  child.on("error", (error) => onExit(`consumer process error: ${String(error)}`))

  /** Sends `message` (if any) and waits for a message of type `type`. */
  const request = <T extends FromChild["type"]>(
    message: ToChild | undefined,
    type: T,
    onOther?: (message: FromChild) => void
  ): Promise<Extract<FromChild, { type: T }>> =>
    new Promise((resolve, reject) => {
      onMessage = (received) => {
        if (received.type === type) resolve(received as Extract<FromChild, { type: T }>)
        else if (received.type === "error") reject(new Error(`${spec.system}/${spec.variant}: ${received.message}`))
        else onOther?.(received)
      }
      onExit = (why) => reject(new Error(why))
      if (message) child.send(message)
    })

  try {
    await request({ type: "spec", spec }, "ready")
  } catch (error) {
    child.kill("SIGKILL")
    throw error
  }
  let onStarted: (started: Started) => void = () => {}
  let stopping: Promise<number> | undefined
  return {
    drain: async () => {
      try {
        return (await request({ type: "go" }, "done")).result
      } finally {
        // It closes its connections and exits after reporting: wait, so its database can be dropped.
        await ended()
      }
    },
    listen: async (callback) => {
      onStarted = callback
      await request({ type: "go" }, "running", (message) => {
        if (message.type === "started") onStarted(message)
      })
      // Keep routing start reports until stopped.
      onMessage = (message) => {
        if (message.type === "started") onStarted(message)
      }
    },
    stop: () => {
      stopping ??= request({ type: "stop" }, "stopped", (message) => {
        if (message.type === "started") onStarted(message)
      })
        .then((message) => message.peakRssMiB)
        .finally(ended)
      return stopping
    }
  }
}
