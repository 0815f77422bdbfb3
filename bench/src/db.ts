/**
 * Databases on the benchmark's servers: one per system and repetition, created from a migrated
 * template on PostgreSQL so every repetition starts from the same empty, freshly vacuumed state.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import type { Backend } from "./common.js"

/** The URL of database `name` on the server of `adminUrl`. */
export const databaseUrl = (adminUrl: string, name: string): string => {
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

const pgAdmin = async <A>(adminUrl: string, f: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

const mysqlAdmin = async <A>(
  adminUrl: string,
  f: (connection: import("mysql2/promise").Connection) => Promise<A>
): Promise<A> => {
  const mysql = await import("mysql2/promise")
  const connection = await mysql.createConnection(adminUrl)
  try {
    return await f(connection)
  } finally {
    await connection.end()
  }
}

/**
 * Database names get this run's tag, so runs against shared servers (the smoke test uses the
 * test servers) never collide; every database created is dropped by `dropCreated`.
 */
const runTag = Math.random().toString(16).slice(2, 8)
const created = new Map<string, { readonly backend: "postgres" | "mariadb"; readonly adminUrl: string }>()

const checkName = (name: string) => {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`)
  return `${name}_${runTag}`
}

/** Drops every database this process created and has not dropped yet. */
export const dropCreated = async (): Promise<void> => {
  for (const [name, { backend, adminUrl }] of [...created]) {
    await dropDatabase(backend, adminUrl, name.slice(0, -(runTag.length + 1))).catch(() => undefined)
  }
}

/** Creates database `name` (PostgreSQL: optionally a copy of `template`), dropping any old one. */
export const createDatabase = async (
  backend: "postgres" | "mariadb",
  adminUrl: string,
  name: string,
  template?: string
): Promise<string> => {
  const tagged = checkName(name)
  created.set(tagged, { backend, adminUrl })
  if (backend === "postgres") {
    await pgAdmin(adminUrl, async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${tagged} WITH (FORCE)`)
      await client.query(
        template === undefined
          ? `CREATE DATABASE ${tagged}`
          : `CREATE DATABASE ${tagged} TEMPLATE ${checkName(template)} STRATEGY FILE_COPY`
      )
    })
  } else {
    await mysqlAdmin(adminUrl, async (connection) => {
      await connection.query(`DROP DATABASE IF EXISTS ${tagged}`)
      await connection.query(`CREATE DATABASE ${tagged} CHARACTER SET utf8mb4`)
    })
  }
  return databaseUrl(adminUrl, tagged)
}

/** Drops database `name`. */
export const dropDatabase = async (backend: "postgres" | "mariadb", adminUrl: string, name: string): Promise<void> => {
  const tagged = checkName(name)
  if (backend === "postgres") {
    await pgAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${tagged} WITH (FORCE)`))
  } else {
    await mysqlAdmin(adminUrl, (connection) => connection.query(`DROP DATABASE IF EXISTS ${tagged}`))
  }
  created.delete(tagged)
}

/** Runs statements on a PostgreSQL database (ANALYZE, CHECKPOINT, ...). */
export const pgExec = (url: string, ...statements: ReadonlyArray<string>): Promise<void> =>
  pgAdmin(url, async (client) => {
    for (const statement of statements) await client.query(statement)
  })

/** Runs a query on a PostgreSQL database and returns its rows. */
export const pgQuery = <R extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: ReadonlyArray<unknown> = []
): Promise<Array<R>> => pgAdmin(url, async (client) => (await client.query<R>(text, [...values])).rows)

/** Runs statements on a MariaDB database. */
export const mysqlExec = (url: string, ...statements: ReadonlyArray<string>): Promise<void> =>
  mysqlAdmin(url, async (connection) => {
    for (const statement of statements) await connection.query(statement)
  })

/** A temporary folder for SQLite files, removed by `remove`. */
export const sqliteFolder = async (): Promise<{
  readonly file: (name: string) => string
  readonly remove: () => Promise<void>
}> => {
  const dir = await mkdtemp(join(tmpdir(), "jobss-bench-sqlite-"))
  return { file: (name) => join(dir, `${name}.db`), remove: () => rm(dir, { recursive: true, force: true }) }
}

/** Removes a SQLite database file and its WAL companions. */
export const removeSqlite = async (file: string): Promise<void> => {
  await Promise.all(["", "-wal", "-shm"].map((suffix) => rm(`${file}${suffix}`, { force: true })))
}

export type { Backend }
