/**
 * The dashboard over HTTP on every backend, mounted under a path of a real server: pages answer
 * 200 (or 400 for bad filters, 404 for a missing run, 409 for an action the run's status refuses);
 * a POST without the CSRF token, or from another site, is refused with 403 and changes nothing;
 * with it, Retry makes a failed run succeed, a queue is paused and resumed, runs are deleted in bulk.
 * A run whose arguments and error hold markup shows them escaped. `readOnly` shows no action and
 * refuses a forged POST; `auth` (bearer, basic) refuses a request without credentials (401);
 * `hideArgs` shows no arguments.
 */
import { describe, expect, it } from "@effect/vitest"
import { Job, JobQueue, RunId } from "@jobss/core"
import { JobsSDashboard } from "@jobss/dashboard"
import { Effect, Schema } from "effect"
import { fastOptions, makeCluster, runtimeBackends } from "../support/cluster.js"
import { csrfOf, get, post, serveDashboard } from "../support/dashboard.js"

const Flaky = Job.make({ name: "DashFlaky", args: Schema.Struct({ key: Schema.String }), retriesErrorLimit: 0 })
const Mail = JobQueue.make({ name: "dash-mail", concurrency: 2 })
const Send = Job.make({ name: "DashSend", args: Schema.Struct({}), queue: Mail })

/** Markup that would run script if it were not escaped. */
const attack = `<script>window.__xss=1</script>"><img src=x onerror=alert(1)>`
const secret = "a test secret"

describe.each(runtimeBackends)("dashboard over HTTP on %s", (backend) => {
  it.scopedLive(`pages, actions, CSRF, escaping, readOnly, auth, hideArgs (${backend})`, () =>
    Effect.gen(function* () {
      const cluster = yield* makeCluster(backend)
      let healthy = false
      const { scheduler } = yield* cluster.start(
        fastOptions,
        Flaky.toLayer(({ key }) => (healthy ? Effect.void : Effect.fail(`failed on ${key}`)))
      )
      const failed = yield* scheduler.createRun(Flaky, { key: attack }).pipe(Effect.withSpan("operator request"))
      expect((yield* scheduler.awaitRun(failed, { timeout: "20 seconds" })).status).toBe("failed")
      const queued = yield* scheduler.createRun(Send, {})
      const base = yield* serveDashboard(scheduler, { secret })
      const runUrl = `${base}/runs/${failed}`

      const overview = yield* get(base)
      expect(overview.status).toBe(200)
      expect(overview.text).toContain("Runs by status")
      expect(overview.text).toContain(`href="/admin/jobs/runs?status=failed"`)
      expect(overview.headers.get("content-security-policy")).toContain("script-src 'nonce-")
      const list = yield* get(`${base}/runs?status=failed&job=${Flaky.name}`)
      expect(list.status).toBe(200)
      expect(list.text).toContain(`href="/admin/jobs/runs/${failed}"`)
      expect((yield* get(`${base}/runs?queue=${Mail.name}`)).text).toContain(queued)
      expect((yield* get(`${base}/runs?status=bogus`)).status).toBe(400)
      expect((yield* get(`${base}/runs?limit=100000`)).status).toBe(400)
      expect((yield* get(`${base}/runs?job=${"x".repeat(300)}`)).status).toBe(400)
      expect((yield* get(`${base}/runs?cursor=nonsense`)).status).toBe(400)
      expect((yield* get(`${base}/runs/${RunId.generate(Date.now())}`)).status).toBe(404)
      for (const path of ["/queues", "/schedules", "/instances"])
        expect((yield* get(`${base}${path}`)).status).toBe(200)

      const detail = yield* get(runUrl)
      expect(detail.status).toBe(200)
      expect(detail.text).not.toContain("<script>window.__xss")
      expect(detail.text).not.toContain("<img src=x")
      expect(detail.text).toContain(
        "&lt;script&gt;window.__xss=1&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
      )
      expect(detail.text).toContain(">Retry</button>")
      expect(detail.text).toContain(`<dt>Trace id</dt><dd>${(yield* scheduler.getRunState(failed)).traceId}</dd>`)
      expect((yield* scheduler.getRunState(failed)).traceId).toMatch(/^[0-9a-f]{32}$/)
      const csrf = csrfOf(detail)

      expect((yield* post(`${runUrl}/retry`, [])).status).toBe(403)
      expect((yield* post(`${runUrl}/retry`, [["_csrf", "forged"]])).status).toBe(403)
      const crossOrigin = yield* post(`${runUrl}/retry`, [["_csrf", csrf]], { origin: "https://evil.example" })
      expect(crossOrigin.status).toBe(403)
      expect(crossOrigin.text).toContain("Cross-site request refused")
      expect((yield* post(`${runUrl}/retry`, [["_csrf", csrf]], { "sec-fetch-site": "cross-site" })).status).toBe(403)
      expect((yield* scheduler.getRunState(failed)).status).toBe("failed")

      healthy = true
      const retried = yield* post(`${runUrl}/retry`, [["_csrf", csrf]], { origin: new URL(base).origin })
      expect(retried.status).toBe(303)
      expect(retried.headers.get("location")).toBe(`/admin/jobs/runs/${failed}?notice=retried`)
      expect((yield* scheduler.awaitRun(failed, { timeout: "20 seconds" })).status).toBe("succeeded")
      expect((yield* post(`${runUrl}/retry`, [["_csrf", csrf]])).status).toBe(409)

      const queues = yield* get(`${base}/queues`)
      expect(queues.text).toContain(`aria-label="Pause queue ${Mail.name}"`)
      expect((yield* post(`${base}/queues/${Mail.name}/pause`, [["_csrf", csrf]])).status).toBe(303)
      expect((yield* scheduler.listQueues).find((q) => q.name === Mail.name)?.paused).toBe(true)
      expect((yield* get(`${base}/queues`)).text).toContain(`aria-label="Resume queue ${Mail.name}"`)
      expect((yield* post(`${base}/queues/${Mail.name}/resume`, [["_csrf", csrf]])).status).toBe(303)
      expect((yield* scheduler.listQueues).find((q) => q.name === Mail.name)?.paused).toBe(false)
      // a name with a space, a slash and a non-ASCII letter reaches the store as it is
      const odd = "dash q/ü"
      const oddPause = yield* post(`${base}/queues/${encodeURIComponent(odd)}/pause`, [["_csrf", csrf]])
      expect(oddPause.status).toBe(303)
      expect((yield* scheduler.listQueues).find((q) => q.name === odd)?.paused).toBe(true)

      const bulk = yield* post(`${base}/runs/delete`, [
        ["_csrf", csrf],
        ["id", failed],
        ["id", queued],
        ["filters", "status=succeeded"]
      ])
      expect(bulk.status).toBe(303)
      expect(bulk.headers.get("location")).toBe("/admin/jobs/runs?status=succeeded&changed=1&of=2&notice=bulk")
      expect((yield* get(`${base}${bulk.headers.get("location")!.slice("/admin/jobs".length)}`)).text).toContain(
        "1 of 2 selected runs changed"
      )
      expect((yield* Effect.flip(scheduler.getRunState(failed)))._tag).toBe("RunNotFound")
      const cancelled = yield* post(`${base}/runs/cancel`, [
        ["_csrf", csrf],
        ["id", queued]
      ])
      expect(cancelled.headers.get("location")).toBe("/admin/jobs/runs?changed=1&of=1&notice=bulk")
      expect((yield* scheduler.getRunState(queued)).status).toBe("cancelled")
      const tooMany = Array.from({ length: 201 }, (): readonly [string, string] => ["id", queued])
      expect((yield* post(`${base}/runs/retry`, [["_csrf", csrf], ...tooMany])).status).toBe(400)

      // read-only: no action shown, a POST with a valid token refused
      const readOnly = yield* serveDashboard(scheduler, { secret, readOnly: true })
      const runs = yield* get(`${readOnly}/runs`)
      expect(runs.status).toBe(200)
      expect(runs.text).not.toContain('method="post"')
      expect((yield* get(`${readOnly}/queues`)).text).not.toContain("Pause")
      expect((yield* post(`${readOnly}/queues/${Mail.name}/pause`, [["_csrf", csrf]])).status).toBe(403)
      expect((yield* scheduler.listQueues).find((q) => q.name === Mail.name)?.paused).toBe(false)

      // auth
      const bearer = yield* serveDashboard(scheduler, { auth: JobsSDashboard.bearerToken("s3cret") })
      const refused = yield* get(bearer)
      expect(refused.status).toBe(401)
      expect(refused.headers.get("www-authenticate")).toBe("Bearer")
      expect((yield* get(bearer, { authorization: "Bearer wrong" })).status).toBe(401)
      expect((yield* get(bearer, { authorization: "Bearer s3cret" })).status).toBe(200)
      const basic = yield* serveDashboard(scheduler, {
        auth: JobsSDashboard.basicAuth({ username: "ops", password: "pw" })
      })
      expect((yield* get(`${basic}/runs`)).headers.get("www-authenticate")).toContain('Basic realm="JobsS"')
      const as = (user: string) => ({ authorization: `Basic ${Buffer.from(user).toString("base64")}` })
      expect((yield* get(`${basic}/runs`, as("ops:nope"))).status).toBe(401)
      expect((yield* get(`${basic}/runs`, as("ops:pw"))).status).toBe(200)
      expect((yield* post(`${basic}/queues/${Mail.name}/pause`, [["_csrf", csrf]])).status).toBe(401)

      // hideArgs
      const hidden = yield* serveDashboard(scheduler, { hideArgs: true })
      const secretRun = yield* scheduler.createRun(Flaky, { key: "personal-data-42" })
      yield* scheduler.awaitRun(secretRun, { timeout: "20 seconds" })
      const shown = yield* get(`${hidden}/runs/${secretRun}`)
      expect(shown.status).toBe(200)
      expect(shown.text).not.toContain("personal-data-42")
      expect((yield* get(`${hidden}/runs?argsContains=personal`)).status).toBe(400)
    })
  )
})
