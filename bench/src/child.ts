/**
 * A consumer process: runs one system's worker, so that its CPU and memory are its own.
 * Driven by the parent over IPC (see `ToChild` / `FromChild` in common.ts):
 *   spec -> ready; go -> (drain) done | (listen) running, started..., stop -> stopped.
 */
import type { ConsumerSpec, DrainResult, FromChild, ToChild } from "./common.js"
import { now, peakRssMiB, round, sleep } from "./common.js"
import type { Consumer, OnJob } from "./peers/consumer.js"

const send = (message: FromChild): void => {
  process.send?.(message)
}

const makeConsumer = async (spec: ConsumerSpec, onJob: OnJob): Promise<Consumer> => {
  switch (spec.system) {
    case "jobss":
      return (await import("./jobss.js")).jobssConsumer(spec, onJob)
    case "graphile":
      return (await import("./peers/graphile.js")).graphileConsumer(spec, onJob)
    case "pgboss":
      return (await import("./peers/pgboss.js")).pgbossConsumer(spec, onJob)
    case "persisted":
      return (await import("./peers/persisted.js")).persistedConsumer(spec, onJob)
    case "plainjob":
      return (await import("./peers/plainjob.js")).plainjobConsumer(spec, onJob)
    case "raw":
      return (await import("./peers/raw.js")).rawConsumer(spec, onJob)
  }
}

let spec: ConsumerSpec | undefined
let consumer: Consumer | undefined
let executed = 0
let duplicates = 0
let seen = new Uint8Array(0)
let allExecuted: () => void = () => {}

const drainOnJob: OnJob = (i) => {
  executed += 1
  if (i >= 0 && i < seen.length) {
    if (seen[i] === 1) duplicates += 1
    seen[i] = 1
  }
  if (executed >= seen.length) allExecuted()
}

const listenOnJob: OnJob = (i, due) => {
  send({ type: "started", i, at: now(), due })
}

const drain = async (current: ConsumerSpec, worker: Consumer): Promise<DrainResult> => {
  const started = now()
  const cpuBefore = process.cpuUsage()
  const executedAll = new Promise<void>((resolve) => {
    allExecuted = resolve
  })
  if (current.count === 0) allExecuted()
  await worker.start()
  const startupMs = now() - started
  const deadline = started + current.capMs
  let capped = await Promise.race([executedAll.then(() => false), sleep(current.capMs).then(() => true)])
  // Every job ran; now wait until the database says each one is completed.
  let remaining = 0
  for (;;) {
    remaining = await worker.remaining()
    if (remaining === 0 || capped) break
    if (now() > deadline) {
      capped = true
      remaining = await worker.remaining()
      break
    }
    await sleep(2)
  }
  const elapsedMs = now() - started
  const cpu = process.cpuUsage(cpuBefore)
  let missing = 0
  for (let i = 0; i < seen.length; i++) if (seen[i] === 0) missing += 1
  const completed = current.count - remaining
  return {
    elapsedMs: round(elapsedMs, 1),
    executed,
    duplicates,
    missing,
    remaining,
    capped,
    perSecond: round((completed / elapsedMs) * 1000, 0),
    peakRssMiB: peakRssMiB(),
    startupMs: round(startupMs, 1),
    cpuMsPer1000: completed > 0 ? round((cpu.user + cpu.system) / completed, 1) : 0,
    ...(current.system === "jobss" ? { store: (await import("./jobss.js")).storeTimingsRounded() } : {})
  }
}

process.on("message", (message: ToChild) => {
  const handle = async () => {
    switch (message.type) {
      case "spec": {
        spec = message.spec
        seen = new Uint8Array(spec.mode === "drain" ? spec.count : 0)
        consumer = await makeConsumer(spec, spec.mode === "drain" ? drainOnJob : listenOnJob)
        send({ type: "ready" })
        return
      }
      case "go": {
        if (!spec || !consumer) throw new Error("go before spec")
        if (spec.mode === "drain") {
          const result = await drain(spec, consumer)
          send({ type: "done", result })
          await consumer.stop()
          process.exit(0)
        }
        await consumer.start()
        send({ type: "running" })
        return
      }
      case "stop": {
        await consumer?.stop()
        send({ type: "stopped", peakRssMiB: peakRssMiB() })
        process.exit(0)
      }
    }
  }
  handle().catch((error: unknown) => {
    send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
    process.exit(1)
  })
})

// The parent going away (Ctrl-C, crash) ends this process too.
process.on("disconnect", () => process.exit(1))
