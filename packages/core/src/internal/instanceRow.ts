/** The instance row: what each instance registers, its counters, and the row as stored. */

/** The instance counters, as stored on its row. */
export interface InstanceCounters {
  /** Attempts this instance started executing (claimed, arguments decoded). */
  readonly runsStarted: number
  /** Attempts that succeeded on this instance. */
  readonly runsSucceeded: number
  /** Occurrences of scheduled runs this instance ended with the next occurrence created. */
  readonly runsRescheduled: number
  /** Attempts that timed out: interrupted here at their timeout, or taken over by this instance's reaper. */
  readonly runsTimedOut: number
  /** Runs this instance's reaper took over from an instance that stopped heart-beating (lease expired). */
  readonly runsResurrected: number
  /** Attempts that failed on this instance (an error, a defect, arguments that do not decode), retried or not. */
  readonly runsErrors: number
}

/** An instance's registration row. */
export interface InstanceInfo {
  /** The instance's id, generated when it starts (`JobsS.instanceId`, `runStartedBy` of its runs). */
  readonly id: string
  /** Its readable name (`instanceName`). */
  readonly name: string
  /** Its `workers` option. */
  readonly workers: number
  /** The jobs implemented on it (updated whenever an implementation registers). */
  readonly jobs: ReadonlyArray<string>
  /** The names of the schedules it knows. */
  readonly schedules: ReadonlyArray<string>
  /** Its `pollInterval`, in milliseconds. */
  readonly pollIntervalMs: number
  /** Its `pollLimit`. */
  readonly pollLimit: number
}

/** An instance row as stored. */
export interface StoredInstance extends InstanceInfo, InstanceCounters {
  /** When the instance (last) registered, epoch milliseconds. */
  readonly startedAt: number
  /** Its last heartbeat (or registration, or shutdown), epoch milliseconds. */
  readonly lastSeenAt: number
  /** When it shut down, epoch milliseconds; `null` while it runs, or when it stopped without shutting down. */
  readonly shutdownAt: number | null
}

/** Every instance counter at zero (a new instance row, fresh counters in memory). */
export const zeroCounters: InstanceCounters = {
  runsStarted: 0,
  runsSucceeded: 0,
  runsRescheduled: 0,
  runsTimedOut: 0,
  runsResurrected: 0,
  runsErrors: 0
}
