/**
 * How the parent installs each system's schema and fills its queue before a throughput run.
 */
import type { Backend, SystemId } from "./common.js"
import { queueName } from "./peers/consumer.js"
import { graphileUtils } from "./peers/graphile.js"
import { persistedFill, persistedSetup } from "./peers/persisted.js"
import { pgboss, pgbossQueue } from "./peers/pgboss.js"
import { plainjobQueue } from "./peers/plainjob.js"
import { rawFill, rawSchema } from "./peers/raw.js"

/** Jobs per insert round trip when filling a queue (each system's batch API). */
export const fillBatch = 1_000

/** One system on one backend, as the parent drives it. */
export interface SystemSetup {
  /** Installs the schema in an empty database. */
  readonly install: (url: string) => Promise<void>
  /** Inserts `count` no-op jobs `{ i }` (i in [0, count)). */
  readonly fill: (url: string, count: number) => Promise<void>
}

const jobss = (backend: Backend): SystemSetup => ({
  install: async (url) => {
    const { jobssProducer } = await import("./jobss.js")
    const producer = await jobssProducer(backend, url) // SqlStore migrates on start
    await producer.close()
  },
  fill: async (url, count) => {
    if (backend === "postgres") {
      // One INSERT ... SELECT in SqlStore's layout: filling 200,000 runs through createRuns would
      // take most of a minute per repetition (the enqueue case measures createRuns).
      const { generate } = await import("./jobssRows.js")
      const { pgExec } = await import("./db.js")
      await pgExec(url, generate("pending", 0, count - 1, Date.now() - count - 60_000, "fill"))
      return
    }
    const { jobssProducer } = await import("./jobss.js")
    const producer = await jobssProducer(backend, url)
    try {
      for (let from = 0; from < count; from += fillBatch) {
        await producer.createRuns(from, Math.min(fillBatch, count - from))
      }
    } finally {
      await producer.close()
    }
  }
})

const graphile: SystemSetup = {
  install: async (url) => {
    const utils = await graphileUtils(url)
    await utils.release()
  },
  fill: async (url, count) => {
    const utils = await graphileUtils(url)
    try {
      for (let from = 0; from < count; from += fillBatch) {
        const size = Math.min(fillBatch, count - from)
        await utils.addJobs(
          Array.from({ length: size }, (_, k) => ({ identifier: queueName, payload: { i: from + k } }))
        )
      }
    } finally {
      await utils.release()
    }
  }
}

const pgbossSetup: SystemSetup = {
  install: async (url) => {
    const boss = await pgboss(url, { listen: false, worker: false })
    await pgbossQueue(boss, false)
    await boss.stop({ graceful: false })
  },
  fill: async (url, count) => {
    const boss = await pgboss(url, { listen: false, worker: false })
    try {
      for (let from = 0; from < count; from += fillBatch) {
        const size = Math.min(fillBatch, count - from)
        await boss.insert(
          queueName,
          Array.from({ length: size }, (_, k) => ({ data: { i: from + k } }))
        )
      }
    } finally {
      await boss.stop({ graceful: false })
    }
  }
}

const persisted: SystemSetup = {
  install: persistedSetup,
  fill: persistedFill // one INSERT ... SELECT: SqlPersistedQueue has no batch API
}

const plainjob: SystemSetup = {
  install: async (file) => {
    const { queue } = await plainjobQueue(file)
    queue.close()
  },
  fill: async (file, count) => {
    const { queue } = await plainjobQueue(file)
    try {
      for (let from = 0; from < count; from += fillBatch) {
        const size = Math.min(fillBatch, count - from)
        queue.addMany(
          queueName,
          Array.from({ length: size }, (_, k) => ({ i: from + k }))
        )
      }
    } finally {
      queue.close()
    }
  }
}

const raw = (backend: Backend): SystemSetup => ({
  install: async (url) => {
    if (backend === "postgres") {
      const pg = (await import("pg")).default
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        for (const statement of rawSchema.postgres) await client.query(statement)
      } finally {
        await client.end()
      }
    }
  },
  fill: (url, count) => rawFill(backend, url, count)
})

/** The setup of `system` on `backend`. */
export const setupOf = (system: SystemId, backend: Backend): SystemSetup => {
  switch (system) {
    case "jobss":
      return jobss(backend)
    case "graphile":
      return graphile
    case "pgboss":
      return pgbossSetup
    case "persisted":
      return persisted
    case "plainjob":
      return plainjob
    case "raw":
      return raw(backend)
  }
}
