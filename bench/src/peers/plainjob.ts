/**
 * plainjob, a SQLite job queue on better-sqlite3, used as a library: its queue as the producer, its
 * workers as the consumer.
 */
import type { Queue } from "plainjob"
import type { ConsumerSpec } from "../common.js"
import { type Consumer, type OnJob, queueName } from "./consumer.js"

type PlainjobModule = typeof import("plainjob")

const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} }

/**
 * A plainjob queue on the SQLite file (it creates its tables, sets WAL with `synchronous = NORMAL`
 * and starts its maintenance timer; `close` stops it and closes the connection).
 */
export const plainjobQueue = async (
  file: string
): Promise<{ readonly module: PlainjobModule; readonly queue: Queue }> => {
  const module = await import("plainjob")
  const { default: Database } = await import("better-sqlite3")
  const queue = module.defineQueue({ connection: module.better(new Database(file)), logger: silent })
  return { module, queue }
}

/**
 * `workers` plainjob workers on one queue. A plainjob worker runs one job at a time (it has no
 * concurrency or batch option): claim (`BEGIN IMMEDIATE`, select, update), run, mark done.
 */
export const plainjobConsumer = async (spec: ConsumerSpec, onJob: OnJob): Promise<Consumer> => {
  const { module, queue } = await plainjobQueue(spec.url)
  const workers = Array.from({ length: spec.workers }, () =>
    module.defineWorker(
      queueName,
      (job) => {
        onJob((JSON.parse(job.data) as { i: number }).i, null)
      },
      { queue, logger: silent }
    )
  )
  let loops: Array<Promise<void>> = []
  return {
    start: async () => {
      // Each worker's `start` resolves when it is stopped.
      loops = workers.map((worker) =>
        worker.start().catch((error: unknown) => console.error(`[plainjob] ${String(error)}`))
      )
    },
    remaining: async () =>
      queue.countJobs({ type: queueName, status: module.JobStatus.Pending }) +
      queue.countJobs({ type: queueName, status: module.JobStatus.Processing }),
    stop: async () => {
      await Promise.all(workers.map((worker) => worker.stop()))
      await Promise.all(loops)
      queue.close()
    }
  }
}
