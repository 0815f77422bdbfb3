/**
 * What a database driver's failure means: a readable reason (a refused connection, a refused
 * login, a missing database, an SQLite file that cannot be used) and whether it may pass by itself.
 * Used for the store's startup errors and for the `transient` flag of every `JobStoreError`.
 *
 * @internal
 */
import { propertyOf } from "./dialect.js"

/** The database a failure is about, as far as it is known. */
export interface Target {
  /** "PostgreSQL", "MySQL/MariaDB" or "SQLite". */
  readonly system: string
  /** `host:port` of a server, or the SQLite file name. */
  readonly where?: string | undefined
  readonly user?: string | undefined
  readonly database?: string | undefined
}

/** A recognized driver failure. */
export interface Diagnosis {
  /** Whether the same operation may succeed later, unchanged. */
  readonly transient: boolean
  /** The failure in words, about `target`. */
  readonly describe: (target: Target) => string
}

const server = (target: Target): string =>
  `the ${target.system} server${target.where === undefined ? "" : ` at ${target.where}`}`

const sqliteFile = (target: Target): string =>
  target.where === undefined ? "the SQLite file" : `SQLite file ${target.where}`

/** The server could not be reached (or dropped the connection): may pass. */
const unreachable = (reason: string): Diagnosis => ({
  transient: true,
  describe: (target) => `cannot connect to ${server(target)}: ${reason}`
})

/** The server refused the credentials: fixing them is the only cure. */
const loginRefused = (detail: string): Diagnosis => ({
  transient: false,
  describe: (target) =>
    `${server(target)} refused the login${target.user === undefined ? "" : ` of user ${target.user}`}: ${detail}`
})

/** The database's name: the client's setting, else the quoted name in the server's message. */
const missingDatabase = (detail: string): Diagnosis => ({
  transient: false,
  describe: (target) => {
    const name = target.database ?? /database ["'`]([^"'`]+)["'`]/i.exec(detail)?.[1]
    return name === undefined ? `${server(target)}: ${detail}` : `database ${name} does not exist on ${server(target)}`
  }
})

/** Any other answer of the server, in its own words. */
const answered = (detail: string, transient: boolean): Diagnosis => ({
  transient,
  describe: (target) => `${server(target)}: ${detail}`
})

const fileProblem = (problem: string): Diagnosis => ({
  transient: false,
  describe: (target) => `${sqliteFile(target)} ${problem}`
})

const busy = (detail: string): Diagnosis => ({ transient: true, describe: (target) => `${server(target)}: ${detail}` })

/** Node's socket errors (every driver passes them on). */
const socketReasons: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection closed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed"
}

/** PostgreSQL SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const postgres = (code: string, detail: string): Diagnosis | undefined => {
  if (code === "28P01" || code === "28000") return loginRefused(detail)
  if (code === "3D000") return missingDatabase(detail)
  if (code.startsWith("08")) return unreachable(detail)
  // 57P01-57P03: shutting down, crashed, starting up; 53xxx: too many connections, out of resources
  if (code.startsWith("57P") || code.startsWith("53")) return answered(detail, true)
  if (code === "40001" || code === "40P01") return busy(detail)
  if (code === "42501") return answered(detail, false)
  return undefined
}

/** MySQL/MariaDB error numbers. */
const mysql = (errno: number, detail: string): Diagnosis | undefined => {
  if (errno === 1045 || errno === 1044 || errno === 1698) return loginRefused(detail)
  if (errno === 1049) return missingDatabase(detail)
  // too many connections, server shutdown, connection killed, lock wait timeout, deadlock
  if (errno === 1040 || errno === 1053 || errno === 1927) return answered(detail, true)
  if (errno === 1205 || errno === 1213) return busy(detail)
  return undefined
}

/** better-sqlite3's result codes (extended codes start with the primary one). */
const sqlite = (code: string, detail: string): Diagnosis | undefined => {
  if (code.startsWith("SQLITE_CANTOPEN")) return fileProblem(`cannot be opened (${detail})`)
  if (code.startsWith("SQLITE_READONLY")) return fileProblem(`is read-only, and the store must write to it (${detail})`)
  if (code === "SQLITE_NOTADB") return fileProblem("is not a database")
  if (code.startsWith("SQLITE_CORRUPT")) return fileProblem(`is corrupt (${detail})`)
  if (code.startsWith("SQLITE_PERM") || code.startsWith("SQLITE_AUTH")) return fileProblem(`cannot be used: ${detail}`)
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return { transient: true, describe: (target) => `${sqliteFile(target)} is busy: ${detail}` }
  }
  return undefined
}

/** Messages of failures that carry no code. */
const uncoded = (message: string): Diagnosis | undefined => {
  if (/directory does not exist/i.test(message)) return fileProblem("cannot be opened: its directory does not exist")
  if (
    /connection terminated|connection timed out|connection timeout|timeout exceeded when trying to connect/i.test(
      message
    )
  ) {
    return unreachable(message)
  }
  return undefined
}

const diagnoseOne = (error: unknown): Diagnosis | undefined => {
  const code = propertyOf(error, "code")
  const message = propertyOf(error, "message")
  const detail = typeof message === "string" && message !== "" ? message : String(error)
  if (typeof code === "string") {
    const socket = socketReasons[code]
    if (socket !== undefined) return unreachable(socket)
    if (code.startsWith("SQLITE_")) return sqlite(code, detail)
    if (typeof propertyOf(error, "severity") === "string" && /^[0-9A-Z]{5}$/.test(code)) return postgres(code, detail)
  }
  const errno = propertyOf(error, "errno")
  if (typeof errno === "number" && errno > 0) {
    const found = mysql(errno, detail)
    if (found !== undefined) return found
  }
  // mysql2's own codes for a connection that died under it
  if (code === "PROTOCOL_CONNECTION_LOST" || code === "PROTOCOL_SEQUENCE_TIMEOUT") return unreachable(detail)
  return uncoded(detail)
}

/** The failure and its chain of causes (`SqlError`, then the driver's error, ...). */
export const chainOf = (error: unknown): ReadonlyArray<unknown> => {
  const chain: Array<unknown> = []
  for (let current = error; chain.length < 6 && current !== undefined && current !== null; ) {
    chain.push(current)
    current = propertyOf(current, "cause")
  }
  return chain
}

/** The driver-level failure inside `error` (its chain of causes), if it is one this module knows. */
export const diagnose = (error: unknown): Diagnosis | undefined => {
  for (const link of chainOf(error)) {
    const found = diagnoseOne(link)
    if (found !== undefined) return found
  }
  return undefined
}

/** Whether a failed database call may succeed later: unknown failures are assumed to. */
export const isTransient = (error: unknown): boolean => diagnose(error)?.transient ?? true
