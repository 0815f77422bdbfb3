/**
 * An instance configured from the environment (`JobsS.layerConfig`, `SqlStore.layerConfig`), on a
 * database client wrapped by `SqlStore.client` so that a database that cannot be used at start is a
 * `JobStoreError` saying why; and a caller that answers JobsS's typed errors.
 */
import { SqliteClient } from "@effect/sql-sqlite-node"
import { JobsS, JobsSConfig, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Config, type Duration, Effect, Layer } from "effect"
import { Announce, AnnounceLive } from "./features.js"

export const ConfiguredLive = AnnounceLive.pipe(
  Layer.provideMerge(
    JobsS.layerConfig({
      workers: Config.integer("JOBSS_WORKERS").pipe(Config.withDefault(10)),
      // JobsSConfig.duration reads the text as given, so "-3 minutes" is refused instead of read as 0
      runTimeout: JobsSConfig.duration("JOBSS_RUN_TIMEOUT").pipe(Config.withDefault("30 minutes"))
    })
  ),
  Layer.provide(
    SqlStore.layerConfig({ tablePrefix: Config.string("JOBSS_TABLE_PREFIX").pipe(Config.withDefault("jobss_")) })
  ),
  Layer.provide(SqlStore.client(SqliteClient.layerConfig({ filename: Config.string("JOBSS_SQLITE_FILE") })))
)

export const announceLater = (name: string, delay: Duration.DurationInput) =>
  Scheduler.createRun(Announce, { name }, { delay }).pipe(
    Effect.map((id) => `created run ${id}`),
    Effect.catchTags({
      InvalidRunArgs: (error) => Effect.succeed(`refused: ${error.message}`),
      InvalidRunOptions: (error) => Effect.succeed(`refused: ${error.message}`)
    })
  )
