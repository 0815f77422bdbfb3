/**
 * Unit-testing a program that uses JobsS without a database: `JobStore.layerMemory`
 * has the same semantics as the SQL store and follows Effect's `Clock`, so
 * `TestClock` can drive delays and schedules.
 */
import { JobStore, JobsS, Scheduler } from "@jobss/core"
import { Effect, Layer } from "effect"
import { Announce, AnnounceLive } from "./features.js"

/** An instance on the in-memory store, with the Announce implementation. */
export const TestJobsS = AnnounceLive.pipe(Layer.provideMerge(JobsS.layer()), Layer.provide(JobStore.layerMemory))

/** The code under test: creates a run and waits for it. */
export const announceAndWait = (name: string) =>
  Effect.flatMap(Scheduler.createRun(Announce, { name }), (id) => Scheduler.awaitRun(id))
