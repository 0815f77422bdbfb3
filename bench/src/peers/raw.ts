/**
 * The raw SQL ceilings: claim 100 (SKIP LOCKED where the dialect has it), then complete 100, with plain drivers.
 */
import pg from "pg"
import type { Backend, ConsumerSpec } from "../common.js"
import type { Consumer, OnJob } from "./consumer.js"

/** The raw ceiling's batch size. */
export const rawBatch = 100

/** Clients of the raw ceiling: 4 on the servers; SQLite has one writer, so one. */
export const rawClients = (backend: Backend): number => (backend === "sqlite" ? 1 : 4)

/** The raw queue's table, per dialect. */
export const rawSchema: Record<Backend, ReadonlyArray<string>> = {
  postgres: [
    `CREATE TABLE IF NOT EXISTS bench_raw (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      args text NOT NULL,
      status text NOT NULL DEFAULT 'pending',
      run_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz
    )`,
    "CREATE INDEX IF NOT EXISTS bench_raw_due ON bench_raw (run_at, id) WHERE status = 'pending'"
  ],
  mariadb: [
    `CREATE TABLE IF NOT EXISTS bench_raw (
      id BIGINT AUTO_INCREMENT PRIMARY KEY,
      args TEXT NOT NULL,
      status VARCHAR(16) NOT NULL DEFAULT 'pending',
      run_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      started_at DATETIME(3) NULL,
      finished_at DATETIME(3) NULL,
      KEY bench_raw_due (status, run_at, id)
    ) ENGINE=InnoDB`
  ],
  sqlite: [
    `CREATE TABLE IF NOT EXISTS bench_raw (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      args TEXT NOT NULL,
      status TEXT NOT NULL DEFAULT 'pending',
      run_at INTEGER NOT NULL,
      started_at INTEGER,
      finished_at INTEGER
    )`,
    "CREATE INDEX IF NOT EXISTS bench_raw_due ON bench_raw (run_at, id) WHERE status = 'pending'"
  ]
}

/** The raw ceiling: `rawClients` connections each claiming 100 and completing 100 until none is left. */
export const rawConsumer = async (spec: ConsumerSpec, onJob: OnJob): Promise<Consumer> => {
  const handle = (rows: ReadonlyArray<{ id: number | string; args: string }>) => {
    for (const row of rows) onJob((JSON.parse(row.args) as { i: number }).i, null)
  }
  if (spec.backend === "postgres") {
    // `pg-delete`: completed rows are deleted (as graphile-worker does) instead of kept as history.
    const deleteOnComplete = spec.variant === "pg-delete"
    const clients = Array.from({ length: rawClients("postgres") }, () => new pg.Client({ connectionString: spec.url }))
    await Promise.all(clients.map((client) => client.connect()))
    const loops: Array<Promise<void>> = []
    const loop = async (client: pg.Client) => {
      for (;;) {
        const claimed = await client.query<{ id: string; args: string }>({
          name: "claim",
          text: `UPDATE bench_raw SET status = 'running', started_at = now()
                 WHERE id IN (SELECT id FROM bench_raw WHERE status = 'pending' AND run_at <= now()
                              ORDER BY run_at, id LIMIT ${rawBatch} FOR UPDATE SKIP LOCKED)
                 RETURNING id, args`
        })
        if (claimed.rows.length === 0) return
        handle(claimed.rows)
        await client.query({
          name: "complete",
          text: deleteOnComplete
            ? "DELETE FROM bench_raw WHERE id = ANY($1::bigint[])"
            : "UPDATE bench_raw SET status = 'succeeded', finished_at = now() WHERE id = ANY($1::bigint[])",
          values: [claimed.rows.map((row) => row.id)]
        })
      }
    }
    return {
      start: async () => {
        for (const client of clients) loops.push(loop(client))
      },
      remaining: async () => {
        const result = await (clients[0] as pg.Client).query<{ n: string }>(
          "SELECT count(*) AS n FROM bench_raw WHERE status <> 'succeeded'"
        )
        return Number(result.rows[0]?.n ?? 0)
      },
      stop: async () => {
        await Promise.allSettled(loops)
        await Promise.all(clients.map((client) => client.end()))
      }
    }
  }
  if (spec.backend === "mariadb") {
    const mysql = await import("mysql2/promise")
    const connections = await Promise.all(
      Array.from({ length: rawClients("mariadb") }, () => mysql.createConnection(spec.url))
    )
    const loops: Array<Promise<void>> = []
    const loop = async (connection: import("mysql2/promise").Connection) => {
      for (;;) {
        await connection.query("START TRANSACTION")
        const [rows] = await connection.execute(
          `SELECT id, args FROM bench_raw WHERE status = 'pending' AND run_at <= NOW(3)
           ORDER BY run_at, id LIMIT ${rawBatch} FOR UPDATE SKIP LOCKED`
        )
        const claimed = rows as Array<{ id: number; args: string }>
        if (claimed.length === 0) {
          await connection.query("COMMIT")
          return
        }
        const ids = claimed.map((row) => Number(row.id)).join(",")
        await connection.query(`UPDATE bench_raw SET status = 'running', started_at = NOW(3) WHERE id IN (${ids})`)
        await connection.query("COMMIT")
        handle(claimed)
        await connection.query(`UPDATE bench_raw SET status = 'succeeded', finished_at = NOW(3) WHERE id IN (${ids})`)
      }
    }
    return {
      start: async () => {
        for (const connection of connections) loops.push(loop(connection))
      },
      remaining: async () => {
        const [rows] = await (connections[0] as import("mysql2/promise").Connection).query(
          "SELECT count(*) AS n FROM bench_raw WHERE status <> 'succeeded'"
        )
        return Number((rows as Array<{ n: number }>)[0]?.n ?? 0)
      },
      stop: async () => {
        await Promise.allSettled(loops)
        await Promise.all(connections.map((connection) => connection.end()))
      }
    }
  }
  const { default: Database } = await import("better-sqlite3")
  const db = new Database(spec.url)
  db.pragma("journal_mode = WAL")
  db.pragma("busy_timeout = 5000")
  const claim = db.prepare<[{ now: number }], { id: number; args: string }>(
    `UPDATE bench_raw SET status = 'running', started_at = @now
     WHERE id IN (SELECT id FROM bench_raw WHERE status = 'pending' AND run_at <= @now
                  ORDER BY run_at, id LIMIT ${rawBatch})
     RETURNING id, args`
  )
  const complete = db.prepare<[number, string]>(
    "UPDATE bench_raw SET status = 'succeeded', finished_at = ? WHERE id IN (SELECT value FROM json_each(?))"
  )
  let loop: Promise<void> = Promise.resolve()
  return {
    start: async () => {
      loop = (async () => {
        for (;;) {
          const claimed = claim.all({ now: Date.now() })
          if (claimed.length === 0) return
          handle(claimed)
          complete.run(Date.now(), JSON.stringify(claimed.map((row) => row.id)))
          // Let the event loop breathe (IPC, timers), as an asynchronous driver would.
          await new Promise<void>((resolve) => setImmediate(resolve))
        }
      })()
    },
    remaining: async () =>
      (db.prepare("SELECT count(*) AS n FROM bench_raw WHERE status <> 'succeeded'").get() as { n: number }).n,
    stop: async () => {
      await loop
      db.close()
    }
  }
}

/** Creates the raw queue's table and fills it with `count` pending rows `{ i }` in one statement. */
export const rawFill = async (backend: Backend, url: string, count: number): Promise<void> => {
  if (backend === "postgres") {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      for (const statement of rawSchema.postgres) await client.query(statement)
      await client.query(
        "INSERT INTO bench_raw (args) SELECT json_build_object('i', g)::text FROM generate_series(0, $1::int - 1) AS g",
        [count]
      )
      await client.query("ANALYZE bench_raw")
    } finally {
      await client.end()
    }
    return
  }
  if (backend === "mariadb") {
    const mysql = await import("mysql2/promise")
    const connection = await mysql.createConnection(url)
    try {
      for (const statement of rawSchema.mariadb) await connection.query(statement)
      // MariaDB's Sequence engine provides seq_<from>_to_<to> tables.
      await connection.query(
        `INSERT INTO bench_raw (args) SELECT CONCAT('{"i":', seq, '}') FROM seq_0_to_${Math.max(0, count - 1)}`
      )
      await connection.query("ANALYZE TABLE bench_raw")
    } finally {
      await connection.end()
    }
    return
  }
  const { default: Database } = await import("better-sqlite3")
  const db = new Database(url)
  try {
    db.pragma("journal_mode = WAL")
    for (const statement of rawSchema.sqlite) db.exec(statement)
    const insert = db.prepare("INSERT INTO bench_raw (args, run_at) VALUES (?, ?)")
    const at = Date.now()
    db.transaction(() => {
      for (let i = 0; i < count; i++) insert.run(`{"i":${i}}`, at)
    })()
  } finally {
    db.close()
  }
}
