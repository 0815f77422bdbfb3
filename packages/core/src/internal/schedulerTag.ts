/** The tag of the client API, declared apart from `Scheduler.ts` so that the runtime uses it without importing a public module. */
import * as Context from "effect/Context"
import type { SchedulerShape } from "../Scheduler.js"

/** The client API service. */
export class Scheduler extends Context.Tag("@jobss/core/Scheduler")<Scheduler, SchedulerShape>() {}
