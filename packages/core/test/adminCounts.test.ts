/**
 * The grouping of `countRuns`: the store's counts per job (and queue) and status summed per job, per
 * queue and in all; a status capped in some group is capped in its job's (or queue's) figures and in
 * the totals, and a status capped nowhere is not.
 */
import { describe, expect, it } from "@effect/vitest"
import { runCounts } from "../src/internal/adminCounts.js"

describe("runCounts", () => {
  it("sums the counts per job, per queue and in all, and names the capped statuses in each", () => {
    const counts = runCounts(
      [
        { job: "B", status: "pending", count: 10_000, capped: true },
        { job: "B", status: "failed", count: 3, capped: false },
        { job: "A", status: "pending", count: 2, capped: false },
        { job: "A", status: "succeeded", count: 10_000, capped: true },
        { job: "C", status: "failed", count: 1, capped: false }
      ],
      [
        { queue: "q", status: "running", count: 10_000, capped: true },
        { queue: "q", status: "pending", count: 4, capped: false },
        { queue: "r", status: "pending", count: 1, capped: false }
      ]
    )
    expect(counts).toEqual({
      total: 20_006,
      byStatus: { pending: 10_002, running: 0, succeeded: 10_000, failed: 4, cancelled: 0 },
      capped: ["pending", "succeeded"],
      byJob: [
        {
          job: "A",
          total: 10_002,
          byStatus: { pending: 2, running: 0, succeeded: 10_000, failed: 0, cancelled: 0 },
          capped: ["succeeded"]
        },
        {
          job: "B",
          total: 10_003,
          byStatus: { pending: 10_000, running: 0, succeeded: 0, failed: 3, cancelled: 0 },
          capped: ["pending"]
        },
        {
          job: "C",
          total: 1,
          byStatus: { pending: 0, running: 0, succeeded: 0, failed: 1, cancelled: 0 },
          capped: []
        }
      ],
      byQueue: [
        {
          queue: "q",
          total: 10_004,
          byStatus: { pending: 4, running: 10_000, succeeded: 0, failed: 0, cancelled: 0 },
          capped: ["running"]
        },
        {
          queue: "r",
          total: 1,
          byStatus: { pending: 1, running: 0, succeeded: 0, failed: 0, cancelled: 0 },
          capped: []
        }
      ]
    })
  })

  it("reports nothing capped and zero counts for an empty store", () => {
    expect(runCounts([], [])).toEqual({
      total: 0,
      byStatus: { pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 },
      capped: [],
      byJob: [],
      byQueue: []
    })
  })
})
