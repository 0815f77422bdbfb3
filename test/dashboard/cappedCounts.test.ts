/**
 * The overview of a job with more runs in a status than `Admin.maxCount` (`maxCount + 1` pending
 * runs, one failed): on every backend `countRuns` reports the pending figure as `maxCount`, names
 * `pending` in `capped` (in all, for the job and for its queue) and not `failed`; the dashboard's
 * overview shows the capped figures as `10,000+` and the exact one as it is.
 */
import { describe, expect, it } from "@effect/vitest"
import { Admin, Job, JobQueue } from "@jobss/core"
import { Effect, Schema } from "effect"
import { makeCluster, runtimeBackends } from "../support/cluster.js"
import { get, serveDashboard } from "../support/dashboard.js"

const Busy = JobQueue.make({ name: "capped-busy" })
const Many = Job.make({ name: "CappedMany", args: Schema.Struct({ i: Schema.Number }), queue: Busy })

describe.each(runtimeBackends)("capped counts on %s", (backend) => {
  it.scopedLive(
    `countRuns caps a group at Admin.maxCount and the overview shows 10,000+ (${backend})`,
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster(backend)
        const scheduler = yield* cluster.client
        // nothing runs them: no instance serves the job, and they are due in an hour
        yield* scheduler.createRuns(
          Many,
          Array.from({ length: Admin.maxCount + 1 }, (_, i) => ({ i })),
          { delay: "1 hour" }
        )
        const [last] = yield* scheduler.createRuns(Many, [{ i: -1 }], { delay: "1 hour" })
        yield* scheduler.cancelRun(last!)

        const counts = yield* scheduler.countRuns
        expect(counts.byStatus).toEqual({ pending: Admin.maxCount, running: 0, succeeded: 0, failed: 0, cancelled: 1 })
        expect(counts.total).toBe(Admin.maxCount + 1)
        expect(counts.capped).toEqual(["pending"])
        expect(counts.byJob).toEqual([
          { job: Many.name, total: Admin.maxCount + 1, byStatus: counts.byStatus, capped: ["pending"] }
        ])
        expect(counts.byQueue).toEqual([
          { queue: Busy.name, total: Admin.maxCount + 1, byStatus: counts.byStatus, capped: ["pending"] }
        ])

        const overview = yield* get(yield* serveDashboard(scheduler))
        expect(overview.status).toBe(200)
        expect(overview.text).toContain(`href="/admin/jobs/runs?status=pending">10,000+</a>`)
        expect(overview.text).toContain(`href="/admin/jobs/runs?status=cancelled">1</a>`)
        expect(overview.text).toContain("total<b>10,001+</b>")
        expect(overview.text).toContain(`href="/admin/jobs/runs?job=${Many.name}&amp;status=pending">10,000+</a>`)
        expect(overview.text).toContain(`href="/admin/jobs/runs?queue=${Busy.name}&amp;status=pending">10,000+</a>`)
      }),
    120_000
  )
})
