// Throwaway PostgreSQL and MariaDB servers for tests and benchmarks.
//
//   import { ensureInstalled, startPostgres, startMariadb } from "./databases.mjs"
//   await ensureInstalled()                  // apt-get installs what is missing (root only)
//   const pg = await startPostgres()         // { url, stop, dir, port, logFile }
//   const my = await startMariadb()          // url: admin URL (may CREATE DATABASE)
//   ...
//   await Promise.all([pg.stop(), my.stop()]) // stops the server and deletes its folder
//
// Each server lives in its own folder (under `options.root`, or a fresh mkdtemp folder under
// os.tmpdir()), listens on a free loopback port only, trusts local connections (PostgreSQL:
// user `postgres`, no password; MariaDB: `root`, empty password) and is tuned for speed, not
// durability (fsync off). When run as root the servers run as the `postgres` / `mysql` users.
//
// Environment:
//   JOBSS_PG_BIN                 folder of initdb/postgres/pg_isready (default /usr/lib/postgresql/15/bin)
//   JOBSS_DB_START_TIMEOUT_MS    how long to wait for a server to accept connections (default 60000)

import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { chmod, chown, mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"

export const PG_BIN = process.env.JOBSS_PG_BIN ?? "/usr/lib/postgresql/15/bin"
/** The browser the dashboard's browser tests drive (Debian's `chromium` package). */
export const CHROMIUM = process.env.JOBSS_CHROMIUM ?? "/usr/bin/chromium"
const START_TIMEOUT_MS = Number(process.env.JOBSS_DB_START_TIMEOUT_MS ?? 60_000)
const isRoot = typeof process.getuid === "function" && process.getuid() === 0

const defaultLog = (message) => console.error(`[databases] ${message}`)

// ---------------------------------------------------------------------------------------------
// Small process helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs a command to completion; resolves `{ code, output }` (stdout+stderr interleaved). */
const run = (command, args, options = {}) =>
  new Promise((resolve) => {
    let output = ""
    let child
    try {
      child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] })
    } catch (error) {
      resolve({ code: -1, output: String(error) })
      return
    }
    child.stdout.on("data", (chunk) => {
      output += chunk
    })
    child.stderr.on("data", (chunk) => {
      output += chunk
    })
    child.on("error", (error) => resolve({ code: -1, output: output + String(error) }))
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }))
  })

/** Like `run`, but throws a clear error (with the output's tail) on a non-zero exit. */
const runOrThrow = async (what, command, args, options) => {
  const { code, output } = await run(command, args, options)
  if (code !== 0) {
    throw new Error(`${what} failed (exit ${code}): ${command} ${args.join(" ")}\n${tail(output, 40)}`)
  }
  return output
}

const tail = (text, lines) => text.trimEnd().split("\n").slice(-lines).join("\n")

const readTail = async (file, lines = 30) => {
  try {
    const text = tail(await readFile(file, "utf8"), lines)
    return text === "" ? "(empty)" : text
  } catch {
    return "(no log file)"
  }
}

/** Finds an executable on PATH or in the extra folders. */
const which = (name, extra = []) => {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), ...extra]
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name)
  }
  return undefined
}

const userIds = async (name) => {
  const uid = await run("id", ["-u", name])
  const gid = await run("id", ["-g", name])
  if (uid.code !== 0 || gid.code !== 0) return undefined
  return { uid: Number(uid.output.trim()), gid: Number(gid.output.trim()) }
}

/** Asks the OS for a free loopback TCP port (bind port 0, read it, close). */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

// ---------------------------------------------------------------------------------------------
// Installation

const mariadbSbin = ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"]

const findMariadb = () => {
  const mariadbd = which("mariadbd", mariadbSbin)
  const installDb = which("mariadb-install-db", mariadbSbin)
  const admin = which("mariadb-admin", mariadbSbin)
  return mariadbd && installDb && admin ? { mariadbd, installDb, admin } : undefined
}

const findPostgres = () => {
  const ok = ["initdb", "postgres", "pg_isready"].every((bin) => existsSync(join(PG_BIN, bin)))
  return ok
    ? { initdb: join(PG_BIN, "initdb"), postgres: join(PG_BIN, "postgres"), isReady: join(PG_BIN, "pg_isready") }
    : undefined
}

const ensureUser = async (name, log) => {
  if (!isRoot || (await userIds(name))) return
  log(`creating system user ${name}`)
  await runOrThrow(`creating user ${name}`, "useradd", [
    "--system",
    "--user-group",
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
    name
  ])
}

let aptUpdated = false
let installQueue = Promise.resolve()

const aptInstall = async (packages, log) => {
  if (!isRoot) {
    throw new Error(
      `${packages.join(", ")} is not installed and this is not root, so it cannot be installed here. ` +
        `Install it (apt-get install ${packages.join(" ")}) or point JOBSS_TEST_PG_URL / JOBSS_TEST_MYSQL_URL at existing servers.`
    )
  }
  if (!which("apt-get", ["/usr/bin"])) {
    throw new Error(`${packages.join(", ")} is missing and apt-get is not available to install it.`)
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  const lockWait = ["-o", "DPkg::Lock::Timeout=300"] // another apt/dpkg may be running
  // Packages must not start system-wide services (they would stay running): a policy-rc.d that
  // refuses every start, unless the machine already has one.
  const policy = "/usr/sbin/policy-rc.d"
  const ownPolicy = !existsSync(policy)
  if (ownPolicy)
    await writeFile(policy, "#!/bin/sh\n# temporary, written by JobsS scripts/databases.mjs\nexit 101\n", {
      mode: 0o755
    })
  try {
    if (!aptUpdated) {
      log("apt-get update")
      await runOrThrow("apt-get update", "apt-get", [...lockWait, "update"], { env })
      aptUpdated = true
    }
    log(`apt-get install -y ${packages.join(" ")} (takes about half a minute)`)
    const started = Date.now()
    await runOrThrow(`installing ${packages.join(", ")}`, "apt-get", [...lockWait, "install", "-y", ...packages], {
      env
    })
    log(`installed ${packages.join(", ")} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    if (ownPolicy) await rm(policy, { force: true })
  }
}

/**
 * Makes sure the server binaries exist, installing them with apt-get when missing
 * (`mariadb-server`, `postgresql-15`; with `chromium: true`, the `chromium` browser the dashboard's
 * browser tests drive), and that the `postgres` / `mysql` users exist.
 * Calls are serialized (apt holds a lock). Resolves the binaries' paths.
 */
export const ensureInstalled = ({ postgres = true, mariadb = true, chromium = false, log = defaultLog } = {}) => {
  const result = installQueue.then(async () => {
    const missing = []
    if (postgres && !findPostgres()) missing.push("postgresql-15")
    if (mariadb && !findMariadb()) missing.push("mariadb-server")
    if (chromium && !existsSync(CHROMIUM)) missing.push("chromium")
    if (missing.length > 0) await aptInstall(missing, log)
    const found = { postgres: postgres ? findPostgres() : undefined, mariadb: mariadb ? findMariadb() : undefined }
    if (postgres && !found.postgres) {
      throw new Error(`PostgreSQL binaries (initdb, postgres, pg_isready) not found in ${PG_BIN} (set JOBSS_PG_BIN).`)
    }
    if (mariadb && !found.mariadb) {
      throw new Error("MariaDB binaries (mariadbd, mariadb-install-db, mariadb-admin) not found after installing.")
    }
    if (chromium && !existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM} after installing (set JOBSS_CHROMIUM).`)
    if (postgres) await ensureUser("postgres", log)
    if (mariadb) await ensureUser("mysql", log)
    return found
  })
  installQueue = result.catch(() => undefined)
  return result
}

// ---------------------------------------------------------------------------------------------
// Server lifecycle

/** Folder for one server: `<root>/<prefix>XXXXXX`, owned by `owner` when running as root. */
const makeServerDir = async (root, prefix, owner) => {
  const ownRoot = root === undefined
  const base = root ?? (await mkdtemp(join(tmpdir(), "jobss-db-")))
  // The server users must be able to traverse the root folder (mkdtemp makes it 0700).
  if (ownRoot) await chmod(base, 0o755)
  await mkdir(base, { recursive: true })
  const dir = await mkdtemp(join(base, prefix))
  await chmod(dir, 0o700)
  if (owner) await chown(dir, owner.uid, owner.gid)
  return { dir, remove: () => rm(ownRoot ? base : dir, { recursive: true, force: true }) }
}

const spawnServer = async (command, args, { cwd, logFile, owner }) => {
  const fd = await open(logFile, "a")
  if (owner) await fd.chown(owner.uid, owner.gid).catch(() => undefined)
  const child = spawn(command, args, {
    cwd,
    // Own process group: a terminal Ctrl-C goes to the test runner, which then stops the
    // server deliberately; and stop() can kill the whole group as a last resort.
    detached: true,
    stdio: ["ignore", fd.fd, fd.fd],
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    env: { ...process.env, ...(owner ? { HOME: cwd } : {}) }
  })
  await fd.close()
  const state = { exited: false, code: null, signal: null, spawnError: undefined }
  const exited = new Promise((resolve) => {
    child.on("error", (error) => {
      state.spawnError = error
      state.exited = true
      resolve()
    })
    child.on("exit", (code, signal) => {
      state.exited = true
      state.code = code
      state.signal = signal
      resolve()
    })
  })
  return { child, state, exited }
}

const killGroup = (pid, signal) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

/** Stops a server: `signal`, then SIGKILL (whole process group) after `graceMs`. */
const stopServer = async (server, signal, graceMs) => {
  const { child, state, exited } = server
  if (!state.exited && child.pid !== undefined) {
    try {
      process.kill(child.pid, signal)
    } catch {
      // already gone
    }
    const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)])
    if (timedOut) killGroup(child.pid, "SIGKILL")
    await Promise.race([exited, sleep(5_000)])
  }
  // Leftover children (e.g. PostgreSQL backends after a killed postmaster).
  if (child.pid !== undefined) killGroup(child.pid, "SIGKILL")
}

const waitUntilReady = async (name, server, logFile, probe) => {
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (server.state.exited) {
      const why = server.state.spawnError
        ? String(server.state.spawnError)
        : `exit code ${server.state.code}, signal ${server.state.signal}`
      throw new Error(`${name} exited during startup (${why}). End of its log:\n${await readTail(logFile)}`)
    }
    if (await probe()) return
    if (Date.now() > deadline) {
      throw new Error(
        `${name} did not accept connections within ${START_TIMEOUT_MS} ms (JOBSS_DB_START_TIMEOUT_MS). ` +
          `End of its log:\n${await readTail(logFile)}`
      )
    }
    await sleep(100)
  }
}

const onceAsync = (f) => {
  let promise
  return () => {
    promise ??= f()
    return promise
  }
}

/**
 * Starts a throwaway PostgreSQL server on a free loopback port.
 * Resolves `{ url, stop, dir, port, logFile }`; `url` connects as superuser `postgres` to the
 * `postgres` database. `stop()` shuts the server down (fast) and deletes its folder.
 */
export const startPostgres = async ({ root, log = defaultLog } = {}) => {
  const started = Date.now()
  const { postgres: bin } = await ensureInstalled({ postgres: true, mariadb: false, log })
  const owner = isRoot ? await userIds("postgres") : undefined
  const { dir, remove } = await makeServerDir(root, "postgres-", owner)
  const data = join(dir, "data")
  const logFile = join(dir, "postgres.log")
  const asOwner = { cwd: dir, ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) }
  let server
  const stop = onceAsync(async () => {
    if (server) await stopServer(server, "SIGINT", 15_000) // SIGINT = fast shutdown
    await remove()
  })
  try {
    await runOrThrow(
      "initdb",
      bin.initdb,
      ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
      asOwner
    )
    const port = await freePort()
    server = await spawnServer(
      bin.postgres,
      [
        "-D",
        data,
        "-k",
        dir,
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=300",
        "-c",
        "logging_collector=off"
      ],
      { cwd: dir, logFile, owner }
    )
    await waitUntilReady("PostgreSQL", server, logFile, async () => {
      const { code } = await run(bin.isReady, [
        "-q",
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "postgres",
        "-t",
        "2"
      ])
      return code === 0
    })
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`
    log(`PostgreSQL ready at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    return { url, stop, dir, port, logFile }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * Starts a throwaway MariaDB server on a free loopback port.
 * Resolves `{ url, stop, dir, port, logFile }`; `url` connects as `root` (empty password) with
 * no default database. `stop()` shuts the server down and deletes its folder.
 */
export const startMariadb = async ({ root, log = defaultLog } = {}) => {
  const started = Date.now()
  const { mariadb: bin } = await ensureInstalled({ postgres: false, mariadb: true, log })
  const owner = isRoot ? await userIds("mysql") : undefined
  const { dir, remove } = await makeServerDir(root, "mariadb-", owner)
  const data = join(dir, "data")
  const logFile = join(dir, "mariadb.log")
  const userArgs = isRoot ? ["--user=mysql"] : []
  let server
  const stop = onceAsync(async () => {
    if (server) await stopServer(server, "SIGTERM", 30_000)
    await remove()
  })
  try {
    // --no-defaults everywhere: the machine's /etc/mysql configuration must not leak in.
    await runOrThrow(
      "mariadb-install-db",
      bin.installDb,
      [
        "--no-defaults",
        ...userArgs,
        `--datadir=${data}`,
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        "--skip-name-resolve"
      ],
      { cwd: dir }
    )
    const port = await freePort()
    server = await spawnServer(
      bin.mariadbd,
      [
        "--no-defaults",
        ...userArgs,
        `--datadir=${data}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--socket=${join(dir, "mysqld.sock")}`,
        `--pid-file=${join(dir, "mysqld.pid")}`,
        `--tmpdir=${dir}`,
        "--max-connections=500",
        "--innodb-flush-log-at-trx-commit=2",
        "--innodb-doublewrite=0",
        "--skip-log-bin",
        "--skip-name-resolve",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_general_ci"
      ],
      { cwd: dir, logFile, owner }
    )
    const adminArgs = ["--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", String(port), "-u", "root"]
    await waitUntilReady("MariaDB", server, logFile, async () => {
      const { code } = await run(bin.admin, [...adminArgs, "--connect-timeout=2", "ping"])
      return code === 0
    })
    // ping succeeds even when login is refused: make sure root really gets in.
    await runOrThrow("MariaDB root login check", bin.admin, [...adminArgs, "status"])
    const url = `mysql://root@127.0.0.1:${port}`
    log(`MariaDB ready at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    return { url, stop, dir, port, logFile }
  } catch (error) {
    await stop()
    throw error
  }
}
