/**
 * `insert`: new runs in as few statements as the dialect allows, skipping
 * runs whose unique name is held, then telling per run who holds its name.
 *
 * @internal
 */
import type { JobStore } from "@jobss/core"
import { JobsSError } from "@jobss/core"
import * as Effect from "effect/Effect"
import type { Row } from "../dialect.js"
import { inList, powerOfTwoSizes } from "../sqlValues.js"
import { type StoreContext, chunksOf, listChunk } from "./context.js"

type NewRun = JobStore.NewRun

/** Bytes of arguments per INSERT statement (MySQL's default max_allowed_packet is 16 MiB; args may be 1 MiB each). */
const insertChunkBytes = 4 * 1024 * 1024
/** Rounds of insert for unique names whose holder ended while we looked. */
const insertRounds = 5

/** Insert batches bounded by row count and by argument bytes (and of power-of-two sizes, if asked). */
const insertChunks = (
  runs: ReadonlyArray<NewRun>,
  maxRows: number,
  powersOfTwo: boolean
): ReadonlyArray<ReadonlyArray<NewRun>> =>
  powersOfTwo ? boundedChunks(runs, maxRows).flatMap(splitPowersOfTwo) : boundedChunks(runs, maxRows)

const splitPowersOfTwo = <A>(items: ReadonlyArray<A>): ReadonlyArray<ReadonlyArray<A>> => {
  const pieces: Array<ReadonlyArray<A>> = []
  let start = 0
  for (const size of powerOfTwoSizes(items.length)) {
    pieces.push(items.slice(start, start + size))
    start += size
  }
  return pieces
}

const boundedChunks = (runs: ReadonlyArray<NewRun>, maxRows: number): Array<ReadonlyArray<NewRun>> => {
  const chunks: Array<ReadonlyArray<NewRun>> = []
  let current: Array<NewRun> = []
  let bytes = 0
  for (const run of runs) {
    const size = run.args.length * 3 + 512
    if (current.length > 0 && (current.length >= maxRows || bytes + size > insertChunkBytes)) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(run)
    bytes += size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

/** Whether any of the runs has a unique name. */
const hasUniqueName = (batch: ReadonlyArray<NewRun>): boolean => batch.some((run) => run.uniqueName !== null)

/** The store's `insert`. */
export const make = (ctx: StoreContext): Pick<JobStore.JobStoreShape, "insert"> => {
  const { dialect, sql, runs, unit, operation, insertColumns } = ctx
  const empty = sql.literal("")

  const duplicateIdError = (ids: Iterable<string>) =>
    new JobsSError.JobStoreError({ message: `SqlStore.insert failed: duplicate run id ${[...ids].join(", ")}` })

  /** Ids of the batch that exist already (or twice in the batch). */
  const duplicateIds = (batch: ReadonlyArray<NewRun>, inDatabase: boolean) =>
    Effect.gen(function* () {
      const seen = new Set<string>()
      const duplicates = new Set<string>()
      for (const run of batch) {
        if (seen.has(run.id)) duplicates.add(run.id)
        seen.add(run.id)
      }
      if (inDatabase) for (const id of yield* existingIds([...seen])) duplicates.add(id)
      return duplicates
    })

  /** An INSERT that failed on a duplicate id says which (when the database can still be asked). */
  const explainInsertFailure = (batch: ReadonlyArray<NewRun>) => (error: unknown) =>
    duplicateIds(batch, true).pipe(
      Effect.orElseSucceed(() => new Set<string>()),
      Effect.flatMap((duplicates) => Effect.fail(duplicates.size > 0 ? duplicateIdError(duplicates) : error))
    )

  const insertStatements = (batch: ReadonlyArray<NewRun>) => {
    const chunks = insertChunks(batch, dialect.insertChunkRows, dialect.preparesStatements)
    const statements = Effect.forEach(
      chunks,
      // a chunk without unique names cannot conflict on one: a plain INSERT (PostgreSQL's ON CONFLICT
      // makes each row a speculative insertion, about a tenth of a 1,000-row insert's time)
      (chunk) =>
        sql`INSERT INTO ${runs} ${insertColumns} ${dialect.insertRows(chunk)} ${hasUniqueName(chunk) ? dialect.onUniqueKeyConflictIgnore : empty}`,
      { discard: true }
    )
    // A batch of several statements is written all or nothing.
    return unit(chunks.length > 1 ? sql.withTransaction(statements) : statements).pipe(
      Effect.catchAll(explainInsertFailure(batch))
    )
  }

  /** The active holder (`id`, `origin_id`) of each unique name. */
  const holders = (names: ReadonlyArray<string>) =>
    Effect.map(
      Effect.forEach(chunksOf(names, listChunk), (chunk) =>
        unit(sql<Row>`SELECT id, origin_id, unique_key FROM ${runs} WHERE ${inList(sql, "unique_key", chunk)}`)
      ),
      (results) => new Map(results.flat().map((row) => [String(row["unique_key"]), row] as const))
    )

  const existingIds = (ids: ReadonlyArray<string>) =>
    Effect.map(
      Effect.forEach(chunksOf(ids, listChunk), (chunk) =>
        unit(sql<Row>`SELECT id FROM ${runs} WHERE ${inList(sql, "id", chunk)}`)
      ),
      (results) => new Set(results.flat().map((row) => String(row["id"])))
    )

  /** Inserts, skipping rows whose unique name is held; then learns, per unique run, who holds it. */
  const insertRound = (batch: ReadonlyArray<NewRun>) =>
    Effect.gen(function* () {
      yield* insertStatements(batch)
      const unique = batch.filter((run) => run.uniqueName !== null)
      const held = yield* holders([...new Set(unique.map((run) => run.uniqueName!))])
      const results = new Map<string, JobStore.InsertResult>()
      const unresolved: Array<NewRun> = []
      for (const run of unique) {
        const holder = held.get(run.uniqueName!)
        if (holder === undefined) unresolved.push(run)
        else if (holder["id"] === run.id) results.set(run.id, { originId: run.originId, inserted: true })
        else results.set(run.id, { originId: String(holder["origin_id"]), inserted: false })
      }
      // No holder: ours was inserted and has already ended, or the holder that refused it has ended.
      const inserted = yield* existingIds(unresolved.map((run) => run.id))
      for (const run of unresolved) {
        if (inserted.has(run.id)) results.set(run.id, { originId: run.originId, inserted: true })
      }
      return { results, retry: unresolved.filter((run) => !inserted.has(run.id)) }
    })

  const insert = (batch: ReadonlyArray<NewRun>) =>
    Effect.gen(function* () {
      if (batch.length === 0) return []
      // MySQL's ON DUPLICATE KEY would swallow a duplicate id: look for them first there (only runs with
      // a unique name are inserted with it; a plain INSERT fails on a duplicate id, and says which).
      const duplicates = yield* duplicateIds(batch, dialect.ignoresDuplicateIds && hasUniqueName(batch))
      if (duplicates.size > 0) return yield* duplicateIdError(duplicates)
      const results = new Map<string, JobStore.InsertResult>()
      let pending: ReadonlyArray<NewRun> = batch
      for (let round = 0; round < insertRounds && pending.length > 0; round++) {
        const outcome = yield* insertRound(pending)
        for (const [id, result] of outcome.results) results.set(id, result)
        pending = outcome.retry
      }
      if (pending.length > 0) {
        return yield* new JobsSError.JobStoreError({
          message: `SqlStore.insert failed: the unique names of ${pending.length} runs kept changing hands`
        })
      }
      return batch.map(
        (run): JobStore.InsertResult => results.get(run.id) ?? { originId: run.originId, inserted: true }
      )
    }).pipe(operation("insert"))

  return { insert }
}
