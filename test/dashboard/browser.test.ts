/**
 * The dashboard in a real browser: Debian's headless Chromium driven by `playwright-core`, on SQLite
 * and PostgreSQL. The overview shows the counts; the runs page filtered to failed finds the failed
 * run (the page's script selects every run); its page shows its attempt; clicking Retry makes it
 * run and succeed; a queue is paused and
 * resumed with its buttons; a run whose arguments and error hold script and markup shows them as
 * text and runs nothing (no dialog, no `window.__xss`). Each page's screenshot is saved under
 * `.jobss-test/dashboard/`.
 */
import { existsSync, mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Job, JobQueue } from "@jobss/core"
import { Effect, Schema } from "effect"
import { type Browser, type Page, chromium } from "playwright-core"
import { fastOptions, makeCluster } from "../support/cluster.js"
import { serveDashboard } from "../support/dashboard.js"

const executablePath = process.env.JOBSS_CHROMIUM ?? "/usr/bin/chromium"
const shots = join(dirname(fileURLToPath(import.meta.url)), "..", "..", ".jobss-test", "dashboard")

const Flaky = Job.make({ name: "BrowserFlaky", args: Schema.Struct({ key: Schema.String }), retriesErrorLimit: 0 })
const Mail = JobQueue.make({ name: "browser-mail" })
const Send = Job.make({ name: "BrowserSend", args: Schema.Struct({}), queue: Mail })

const attack = `<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2;alert(1)">`

/** A headless Chromium for the scope's life. */
const browser = Effect.acquireRelease(
  Effect.promise((): Promise<Browser> => {
    if (!existsSync(executablePath)) {
      throw new Error(`${executablePath} is missing: npm test installs it (apt-get install -y chromium)`)
    }
    return chromium.launch({
      executablePath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run"
      ]
    })
  }),
  (b) => Effect.promise(() => b.close())
)

const step = <A>(f: () => Promise<A>) => Effect.promise(f)

describe.each(["sqlite", "postgres"] as const)("dashboard in Chromium on %s", (backend) => {
  it.scopedLive(
    `overview, filter to failed, run page, Retry, pause and resume, escaped script (${backend})`,
    () =>
      Effect.gen(function* () {
        mkdirSync(shots, { recursive: true })
        const cluster = yield* makeCluster(backend)
        let healthy = false
        const { scheduler } = yield* cluster.start(
          fastOptions,
          Flaky.toLayer(({ key }) => (healthy || key === "fine" ? Effect.void : Effect.fail(`failed on ${key}`)))
        )
        const failed = yield* scheduler.createRun(Flaky, { key: "needle" })
        const hostile = yield* scheduler.createRun(Flaky, { key: attack })
        const fine = yield* scheduler.createRun(Flaky, { key: "fine" })
        for (const id of [failed, hostile, fine]) yield* scheduler.awaitRun(id, { timeout: "20 seconds" })
        yield* scheduler.createRun(Send, {})
        const base = yield* serveDashboard(scheduler)

        const b = yield* browser
        const page: Page = yield* step(() => b.newPage())
        const dialogs: Array<string> = []
        page.on("dialog", (dialog) => {
          dialogs.push(dialog.message())
          void dialog.dismiss()
        })
        const shot = (name: string) =>
          step(() => page.screenshot({ path: join(shots, `${backend}-${name}.png`), fullPage: true }))

        yield* step(() => page.goto(base))
        expect(yield* step(() => page.getByRole("heading", { level: 1 }).textContent())).toBe("Overview")
        const card = (status: string) => page.locator(".card", { hasText: status }).locator("b")
        expect(yield* step(() => card("failed").textContent())).toBe("2")
        expect(yield* step(() => card("succeeded").textContent())).toBe("1")
        expect(yield* step(() => page.getByRole("img", { name: /^Succeeded: 1 in the last 60 minutes/ }).count())).toBe(
          1
        )
        yield* shot("overview")

        yield* step(() => page.getByRole("navigation").getByRole("link", { name: "Runs" }).click())
        yield* step(() => page.getByRole("checkbox", { name: "failed" }).check())
        yield* step(() => page.getByRole("button", { name: "Filter" }).click())
        expect(page.url()).toContain("status=failed")
        const listed = yield* step(() => page.locator("tbody tr").count())
        expect(listed).toBe(2)
        expect(yield* step(() => page.getByRole("checkbox", { name: `Select run ${failed}` }).count())).toBe(1)
        // the page's inline script runs (its nonce passes the Content-Security-Policy): select all
        yield* step(() => page.getByRole("checkbox", { name: "Select every run on this page" }).check())
        const boxes = page.locator("input[name=id]")
        expect(
          yield* step(() => boxes.evaluateAll((all) => all.every((box) => (box as { checked?: boolean }).checked)))
        ).toBe(true)
        yield* step(() => page.getByRole("checkbox", { name: "Select every run on this page" }).uncheck())
        yield* shot("runs")

        yield* step(() => page.getByRole("link", { name: failed }).click())
        expect(yield* step(() => page.getByRole("heading", { level: 1 }).textContent())).toBe(`Run ${failed}`)
        const attempts = page.getByRole("table", { name: "Attempts, oldest first" }).locator("tbody tr")
        expect(yield* step(() => attempts.count())).toBe(1)
        expect(yield* step(() => attempts.first().textContent())).toContain("failed on needle")
        yield* shot("run")

        healthy = true
        yield* step(() => page.getByRole("button", { name: "Retry" }).click())
        expect(yield* step(() => page.getByRole("status").textContent())).toContain("Retried")
        yield* scheduler.awaitRun(failed, { timeout: "20 seconds" })
        yield* step(() => page.reload())
        expect(yield* step(() => page.locator("dd .status").first().textContent())).toBe("succeeded")
        expect(yield* step(() => attempts.count())).toBe(2)
        expect(yield* step(() => page.getByRole("button", { name: "Retry" }).count())).toBe(0)
        expect(yield* step(() => page.getByRole("button", { name: "Delete" }).count())).toBe(1)

        yield* step(() => page.getByRole("navigation").getByRole("link", { name: "Queues" }).click())
        yield* step(() => page.getByRole("button", { name: `Pause queue ${Mail.name}` }).click())
        expect(yield* step(() => page.getByRole("status").textContent())).toContain("Queue paused")
        expect((yield* scheduler.listQueues).find((q) => q.name === Mail.name)?.paused).toBe(true)
        yield* shot("queues")
        yield* step(() => page.getByRole("button", { name: `Resume queue ${Mail.name}` }).click())
        expect((yield* scheduler.listQueues).find((q) => q.name === Mail.name)?.paused).toBe(false)

        yield* step(() => page.goto(`${base}/runs/${hostile}`))
        expect(yield* step(() => page.getByLabel("Arguments").textContent())).toContain(JSON.stringify(attack))
        expect(yield* step(() => page.locator("dd", { hasText: "failed on <script>" }).count())).toBe(1)
        yield* step(() => page.goto(`${base}/runs?status=failed`))
        expect(yield* step(() => page.getByRole("cell", { name: `failed on ${attack}` }).count())).toBe(1)
        yield* step(() => page.waitForTimeout(200))
        expect(yield* step(() => page.evaluate(() => (globalThis as { __xss?: number }).__xss))).toBeUndefined()
        expect(yield* step(() => page.locator("img").count())).toBe(0)
        expect(dialogs).toEqual([])
        yield* shot("escaped")

        for (const path of ["schedules", "instances"]) {
          yield* step(() => page.goto(`${base}/${path}`))
          yield* shot(path)
        }
      }),
    120_000
  )
})
