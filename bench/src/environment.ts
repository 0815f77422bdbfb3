/**
 * The machine, versions and settings a run was measured with.
 */
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { cpus, freemem, release, totalmem, type } from "node:os"
import { dirname, join } from "node:path"
import { jobssFromSources } from "./consumerProcess.js"
import type { Server } from "./servers.js"

const require = createRequire(import.meta.url)

/** The installed version of a package (as resolved from bench/). */
const versionOf = async (name: string): Promise<string> => {
  try {
    const entry = require.resolve(name)
    let dir = dirname(entry)
    for (let i = 0; i < 6; i++) {
      try {
        const json = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
          name?: string
          version?: string
        }
        if (json.name === name && json.version) return json.version
      } catch {
        // keep climbing
      }
      dir = dirname(dir)
    }
  } catch {
    // not resolvable through its main entry: read node_modules directly
  }
  for (const base of [join(process.cwd(), "node_modules"), join(process.cwd(), "..", "node_modules")]) {
    try {
      const json = JSON.parse(await readFile(join(base, name, "package.json"), "utf8")) as { version?: string }
      if (json.version) return json.version
    } catch {
      // next
    }
  }
  return "?"
}

/** SQLite as the driver opens it (WAL, the library's default synchronous level). */
const sqliteSettings = async (): Promise<Record<string, string>> => {
  const { mkdtemp, rm } = await import("node:fs/promises")
  const { tmpdir } = await import("node:os")
  const dir = await mkdtemp(join(tmpdir(), "jobss-bench-env-"))
  try {
    const { default: Database } = await import("better-sqlite3")
    const db = new Database(join(dir, "probe.db"))
    try {
      db.pragma("journal_mode = WAL")
      const synchronous = ["OFF", "NORMAL", "FULL", "EXTRA"][Number(db.pragma("synchronous", { simple: true }))]
      return {
        version: String((db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v),
        journal_mode: String(db.pragma("journal_mode", { simple: true })),
        synchronous: synchronous ?? "?"
      }
    } finally {
      db.close()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Everything RESULTS.md states about the setup. */
export const environment = async (pg: Server, mysql: Server | undefined): Promise<Record<string, unknown>> => {
  const packages = [
    "effect",
    "@effect/sql",
    "@effect/sql-pg",
    "@effect/sql-mysql2",
    "@effect/sql-sqlite-node",
    "graphile-worker",
    "pg-boss",
    "plainjob",
    "pg",
    "mysql2",
    "better-sqlite3"
  ]
  const versions: Record<string, string> = {}
  for (const name of packages) versions[name] = await versionOf(name)
  const cpu = cpus()
  return {
    machine: {
      cpu: cpu[0]?.model ?? "?",
      cores: cpu.length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      freeMemoryGiB: Math.round(freemem() / 2 ** 30),
      os: `${type()} ${release()}`
    },
    node: process.version,
    jobssFrom: jobssFromSources ? "TypeScript sources (tsx)" : "built dist/",
    versions,
    postgres: { version: pg.version, settings: pg.settings },
    ...(mysql ? { mariadb: { version: mysql.version, settings: mysql.settings } } : {}),
    sqlite: await sqliteSettings()
  }
}
