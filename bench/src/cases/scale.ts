/**
 * Scale: the cost of claiming and completing a run as the table grows. Two PostgreSQL databases
 * with JobsS's own schema (migrated by SqlStore), filled directly in SQL (INSERT ... SELECT
 * generate_series, in the layout SqlStore creates): 5,000,000 finished runs in both, 10,000
 * pending runs in A and 1,000,000 in B. Then, interleaved A B A B, the store operations the
 * runtime uses (claim 10, then settle the 10 as succeeded) over a few thousand runs; each
 * repetition tops the pending runs up again so their number stays put. Last, the dashboard's pages
 * on B (`dashboard.ts`).
 */
import { JobStore } from "@jobss/core"
import { Context, Effect } from "effect"
import { median, now, percentile, round } from "../common.js"
import { type BenchContext, type Row, rowFor, updateMedians, wanted } from "../context.js"
import { createDatabase, dropDatabase, pgExec, pgQuery } from "../db.js"
import { BenchNoop, buildLayer, runsTable, storeLayer } from "../jobss.js"
import { generate } from "../jobssRows.js"
import { setupOf } from "../systems.js"
import { dashboardRequests } from "./dashboard.js"

/** Claims per store call: what an instance with 10 free workers asks for. */
const claimBatch = 10

/** Indexes of the runs table other than the primary key (dropped during the bulk load, then rebuilt as they were). */
const secondaryIndexes = (url: string) =>
  pgQuery<{ indexname: string; indexdef: string }>(
    url,
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.tablename = $1 AND i.indexname NOT IN (
       SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p')`,
    [runsTable]
  )

/** Measures claim+settle over `count` runs on the store at `url`. */
const measure = async (url: string, count: number) => {
  const store = await buildLayer(storeLayer("postgres", url))
  try {
    const jobStore = Context.get(store.context, JobStore.JobStore)
    const claimMs: Array<number> = []
    const settleMs: Array<number> = []
    let done = 0
    const started = now()
    while (done < count) {
      const t0 = now()
      const claimed = await Effect.runPromise(
        jobStore.claim({
          instanceId: "bench-scale",
          jobs: [BenchNoop.name],
          schedules: [],
          limit: Math.min(claimBatch, count - done),
          leaseMs: 30_000
        })
      )
      const t1 = now()
      if (claimed.length === 0) throw new Error("no pending run left to claim")
      const held = await Effect.runPromise(
        jobStore.settle(claimed.map((run) => ({ _tag: "Succeeded" as const, id: run.id, claim: run.claim })))
      )
      const t2 = now()
      if (held.some((ok) => !ok)) throw new Error("a settlement lost its fence")
      claimMs.push(t1 - t0)
      settleMs.push(t2 - t1)
      done += claimed.length
    }
    const elapsed = now() - started
    return {
      usPerRun: round((elapsed / count) * 1000, 1),
      claimP50Ms: round(percentile(claimMs, 50), 3),
      claimP95Ms: round(percentile(claimMs, 95), 3),
      settleP50Ms: round(percentile(settleMs, 50), 3),
      settleP95Ms: round(percentile(settleMs, 95), 3)
    }
  } finally {
    await store.close()
  }
}

/** Claim and complete cost with 10,000 and 1,000,000 pending runs over 5,000,000 finished ones. */
export const scale = async (context: BenchContext): Promise<void> => {
  if (!context.pg || !wanted(context, "jobss")) return
  const adminUrl = context.pg.url
  const finished = context.quick ? 10_000 : 5_000_000
  const small = context.quick ? 1_000 : 10_000
  const large = context.quick ? 10_000 : 1_000_000
  const perRep = context.quick ? 100 : 3_000
  const setupStarted = now()
  const nowMs = Date.now()
  const a = "bench_scale_a"
  const b = "bench_scale_b"
  try {
    // A: migrated by SqlStore, then bulk-loaded with its secondary indexes rebuilt afterwards.
    const urlA = await createDatabase("postgres", adminUrl, a)
    await setupOf("jobss", "postgres").install(urlA)
    const indexes = await secondaryIndexes(urlA)
    await pgExec(urlA, ...indexes.map((index) => `DROP INDEX ${index.indexname}`))
    let t = now()
    await pgExec(urlA, generate("succeeded", 0, finished - 1, nowMs - 40 * 86_400_000, "f"))
    const finishedLoadS = (now() - t) / 1000
    await pgExec(urlA, generate("pending", 0, small - 1, nowMs - 7_200_000, "p"))
    t = now()
    await pgExec(urlA, ...indexes.map((index) => index.indexdef))
    const indexS = (now() - t) / 1000
    t = now()
    await pgExec(urlA, `VACUUM ANALYZE ${runsTable}`, "CHECKPOINT")
    const vacuumS = (now() - t) / 1000
    // B: a file copy of A, plus the pending runs that make it 1,000,000.
    t = now()
    const urlB = await createDatabase("postgres", adminUrl, b, a)
    const copyS = (now() - t) / 1000
    await pgExec(urlB, generate("pending", small, large - 1, nowMs - 7_200_000, "p"))
    await pgExec(urlB, `VACUUM ANALYZE ${runsTable}`, "CHECKPOINT")
    const sizes = await pgQuery<{ a: string }>(urlB, "SELECT pg_size_pretty(pg_total_relation_size($1)) AS a", [
      runsTable
    ])
    context.results.extra["scaleSetup"] = {
      finished,
      small,
      large,
      finishedLoadS: round(finishedLoadS, 1),
      indexRebuildS: round(indexS, 1),
      vacuumS: round(vacuumS, 1),
      copyS: round(copyS, 1),
      totalS: round((now() - setupStarted) / 1000, 1),
      tableSizeB: sizes[0]?.a ?? "?"
    }
    context.log(`scale setup: ${JSON.stringify(context.results.extra["scaleSetup"])}`)

    const targets: ReadonlyArray<{ readonly url: string; readonly pending: number; row: Row }> = [
      { url: urlA, pending: small, row: undefined as unknown as Row },
      { url: urlB, pending: large, row: undefined as unknown as Row }
    ].map((target) => ({
      ...target,
      row: rowFor(context, {
        case: "scale",
        backend: "postgres",
        system: "jobss",
        variant: `pending${target.pending}`,
        label: `SqlStore claim ${claimBatch} + settle, ${target.pending.toLocaleString("en-US")} pending, ${finished.toLocaleString("en-US")} finished`,
        params: { pending: target.pending, finished, runsPerRep: perRep }
      })
    }))
    let topUp = 0
    for (let rep = 1; rep <= context.reps; rep++) {
      for (const target of targets) {
        if (context.interrupted()) return
        const figures = await measure(target.url, perRep)
        target.row.reps.push(figures)
        updateMedians(target.row, median)
        context.log(`scale #${rep} ${target.pending} pending: ${JSON.stringify(figures)}`)
        // Back to the same number of pending runs (new ones, due now, behind the others).
        await pgExec(
          target.url,
          generate("pending", large + topUp, large + topUp + perRep - 1, nowMs - 3_600_000, `t${rep}`)
        )
        await context.save()
      }
      topUp += perRep
    }
    await dashboardRequests(context, urlB, finished)
  } finally {
    await dropDatabase("postgres", adminUrl, b).catch(() => undefined)
    await dropDatabase("postgres", adminUrl, a).catch(() => undefined)
  }
}
