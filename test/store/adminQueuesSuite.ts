/**
 * Store conformance of the admin operations by queue, run unchanged against every `JobStore` beside
 * `adminSuite.ts`: `listRuns` filtered by queue (alone, with statuses, with a job, paged) and
 * `countQueueRuns` (per queue and status, runs in no queue left out). Names are unique per test.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { newRun } from "../../packages/core/test/fixtures.js"
import { claimOneOfQueue, insertRuns, pageIds, query, registerQueue, uid } from "./adminSuite.js"
import type { StoreBackend } from "./storeSuite.js"

/** Declares `admin conformance by queue: <name>`. */
export const adminQueuesSuite = (name: string, backend: StoreBackend): void => {
  const test = backend.clock === "test" ? it.scoped : it.scopedLive
  const timeout = 30_000

  describe(`admin conformance by queue: ${name}`, () => {
    test(
      "listRuns filters by queue, with statuses and a job, and pages within the queue; countQueueRuns counts per queue and status",
      () =>
        Effect.gen(function* () {
          const { store } = yield* backend.make
          const [job, other, queue, second] = [uid("Queued"), uid("Other"), uid("queue"), uid("second")]
          yield* registerQueue(store, queue)
          const { runs: queued } = yield* insertRuns(store, job, 3, { queue })
          const t = yield* store.now
          const otherJob = newRun({ job: other, runAt: t - 1, createdAt: t - 20_000, queue })
          yield* store.insert([otherJob])
          // one run of the queue is running
          const claimed = yield* claimOneOfQueue(store, job, queue)
          expect(claimed).toHaveLength(1)
          const running = claimed[0]!.id
          expect(queued.map((run) => run.id)).toContain(running)
          const { runs: elsewhere } = yield* insertRuns(store, job, 2, { queue: second })
          const { runs: noQueue } = yield* insertRuns(store, job, 2)

          const newest = [...queued].reverse().map((run) => run.id)
          expect(pageIds(yield* store.admin.listRuns(query({ queue })))).toEqual([...newest, otherJob.id])
          expect(pageIds(yield* store.admin.listRuns(query({ queue, job })))).toEqual(newest)
          expect(pageIds(yield* store.admin.listRuns(query({ queue, statuses: ["running"] })))).toEqual([running])
          expect(pageIds(yield* store.admin.listRuns(query({ queue, statuses: ["pending"], job })))).toEqual(
            newest.filter((id) => id !== running)
          )
          expect(pageIds(yield* store.admin.listRuns(query({ queue: second })))).toEqual(
            [...elsewhere].reverse().map((run) => run.id)
          )
          expect(pageIds(yield* store.admin.listRuns(query({ queue: uid("none") })))).toEqual([])
          const all = pageIds(yield* store.admin.listRuns(query({ job })))
          expect(all).toHaveLength(queued.length + elsewhere.length + noQueue.length)

          const first = yield* store.admin.listRuns(query({ queue, limit: 2 }))
          expect(pageIds(first)).toEqual(newest.slice(0, 2))
          const rest = yield* store.admin.listRuns(query({ queue, limit: 2, after: first.next }))
          expect(pageIds(rest)).toEqual([newest[2]!, otherJob.id])
          expect(rest.next).toBeNull()

          const counts = (yield* store.admin.countQueueRuns(100))
            .filter((count) => count.queue === queue || count.queue === second)
            .sort((a, b) => `${a.queue} ${a.status}`.localeCompare(`${b.queue} ${b.status}`))
          expect(counts).toEqual(
            [
              { queue, status: "pending", count: 3, capped: false },
              { queue, status: "running", count: 1, capped: false },
              { queue: second, status: "pending", count: 2, capped: false }
            ].sort((a, b) => `${a.queue} ${a.status}`.localeCompare(`${b.queue} ${b.status}`))
          )
        }),
      timeout
    )
  })
}
