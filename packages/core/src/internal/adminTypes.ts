/**
 * The store side of the admin API (`JobStoreShape.admin`): queries and changes an operator makes,
 * in encoded rows and epoch milliseconds like the rest of the store. `JobStore.ts` re-exports these
 * types; `Scheduler` validates its callers' input, then calls these operations.
 *
 * Every list is ordered by a key and paged by it (keyset): a page starts strictly after the key the
 * previous page ended at, so no query skips rows it has read (no `OFFSET`).
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type { JobStoreError } from "./errors.js"
import type { StoredInstance } from "./instanceRow.js"
import type { RunStatus, StoredRunFields } from "./runRow.js"

/** Where a list of runs continues: the `createdAt` and `id` of the last occurrence listed before. */
export interface RunKey {
  /** The occurrence's `createdAt`, epoch milliseconds. */
  readonly createdAt: number
  /** The occurrence's `id`. */
  readonly id: string
}

/**
 * What `listRuns` asks for: occurrences newest first (`createdAt` then `id`, both descending) that
 * satisfy every filter given. Each filter is validated by the caller.
 */
export interface RunQuery {
  /** Only occurrences in one of these statuses; empty: any status. */
  readonly statuses: ReadonlyArray<RunStatus>
  /** Only occurrences of this job. */
  readonly job: string | null
  /** Only occurrences in this queue. */
  readonly queue: string | null
  /** Only occurrences with this unique name (`createRun`'s `unique`). */
  readonly name: string | null
  /** Only occurrences created at or after this time, epoch milliseconds. */
  readonly createdAfter: number | null
  /** Only occurrences created before this time, epoch milliseconds. */
  readonly createdBefore: number | null
  /**
   * Only occurrences whose encoded arguments contain this text (case-sensitive). It is not indexed:
   * the store reads at most `scanLimit` occurrences that satisfy the other filters, in list order, and
   * keeps those that contain it; `RunListing.next` then says where the next page goes on.
   */
  readonly argsContains: string | null
  /** The page starts strictly after this key; `null`: from the newest. */
  readonly after: RunKey | null
  /** The most occurrences returned. */
  readonly limit: number
  /** With `argsContains`: the most occurrences read for one page. */
  readonly scanLimit: number
}

/** A page of occurrences. */
export interface RunListing {
  /** The occurrences, newest first. */
  readonly runs: ReadonlyArray<StoredRunFields>
  /** Where the next page starts; `null` when no occurrence is left. */
  readonly next: RunKey | null
}

/** The number of occurrences of one job in one status. */
export interface RunCount {
  /** The job's name. */
  readonly job: string
  /** The status. */
  readonly status: RunStatus
  /** How many occurrences of the job are in that status (at most the `upTo` asked). */
  readonly count: number
  /** Whether there are more than `count`: the group reached the `upTo` asked and was not counted further. */
  readonly capped: boolean
}

/** The number of occurrences of one queue in one status (runs in no queue are not counted). */
export interface QueueRunCount {
  /** The queue's name. */
  readonly queue: string
  /** The status. */
  readonly status: RunStatus
  /** How many occurrences of the queue are in that status (at most the `upTo` asked). */
  readonly count: number
  /** Whether there are more than `count`: the group reached the `upTo` asked and was not counted further. */
  readonly capped: boolean
}

/**
 * What an admin change found for one run: `changed`; `notFound` (no such run); `wrongState` (its
 * latest occurrence is not in a status the change applies to); `nameTaken` (a retry whose unique
 * name another active run now holds).
 */
export type RunChangeOutcome = "changed" | "notFound" | "wrongState" | "nameTaken"

/** What an admin change did to one run. */
export interface RunChange {
  /** The `RunId` the change was asked for. */
  readonly originId: string
  /** What happened. */
  readonly outcome: RunChangeOutcome
  /** The latest occurrence's status after the change (before it, when nothing changed); `null` when not found. */
  readonly status: RunStatus | null
}

/** A recurring run: its active occurrence and how the one before it ended. */
export interface StoredSchedule {
  /** The active (pending or running) occurrence. */
  readonly run: StoredRunFields
  /** The occurrence before it, when it is still stored: its final status, end and error. */
  readonly previous: {
    /** Its final status. */
    readonly status: RunStatus
    /** When it ended, epoch milliseconds. */
    readonly finishedAt: number | null
    /** Its stored error. */
    readonly error: string | null
  } | null
}

/** Where a list of recurring runs continues: the schedule and `RunId` of the last one listed. */
export interface ScheduleKey {
  /** The schedule's name. */
  readonly schedule: string
  /** The run's `originId`. */
  readonly originId: string
}

/** Attempts of one outcome that ended within one minute. */
export interface OutcomeCount {
  /** The start of the minute, epoch milliseconds (a multiple of 60,000). */
  readonly minute: number
  /** The attempts' outcome, as the run history records it. */
  readonly outcome: string
  /** How many attempts ended with it in that minute. */
  readonly count: number
}

/** The admin operations of a store. */
export interface JobStoreAdmin {
  /** Occurrences matching the query, newest first, and where the next page starts. */
  readonly listRuns: (query: RunQuery) => Effect.Effect<RunListing, JobStoreError>
  /**
   * The number of occurrences per job and status (pairs with none are left out), each exact up to
   * `upTo`; a pair with more is `upTo`, `capped`. Reads at most `upTo + 1` index entries per pair.
   */
  readonly countRuns: (upTo: number) => Effect.Effect<ReadonlyArray<RunCount>, JobStoreError>
  /**
   * The number of occurrences per queue and status (runs in no queue, and pairs with none, are left
   * out), each exact up to `upTo`; a pair with more is `upTo`, `capped`.
   */
  readonly countQueueRuns: (upTo: number) => Effect.Effect<ReadonlyArray<QueueRunCount>, JobStoreError>
  /**
   * Makes runs whose latest occurrence is `failed` or `cancelled` pending again, due now, with their
   * retry and snooze counters at 0, their unique name held again and their history kept; one result
   * per id, in order.
   */
  readonly retry: (originIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<RunChange>, JobStoreError>
  /** Makes runs whose latest occurrence is pending due now (one due earlier keeps its time); one result per id. */
  readonly runNow: (originIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<RunChange>, JobStoreError>
  /** Deletes runs whose latest occurrence is final: every occurrence and its history; one result per id. */
  readonly remove: (originIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<RunChange>, JobStoreError>
  /** Recurring runs with an active occurrence, by schedule then `RunId`, strictly after `after`, at most `limit`. */
  readonly schedules: (
    after: ScheduleKey | null,
    limit: number
  ) => Effect.Effect<ReadonlyArray<StoredSchedule>, JobStoreError>
  /** The instances seen last, most recent first (`lastSeenAt` then `id`, descending), at most `limit`. */
  readonly instances: (limit: number) => Effect.Effect<ReadonlyArray<StoredInstance>, JobStoreError>
  /** Attempts per minute and outcome that ended at or after `since` (epoch milliseconds, store clock). */
  readonly throughput: (since: number) => Effect.Effect<ReadonlyArray<OutcomeCount>, JobStoreError>
}
