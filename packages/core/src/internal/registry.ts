/** The jobs implemented on this instance and the schedules it knows. */
import type * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Job from "../Job.js"
import type { JobSchedule } from "./jobSchedule.js"
import type { RunInfo } from "./runInfo.js"

/** A registered implementation: the definition, its `run`, and the context it runs in (`RunInfo` is added per run). */
export interface Registration {
  readonly job: Job.Any
  readonly run: (args: unknown) => Effect.Effect<unknown, unknown, RunInfo>
  /** The services of the implementing layer; the instance's own when absent. */
  readonly context: Context.Context<never> | undefined
}

/** The jobs and schedules an instance can execute. */
export interface Registry {
  /** The implementation attempts of `job` start with; `undefined` once its layer is released. */
  readonly get: (job: string) => Registration | undefined
  /**
   * The definition that decides the outcome of an attempt of `job` (its retry backoff): the
   * implementation's, or the last one of a released layer, whose attempts may still be draining.
   */
  readonly definition: (job: string) => Job.Any | undefined
  readonly add: (registration: Registration) => boolean
  /** Stops claiming and starting `job`; attempts already running still end with its definition. */
  readonly remove: (job: string) => void
  readonly jobs: () => ReadonlyArray<string>
  readonly schedule: (name: string) => JobSchedule | undefined
  readonly schedules: ReadonlyArray<string>
}

/** A registry knowing the given schedules and no jobs yet. */
export const make = (schedules: ReadonlyArray<JobSchedule>): Registry => {
  const registrations = new Map<string, Registration>()
  const released = new Map<string, Job.Any>()
  const byName = new Map(schedules.map((schedule) => [schedule.name, schedule]))
  let names: ReadonlyArray<string> = []
  return {
    get: (job) => registrations.get(job),
    definition: (job) => registrations.get(job)?.job ?? released.get(job),
    add: (registration) => {
      if (registrations.has(registration.job.name)) return false
      registrations.set(registration.job.name, registration)
      released.delete(registration.job.name)
      names = [...registrations.keys()]
      return true
    },
    remove: (job) => {
      const registration = registrations.get(job)
      if (registration !== undefined) released.set(job, registration.job)
      registrations.delete(job)
      names = [...registrations.keys()]
    },
    jobs: () => names,
    schedule: (name) => byName.get(name),
    schedules: [...byName.keys()]
  }
}
