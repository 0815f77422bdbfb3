/** The tag of the job store, declared apart from `JobStore.ts` so that the runtime uses it without importing a public module. */
import * as Context from "effect/Context"
import type { JobStoreShape } from "../JobStore.js"

/** The job store service used by `JobsS`. */
export class JobStore extends Context.Tag("@jobss/core/JobStore")<JobStore, JobStoreShape>() {}
