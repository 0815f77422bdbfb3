/**
 * The benchmark's database servers.
 *
 * PostgreSQL runs with its default settings (fsync, synchronous_commit and full_page_writes on),
 * as the issue asks. `scripts/databases.mjs` turns those off for the tests (on the command line,
 * which ALTER SYSTEM cannot override), so the benchmark starts its own server with the same
 * helpers (`ensureInstalled`, `freePort`) instead. MariaDB comes from `startMariadb` and is made
 * durable again at run time (`innodb_flush_log_at_trx_commit = 1`; the doublewrite buffer stays
 * off, it cannot be changed without a restart). SQLite files get the driver's defaults (WAL).
 *
 * `BENCH_PG_URL` / `BENCH_MYSQL_URL` point the benchmark at existing servers instead (admin URLs
 * that may create databases); it then changes no server setting.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { chown, mkdtemp, open, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"

/** The part of `scripts/databases.mjs` the benchmark uses (a plain ESM script without types). */
interface DatabasesModule {
  readonly PG_BIN: string
  readonly ensureInstalled: (options: {
    readonly postgres?: boolean
    readonly mariadb?: boolean
    readonly log?: (message: string) => void
  }) => Promise<{ readonly postgres?: { readonly initdb: string; readonly postgres: string } }>
  readonly freePort: () => Promise<number>
  readonly startMariadb: (options: { readonly root?: string; readonly log?: (message: string) => void }) => Promise<{
    readonly url: string
    readonly stop: () => Promise<void>
  }>
}

const databasesUrl = new URL("../../scripts/databases.mjs", import.meta.url).href

/** Loads `scripts/databases.mjs`. */
export const databases = (): Promise<DatabasesModule> => import(databasesUrl) as Promise<DatabasesModule>

/** A running server (or an existing one: `stop` then does nothing). */
export interface Server {
  readonly url: string
  readonly stop: () => Promise<void>
  /** Settings that matter for the results, as read from the server. */
  readonly settings: Record<string, string>
  readonly version: string
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0

const run = (command: string, args: ReadonlyArray<string>, options: { uid?: number; gid?: number; cwd?: string }) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => {
      output += chunk
    })
    child.stderr.on("data", (chunk) => {
      output += chunk
    })
    child.on("error", (error) => resolve({ code: -1, output: output + String(error) }))
    child.on("close", (code) => resolve({ code: code ?? 1, output }))
  })

const userIds = async (name: string): Promise<{ uid: number; gid: number } | undefined> => {
  const uid = await run("id", ["-u", name], {})
  const gid = await run("id", ["-g", name], {})
  return uid.code === 0 && gid.code === 0
    ? { uid: Number(uid.output.trim()), gid: Number(gid.output.trim()) }
    : undefined
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const killGroup = (pid: number | undefined, signal: NodeJS.Signals) => {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    // gone
  }
}

const pgSettings = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const names = [
      "fsync",
      "synchronous_commit",
      "full_page_writes",
      "shared_buffers",
      "max_wal_size",
      "wal_level",
      "max_connections"
    ]
    const settings: Record<string, string> = {}
    for (const name of names) {
      const result = await client.query<{ value: string }>("SELECT current_setting($1) AS value", [name])
      settings[name] = result.rows[0]?.value ?? "?"
    }
    const version = (await client.query<{ v: string }>("SELECT version() AS v")).rows[0]?.v ?? "?"
    return { settings, version }
  } finally {
    await client.end()
  }
}

/** Starts PostgreSQL 15 with default durability settings in a fresh temporary folder. */
export const startPostgres = async (log: (message: string) => void): Promise<Server> => {
  const existing = process.env.BENCH_PG_URL
  if (existing) {
    log("PostgreSQL: using BENCH_PG_URL")
    return { url: existing, stop: async () => {}, ...(await pgSettings(existing)) }
  }
  const started = Date.now()
  const db = await databases()
  const found = await db.ensureInstalled({ postgres: true, mariadb: false, log })
  const bin = found.postgres
  if (!bin) throw new Error("PostgreSQL binaries not found")
  const owner = isRoot ? await userIds("postgres") : undefined
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {}
  const dir = await mkdtemp(join(tmpdir(), "jobss-bench-pg-"))
  if (owner) await chown(dir, owner.uid, owner.gid)
  const data = join(dir, "data")
  const logFile = join(dir, "postgres.log")
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= (async () => {
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT") // fast shutdown
        const timedOut = await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)])
        if (timedOut) killGroup(child.pid, "SIGKILL")
        await Promise.race([exited, sleep(5_000)])
      }
      killGroup(child?.pid, "SIGKILL")
      await rm(dir, { recursive: true, force: true })
    })()
    return stopped
  }
  try {
    const init = await run(
      bin.initdb,
      ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
      { cwd: dir, ...as }
    )
    if (init.code !== 0) throw new Error(`initdb failed:\n${init.output}`)
    const port = await db.freePort()
    const fd = await open(logFile, "a")
    if (owner) await fd.chown(owner.uid, owner.gid)
    // Default settings: only where to listen. logging_collector off keeps the log in our file.
    child = spawn(
      bin.postgres,
      ["-D", data, "-k", dir, "-h", "127.0.0.1", "-p", String(port), "-c", "logging_collector=off"],
      { cwd: dir, detached: true, stdio: ["ignore", fd.fd, fd.fd], ...as, env: { ...process.env, HOME: dir } }
    )
    await fd.close()
    const proc = child
    exited = new Promise((resolve) => {
      proc.on("exit", () => resolve())
      proc.on("error", () => resolve())
    })
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`
    const deadline = Date.now() + 60_000
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`PostgreSQL exited during startup; see ${logFile}`)
      }
      try {
        const settings = await pgSettings(url)
        log(`PostgreSQL ready at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s (fsync on)`)
        return { url, stop, ...settings }
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${String(error)}`)
        await sleep(100)
      }
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Starts MariaDB (scripts/databases.mjs) and makes commits durable again. */
export const startMariadb = async (log: (message: string) => void): Promise<Server> => {
  const mysql = await import("mysql2/promise")
  const read = async (url: string, durable: boolean) => {
    const connection = await mysql.createConnection(url)
    try {
      if (durable) await connection.query("SET GLOBAL innodb_flush_log_at_trx_commit = 1")
      const settings: Record<string, string> = {}
      for (const name of [
        "innodb_flush_log_at_trx_commit",
        "innodb_doublewrite",
        "innodb_buffer_pool_size",
        "sync_binlog",
        "log_bin"
      ]) {
        const [rows] = await connection.query(`SHOW VARIABLES LIKE '${name}'`)
        const row = (rows as Array<{ Value: string }>)[0]
        settings[name] = row?.Value ?? "?"
      }
      const [versionRows] = await connection.query("SELECT VERSION() AS v")
      return { settings, version: String((versionRows as Array<{ v: string }>)[0]?.v ?? "?") }
    } finally {
      await connection.end()
    }
  }
  const existing = process.env.BENCH_MYSQL_URL
  if (existing) {
    log("MariaDB: using BENCH_MYSQL_URL")
    return { url: existing, stop: async () => {}, ...(await read(existing, false)) }
  }
  const db = await databases()
  const server = await db.startMariadb({ log })
  try {
    return { url: server.url, stop: server.stop, ...(await read(server.url, true)) }
  } catch (error) {
    await server.stop()
    throw error
  }
}
