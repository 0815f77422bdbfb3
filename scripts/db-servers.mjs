// Starts throwaway PostgreSQL and MariaDB servers for running vitest by hand, prints the
// environment to use them, and keeps them running until Ctrl-C (then stops them and deletes
// their folder).
//
//   node scripts/db-servers.mjs             # in one shell; copy the printed `export` lines
//   npx vitest test/store                   # in another shell, after pasting them

import { ensureInstalled, startMariadb, startPostgres } from "./databases.mjs"

const log = (message) => console.error(`[db-servers] ${message}`)

const servers = []
let stopping
const stopAll = (code) => {
  stopping ??= Promise.allSettled(servers.map((server) => server.stop())).then(() => {
    log("servers stopped and removed")
    process.exit(code)
  })
  return stopping
}

// A signal during startup is acted on once the servers are up (stopping them then).
let running = false
let interrupted = false
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    interrupted = true
    if (running) stopAll(0)
  })
}

try {
  await ensureInstalled({ log })
  const results = await Promise.allSettled([startPostgres({ log }), startMariadb({ log })])
  for (const result of results) if (result.status === "fulfilled") servers.push(result.value)
  const failure = results.find((result) => result.status === "rejected")
  if (failure) throw failure.reason
  if (interrupted) await stopAll(130)
  running = true
  const [pg, my] = servers
  console.log(`export JOBSS_TEST_PG_URL=${pg.url}`)
  console.log(`export JOBSS_TEST_MYSQL_URL=${my.url}`)
  log(`logs: ${pg.logFile} ${my.logFile}`)
  log("running; press Ctrl-C to stop the servers")
  setInterval(() => {}, 1 << 30) // keep the process alive until a signal arrives
} catch (error) {
  log(`FAILED: ${error?.message ?? error}`)
  await stopAll(1)
}
