/**
 * The memory store's named leases (`acquireLease`, `releaseLease`, `lease`), with the
 * semantics of SqlStore's lease table: free from `leaseUntil` on, renewed only by its holder.
 *
 * @internal
 */
import type { Lease, LeaseRequest } from "./lease.js"
import type { State } from "./memoryRows.js"

/** Takes the lease when it is absent, expired or held by `holder`; whether `holder` holds it now. */
export const acquireLease = (state: State, request: LeaseRequest, now: number): boolean => {
  const lease = state.leases.get(request.name)
  if (lease !== undefined && lease.holder !== request.holder && lease.leaseUntil > now) return false
  state.leases.set(request.name, { holder: request.holder, leaseUntil: now + request.leaseMs })
  return true
}

/** Frees the lease at `now` if `holder` holds it. */
export const releaseLease = (state: State, name: string, holder: string, now: number): void => {
  const lease = state.leases.get(name)
  if (lease !== undefined && lease.holder === holder && lease.leaseUntil > now) lease.leaseUntil = now
}

/** The lease and its holder's jobs and schedules. */
export const lease = (state: State, name: string, now: number): Lease | undefined => {
  const found = state.leases.get(name)
  if (found === undefined) return undefined
  const instance = state.instances.get(found.holder)
  return {
    name,
    holder: found.holder,
    leaseUntil: found.leaseUntil,
    live: found.leaseUntil > now,
    jobs: [...(instance?.jobs ?? [])],
    schedules: [...(instance?.schedules ?? [])]
  }
}
