// `npm test`: the whole check, runnable on a fresh Debian machine as root after `npm ci`.
//
//   1. `biome check .`, `tsc -b` and `typedoc --emit none` (lint, format and typecheck of every package;
//      the API reference's validation: every public export and member documented, exported, linked;
//      dependency-cruiser's import rules in .dependency-cruiser.cjs: no value import cycles),
//      then publint and attw on the packed @jobss/core and @jobss/sql (scripts/check-packages.mjs);
//   2. installs PostgreSQL 15 / MariaDB with apt-get when missing, then starts throwaway servers
//      (temp folder, free loopback ports, run as the `postgres` / `mysql` users); installs Debian's
//      `chromium` when /usr/bin/chromium is missing (the dashboard's browser tests drive it);
//   3. `vitest run` with JOBSS_TEST_PG_URL and JOBSS_TEST_MYSQL_URL pointing at them;
//   4. always stops the servers and deletes their folder (also on Ctrl-C / SIGTERM).
//   Exits with vitest's exit code.
//
// Usage:
//   npm test                               everything
//   npm test -- test/store                 extra arguments go to `vitest run` (e.g. a file filter)
//   npm test -- --skip-checks test/store   skip biome, tsc, typedoc, depcruise, publint and attw (quick iteration)
//
// Existing servers instead of throwaway ones: set JOBSS_TEST_PG_URL (admin URL, e.g.
// postgres://postgres:pass@127.0.0.1:5432/postgres) and/or JOBSS_TEST_MYSQL_URL (e.g.
// mysql://root:pass@127.0.0.1:3306). Both must be allowed to CREATE/DROP DATABASE; the tests
// create one `jobss_t_<random>` database per test and drop it afterwards.
//
// Running vitest directly (watch mode, IDE): `node scripts/db-servers.mjs` starts both servers,
// prints the `export JOBSS_TEST_...=...` lines to paste into another shell, and runs until Ctrl-C.

import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { chmod, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { ensureInstalled, startMariadb, startPostgres } from "./databases.mjs"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..")
const log = (message) => console.error(`[test] ${message}`)

const args = process.argv.slice(2)
const skipChecks = args.includes("--skip-checks")
const vitestArgs = args.filter((arg) => arg !== "--skip-checks")

// ---------------------------------------------------------------------------------------------
// Signals: forwarded to the running child (biome, tsc, the package checks, vitest); cleanup happens
// after it exits.

let current
let interrupted
const signalNumbers = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }
for (const signal of Object.keys(signalNumbers)) {
  process.on(signal, () => {
    if (interrupted) {
      log(`${signal} again: killing ${current ? "the running step" : "nothing"}, cleaning up`)
      if (current?.pid !== undefined) killGroup(current.pid, "SIGKILL")
      return
    }
    interrupted = signal
    log(`${signal}: stopping, then shutting the database servers down`)
    current?.kill(signal)
  })
}

const bin = (name) => {
  const path = join(repo, "node_modules", ".bin", name)
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm ci\` first.`)
  return path
}

const killGroup = (pid, signal) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // nothing left
  }
}

/**
 * Runs a step with inherited stdio; resolves its exit code (128 + n when killed by a signal).
 * The step gets its own process group, swept with SIGKILL once it exits: vitest leaves its
 * fork workers running when it is stopped by a signal.
 */
const step = (command, commandArgs, env = process.env) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { cwd: repo, stdio: "inherit", env, detached: true })
    current = child
    child.on("error", (error) => {
      current = undefined
      reject(error)
    })
    child.on("exit", (code, signal) => {
      current = undefined
      killGroup(child.pid, "SIGKILL")
      resolve(code ?? 128 + (signalNumbers[signal] ?? 9))
    })
  })

const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`

// ---------------------------------------------------------------------------------------------

const main = async () => {
  if (skipChecks) {
    log("--skip-checks: not running biome, tsc, typedoc, depcruise, publint and attw")
  } else {
    for (const [name, command, commandArgs] of [
      ["biome check .", bin("biome"), ["check", "."]],
      ["tsc -b", bin("tsc"), ["-b"]],
      ["typedoc --emit none", bin("typedoc"), ["--emit", "none"]],
      [
        "depcruise (import rules)",
        bin("depcruise"),
        ["packages/core/src", "packages/sql/src", "packages/dashboard/src", "--output-type", "err"]
      ],
      ["publint and attw", process.execPath, [join(repo, "scripts", "check-packages.mjs")]]
    ]) {
      const started = Date.now()
      log(`${name}`)
      const code = await step(command, commandArgs)
      if (interrupted) return 128 + signalNumbers[interrupted]
      if (code !== 0) {
        log(`FAILED: \`${name}\` exited with ${code}${name.startsWith("biome") ? " (fix with `npm run format`)" : ""}`)
        return code
      }
      log(`${name}: ok (${seconds(started)})`)
    }
  }

  const env = { ...process.env }
  const needPostgres = !env.JOBSS_TEST_PG_URL
  const needMariadb = !env.JOBSS_TEST_MYSQL_URL
  if (!needPostgres) log("PostgreSQL: using JOBSS_TEST_PG_URL")
  if (!needMariadb) log("MariaDB: using JOBSS_TEST_MYSQL_URL")

  await ensureInstalled({ postgres: false, mariadb: false, chromium: true, log })

  const servers = []
  let root
  try {
    if (needPostgres || needMariadb) {
      const started = Date.now()
      await ensureInstalled({ postgres: needPostgres, mariadb: needMariadb, log })
      root = await mkdtemp(join(tmpdir(), "jobss-test-"))
      await chmod(root, 0o755) // the postgres/mysql users must traverse it
      const starts = [
        needPostgres ? startPostgres({ root, log }) : undefined,
        needMariadb ? startMariadb({ root, log }) : undefined
      ]
      const results = await Promise.allSettled(starts.map((start) => start ?? Promise.resolve(undefined)))
      for (const result of results) if (result.status === "fulfilled" && result.value) servers.push(result.value)
      const failures = results.filter((result) => result.status === "rejected")
      if (failures.length > 0) {
        for (const failure of failures)
          log(`FAILED to start a database server: ${failure.reason?.message ?? failure.reason}`)
        return 1
      }
      const [pg, my] = results.map((result) => result.value)
      if (pg) env.JOBSS_TEST_PG_URL = pg.url
      if (my) env.JOBSS_TEST_MYSQL_URL = my.url
      log(`database servers ready in ${seconds(started)}`)
      if (interrupted) return 128 + signalNumbers[interrupted]
    }

    const started = Date.now()
    log(`vitest run ${vitestArgs.join(" ")}`.trimEnd())
    const code = await step(bin("vitest"), ["run", ...vitestArgs], env)
    log(`vitest exited with ${code} (${seconds(started)})`)
    return code
  } finally {
    if (servers.length > 0 || root) {
      const started = Date.now()
      for (const result of await Promise.allSettled(servers.map((server) => server.stop()))) {
        if (result.status === "rejected") log(`could not stop a database server: ${result.reason}`)
      }
      if (root) await rm(root, { recursive: true, force: true })
      log(`database servers stopped and removed (${seconds(started)})`)
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(`FAILED: ${error?.stack ?? error}`)
    process.exit(1)
  }
)
