/**
 * Which driver failures may pass by themselves (`JobStoreError.transient`, which `awaitRun` waits
 * through), for the failures a test cannot easily provoke on a real server: each value below has
 * the shape its driver gives (pg's `code` and `severity`, mysql2's `errno`, better-sqlite3's
 * `code`, Node's socket `code`), wrapped in an `SqlError` as `@effect/sql` does. The failures a
 * test can provoke are in test/store/startup.test.ts and test/runtime/awaitOutage.test.ts.
 */
import { SqlError } from "@effect/sql/SqlError"
import { describe, expect, it } from "@effect/vitest"
import { isTransient } from "../src/internal/driverError.js"

const wrapped = (cause: object) => new SqlError({ message: "Failed to execute statement", cause })
const pg = (code: string, message: string) => Object.assign(new Error(message), { code, severity: "FATAL" })
const mysql = (errno: number, code: string, message: string) =>
  Object.assign(new Error(message), { errno, code, sqlMessage: message })
const sqlite = (code: string, message: string) => Object.assign(new Error(message), { code })

describe("driver failures: transient or not", () => {
  it("a server restarting, overloaded or unreachable, a deadlock or a busy file: transient", () => {
    const failures = [
      pg("57P03", "the database system is starting up"),
      pg("57P01", "terminating connection due to administrator command"),
      pg("53300", "sorry, too many clients already"),
      pg("40P01", "deadlock detected"),
      mysql(1040, "ER_CON_COUNT_ERROR", "Too many connections"),
      mysql(1213, "ER_LOCK_DEADLOCK", "Deadlock found when trying to get lock"),
      Object.assign(new Error("Connection lost: The server closed the connection."), {
        code: "PROTOCOL_CONNECTION_LOST"
      }),
      Object.assign(new Error("connect ETIMEDOUT 10.0.0.1:5432"), { code: "ETIMEDOUT", syscall: "connect" }),
      sqlite("SQLITE_BUSY", "database is locked"),
      new Error("Connection terminated unexpectedly")
    ]
    expect(failures.filter((failure) => !isTransient(wrapped(failure))).map((failure) => failure.message)).toEqual([])
  })

  it("a refused login, a missing database, a missing privilege, an unusable file: not transient", () => {
    const failures = [
      pg("28P01", 'password authentication failed for user "app"'),
      pg("3D000", 'database "app" does not exist'),
      pg("42501", "permission denied for table jobss_runs"),
      mysql(1045, "ER_ACCESS_DENIED_ERROR", "Access denied for user 'app'@'10.0.0.2' (using password: YES)"),
      mysql(1049, "ER_BAD_DB_ERROR", "Unknown database 'app'"),
      sqlite("SQLITE_READONLY", "attempt to write a readonly database"),
      sqlite("SQLITE_CORRUPT", "database disk image is malformed")
    ]
    expect(failures.filter((failure) => isTransient(wrapped(failure))).map((failure) => failure.message)).toEqual([])
  })

  it("an unknown failure of a database call is assumed to be transient", () => {
    expect(isTransient(wrapped(new Error("something no one has seen before")))).toBe(true)
  })
})
