/**
 * The memory store's instance rows.
 *
 * @internal
 */
import type { InstanceCounters, InstanceInfo, StoredInstance } from "../JobStore.js"
import { zeroCounters } from "./instanceRow.js"
import type { State } from "./memoryRows.js"

/** A copy of an instance row (its lists copied too). */
export const toInstance = (instance: StoredInstance): StoredInstance => ({
  ...instance,
  jobs: [...instance.jobs],
  schedules: [...instance.schedules]
})

/** Registers (or re-registers) an instance at `now`, its counters at zero. */
export const registerInstance = (state: State, instance: InstanceInfo, now: number): void => {
  state.instances.set(instance.id, {
    id: instance.id,
    name: instance.name,
    workers: instance.workers,
    jobs: [...instance.jobs],
    schedules: [...instance.schedules],
    pollIntervalMs: instance.pollIntervalMs,
    pollLimit: instance.pollLimit,
    ...zeroCounters,
    startedAt: now,
    lastSeenAt: now,
    shutdownAt: null
  })
}

/** Records an instance's counters and last sighting (and its shutdown, when `shutdown`). */
export const updateInstance = (
  state: State,
  id: string,
  counters: InstanceCounters,
  now: number,
  shutdown: boolean
): void => {
  const instance = state.instances.get(id)
  if (instance === undefined) return
  instance.runsStarted = counters.runsStarted
  instance.runsSucceeded = counters.runsSucceeded
  instance.runsRescheduled = counters.runsRescheduled
  instance.runsTimedOut = counters.runsTimedOut
  instance.runsResurrected = counters.runsResurrected
  instance.runsErrors = counters.runsErrors
  instance.lastSeenAt = now
  if (shutdown) instance.shutdownAt = now
}
