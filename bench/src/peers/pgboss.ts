/**
 * pg-boss, used as a library.
 */
import type { ConsumerSpec } from "../common.js"
import { type Consumer, type OnJob, countOf, onePool, queueName } from "./consumer.js"

/** pg-boss's configurations: `batch100` (`batchSize` 100, `localConcurrency` 10) and `default`. */
export const pgbossVariants = ["batch100", "default"] as const

type PgBossModule = typeof import("pg-boss")
type PgBossInstance = InstanceType<PgBossModule["PgBoss"]>

/** A started pg-boss instance; `listen` turns LISTEN/NOTIFY on. */
export const pgboss = async (url: string, options: { listen: boolean; worker: boolean }): Promise<PgBossInstance> => {
  const { PgBoss } = await import("pg-boss")
  const boss = new PgBoss({
    connectionString: url,
    ...(options.listen ? { useListenNotify: true } : {}),
    // A producer only inserts: no maintenance or cron timers in the parent process.
    ...(options.worker ? {} : { supervise: false, schedule: false })
  })
  boss.on("error", (error: unknown) => console.error(`[pg-boss] ${String(error)}`))
  await boss.start()
  return boss
}

/** Creates the queue (with NOTIFY on inserts when `notify`). */
export const pgbossQueue = async (boss: PgBossInstance, notify: boolean): Promise<void> => {
  if (!(await boss.getQueue(queueName))) await boss.createQueue(queueName, notify ? { notify: true } : {})
  else if (notify) await boss.updateQueue(queueName, { notify: true })
}

const pgbossRemaining = `SELECT count(*) AS n FROM pgboss.job WHERE name = '${queueName}' AND state < 'completed'`

/** pg-boss work options per variant. `batch100` also fetches again at once while batches come back full. */
export const pgbossWorkOptions = (variant: string, workers: number) =>
  variant === "batch100"
    ? { batchSize: 100, localConcurrency: workers, burstWhenBatchFull: true }
    : variant === "batch100-noburst"
      ? { batchSize: 100, localConcurrency: workers }
      : {}

/** A pg-boss worker. */
export const pgbossConsumer = async (spec: ConsumerSpec, onJob: OnJob): Promise<Consumer> => {
  const pool = onePool(spec.url)
  let boss: PgBossInstance | undefined
  return {
    start: async () => {
      boss = await pgboss(spec.url, { listen: spec.mode === "listen", worker: true })
      await boss.work<{ i: number }>(queueName, pgbossWorkOptions(spec.variant, spec.workers), async (jobs) => {
        for (const job of jobs) onJob(job.data.i, null)
      })
    },
    remaining: () => countOf(pool, pgbossRemaining),
    stop: async () => {
      await boss?.stop({ graceful: true, timeout: 10_000 })
      await pool.end()
    }
  }
}
