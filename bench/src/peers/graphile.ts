/**
 * graphile-worker, used as a library: a runner as the consumer, WorkerUtils as the producer.
 */
import { Logger, type Runner, type WorkerUtils, makeWorkerUtils, run } from "graphile-worker"
import pg from "pg"
import type { ConsumerSpec } from "../common.js"
import { type Consumer, type OnJob, countOf, onePool, queueName } from "./consumer.js"

const silentGraphileLogger = new Logger(() => () => {})

/**
 * graphile-worker's configurations: `default` (no local queue, one completion per job), `lq500`
 * (`localQueue.size` 500, the "best") and `lq500batch` (also `completeJobBatchDelay: 0`,
 * which completes the jobs finishing together in one statement: its fastest documented setup).
 */
const graphilePresets: Record<string, GraphileConfig.Preset | undefined> = {
  default: undefined,
  lq500: { worker: { localQueue: { size: 500 } } },
  lq500batch: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0 } }
}

const graphileRemaining = "SELECT count(*) AS n FROM graphile_worker._private_jobs"

/** A graphile-worker runner with `concurrency = workers`. */
export const graphileConsumer = async (spec: ConsumerSpec, onJob: OnJob): Promise<Consumer> => {
  const pool = onePool(spec.url)
  let runner: Runner | undefined
  const preset = graphilePresets[spec.variant]
  return {
    start: async () => {
      runner = await run({
        connectionString: spec.url,
        concurrency: spec.workers,
        noHandleSignals: true,
        logger: silentGraphileLogger,
        crontab: "",
        taskList: {
          [queueName]: async (payload) => {
            onJob((payload as { i: number }).i, null)
          }
        },
        ...(preset ? { preset } : {})
      })
    },
    remaining: () => countOf(pool, graphileRemaining),
    stop: async () => {
      await runner?.stop()
      await pool.end()
    }
  }
}

/**
 * graphile-worker's WorkerUtils (installs its schema on first use), on a pool of ours: graphile-worker
 * ends a pool of its own without waiting for its connections to close, so dropping the case's
 * database right after `release` could terminate one of them, and its pool, with no error listener,
 * would throw the error out of the process. `release` here ends the pool and waits for it.
 */
export const graphileUtils = async (url: string): Promise<WorkerUtils> => {
  const pgPool = new pg.Pool({ connectionString: url })
  pgPool.on("error", () => {})
  pgPool.on("connect", (client) => client.on("error", () => {}))
  const utils = await makeWorkerUtils({ pgPool, logger: silentGraphileLogger })
  await utils.migrate()
  return {
    ...utils,
    release: async () => {
      await utils.release()
      await pgPool.end()
    }
  }
}
