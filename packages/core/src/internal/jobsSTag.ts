/** The tag of the running instance, declared apart from `JobsS.ts` so that the runtime and `Job` can use it without an import cycle. */
import * as Context from "effect/Context"
import type { JobsSShape } from "../JobsS.js"

/** The running JobsS instance service. */
export class JobsS extends Context.Tag("@jobss/core/JobsS")<JobsS, JobsSShape>() {}
