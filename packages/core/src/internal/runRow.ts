/**
 * The run row, declared once: each field of a stored occurrence with the kind
 * of value it holds and how an insert sets it. `StoredRun` and `NewRun` are
 * mapped from it (a field added here appears in both types, with its JSDoc),
 * the memory store builds and copies rows from it, and `SqlStore` derives its
 * decoder, insert column lists and PostgreSQL unnest arrays from it (with each
 * field's column in `packages/sql/src/internal/runColumns.ts`).
 *
 * @internal
 */

/** The life cycle of one occurrence of a run. `pending` and `running` are active; the rest are final. */
export type RunStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled"

/** Every `RunStatus`, in life-cycle order. */
export const runStatuses: ReadonlyArray<RunStatus> = ["pending", "running", "succeeded", "failed", "cancelled"]

/** The kinds of value a run field holds, each with its TypeScript type (integers are epoch milliseconds or counts). */
export interface RunFieldKinds {
  /** Text (ids, names, JSON). */
  readonly text: string
  /** Text or `null`. */
  readonly textOrNull: string | null
  /** An integer. */
  readonly integer: number
  /** An integer or `null`. */
  readonly integerOrNull: number | null
  /** A boolean, stored as 0 or 1. */
  readonly flag: boolean
  /** A `RunStatus`. */
  readonly status: RunStatus
}

/** The kind of a run field. */
export type RunFieldKind = keyof RunFieldKinds

/**
 * How an insert sets a field: `new`, the `NewRun`'s value; `newOrNow`, the `NewRun`'s value, `null`
 * meaning the store's clock (the field is `T | null` in `NewRun`); `{ initial }`, that value for
 * every new row (the field is not part of `NewRun`).
 */
export type RunFieldInsert<K extends RunFieldKind> = "new" | "newOrNow" | RunFieldInitial<RunFieldKinds[K]>

/** One field of the run row: its kind and how an insert sets it. */
export interface RunField<K extends RunFieldKind = RunFieldKind, I extends RunFieldInsert<K> = RunFieldInsert<K>> {
  /** The kind of value the field holds. */
  readonly kind: K
  /** How an insert sets it. */
  readonly insert: I
}

/** The value every new row has in a field. */
export interface RunFieldInitial<A> {
  /** The field's value in every new row. */
  readonly initial: A
}

const field = <K extends RunFieldKind, const I extends RunFieldInsert<K>>(kind: K, insert: I): RunField<K, I> => ({
  kind,
  insert
})

const initial = <const A>(value: A): RunFieldInitial<A> => ({ initial: value })

/**
 * The fields of the run row (a stored occurrence), in column order: each with its kind and how an
 * insert sets it. `StoredRun` and `NewRun` are mapped from it, and the JSDoc of each entry is the
 * field's documentation there; a store derives its columns (and their decoding) from it.
 */
export const runFields = {
  /** The id of this occurrence (unique in the table). */
  id: field("text", "new"),
  /** The `RunId` the user holds: the id of the first occurrence. */
  originId: field("text", "new"),
  /** 0 for the first occurrence, then 1, 2, ... */
  occurrence: field("integer", "new"),
  /** The job's name. */
  job: field("text", "new"),
  /** The job's arguments, encoded with its Schema, as JSON text. */
  args: field("text", "new"),
  /** At most one active run holds a unique name across the cluster. */
  uniqueName: field("textOrNull", "new"),
  /** The name of the schedule for recurring runs. */
  schedule: field("textOrNull", "new"),
  /** The occurrence's status (a new one is `pending`). */
  status: field("status", initial("pending")),
  /** Due time, epoch milliseconds. */
  runAt: field("integer", "new"),
  /** Attempts started so far across all occurrences. */
  runTotalCount: field("integer", "new"),
  /** Successful occurrences so far. */
  runSuccessCount: field("integer", "new"),
  /** Stop after this many successful occurrences; `null` is unlimited. */
  runSuccessLimit: field("integerOrNull", "new"),
  /** Milliseconds a started attempt may run; 0 disables the timeout. */
  runTimeoutMs: field("integer", "new"),
  /** Retries after errors used by this occurrence (0 for a new one). */
  retriesErrorCount: field("integer", "new"),
  /** The most retries after errors per occurrence; -1 is unlimited. */
  retriesErrorLimit: field("integer", "new"),
  /** Retries after timeouts used by this occurrence (0 for a new one). */
  retriesTimeoutCount: field("integer", "new"),
  /** The most retries after timeouts per occurrence; -1 is unlimited. */
  retriesTimeoutLimit: field("integer", "new"),
  /**
   * Creation time of the first occurrence, epoch milliseconds (the store's clock when it stamped it);
   * in a `NewRun`, `null` lets the store stamp its own clock.
   */
  createdAt: field("integer", "newOrNow"),
  /** The instance that created the run (for later occurrences: the first one's creator). */
  createdBy: field("text", "new"),
  /** When the latest attempt was claimed, epoch milliseconds; `null` before the first claim. */
  startedAt: field("integerOrNull", initial(null)),
  /** The id of the instance that claimed the latest attempt (a takeover by the reaper leaves it unchanged). */
  startedBy: field("textOrNull", initial(null)),
  /**
   * When the running attempt times out, epoch milliseconds: claim time + `runTimeoutMs`, then, once the
   * heartbeat reported its start, `dispatchedAt + runTimeoutMs`; `null` when the timeout is disabled,
   * before the first claim, and after a retry or a release.
   */
  timeoutAt: field("integerOrNull", initial(null)),
  /** Until when the claim holds unless the heartbeat extends it, epoch milliseconds; `null` unless running. */
  leaseUntil: field("integerOrNull", initial(null)),
  /** Set by `cancel` on a running occurrence; `extend` reports it to the instance that holds the claim. */
  cancelRequested: field("flag", initial(false)),
  /** The last error recorded (a failure, a defect, a timeout, a decoding problem). */
  error: field("textOrNull", initial(null)),
  /** When the occurrence reached a final status, epoch milliseconds; `null` while it is active. */
  finishedAt: field("integerOrNull", initial(null)),
  /** The W3C `traceparent` of the span that created the run (kept by later occurrences), or `null`. */
  traceContext: field("textOrNull", "new"),
  /**
   * The result of the run's latest successful attempt, encoded with the job's `success` Schema, as JSON
   * text; `null` before any (and for jobs without a result). A next occurrence carries it over.
   */
  result: field("textOrNull", "new"),
  /** Times this occurrence's attempts snoozed (`Job.snooze`); 0 for a new occurrence. */
  snoozeCount: field("integer", initial(0)),
  /**
   * When the claiming instance's heartbeat reported that the attempt started (left its buffer for a
   * worker), epoch milliseconds; the attempt has started iff `dispatchedAt >= startedAt`, so a value
   * left by an earlier claim never counts. `null` until reported, and again once the run is pending
   * (`givenBackUnstarted` after the reaper gave the attempt back unstarted).
   */
  dispatchedAt: field("integerOrNull", initial(null)),
  /** The name of the run's queue (`JobQueue`), whose limits hold for its attempts; `null`: in no queue. */
  queue: field("textOrNull", "new"),
  /** Lower starts first among due runs (then the earlier due time); 0 by default. */
  priority: field("integer", "new"),
  /** The partition of a partitioned queue the run counts in; `null`: the partition of runs without a key. */
  partitionKey: field("textOrNull", "new")
} satisfies Readonly<Record<string, RunField>>

/** The run row's field declarations. */
export type RunFields = typeof runFields

/** The name of a field of the run row. */
export type RunFieldName = keyof RunFields

/** The names of the fields a `NewRun` carries (those an insert takes from the runtime). */
export type NewRunFieldName = {
  readonly [K in RunFieldName]: RunFields[K]["insert"] extends "new" | "newOrNow" ? K : never
}[RunFieldName]

/**
 * A stored occurrence: every field of the row, with the type of its kind. (`keyof RunFields` is written
 * out, not aliased, so that the mapping is homomorphic and each property keeps its JSDoc.)
 */
export type StoredRunFields = { readonly [K in keyof RunFields]: RunFieldKinds[RunFields[K]["kind"]] }

/** A new occurrence: the fields an insert takes from the runtime (`newOrNow` ones may be `null`). */
export type NewRunFields = {
  readonly [K in keyof Pick<StoredRunFields, NewRunFieldName>]: RunFields[K]["insert"] extends "newOrNow"
    ? StoredRunFields[K] | null
    : StoredRunFields[K]
}

/**
 * Whether a running row's attempt has started: its instance reported the dispatch after the claim
 * (a `dispatchedAt` older than `startedAt` was left by an earlier claim).
 */
export const hasStarted = (row: Pick<StoredRunFields, "startedAt" | "dispatchedAt">): boolean =>
  row.dispatchedAt !== null && row.startedAt !== null && row.dispatchedAt >= row.startedAt

/**
 * The `dispatchedAt` of a run given back once, uncharged, because its lease expired before its
 * instance reported the attempt's start. The next such takeover of the same attempt is charged: a job
 * that kills or blocks its process before the first heartbeat after its start cannot loop for ever.
 * Settlements that make the run pending clear it (`null`).
 */
export const givenBackUnstarted = -1

/**
 * Whether the takeover of a running row whose lease expired is charged (an attempt used up, a `lost`
 * attempt recorded): its start was reported, or it was already given back once unstarted.
 */
export const chargedOnTakeover = (row: Pick<StoredRunFields, "startedAt" | "dispatchedAt">): boolean =>
  hasStarted(row) || row.dispatchedAt === givenBackUnstarted

/** The field names in column order. */
export const runFieldNames: ReadonlyArray<RunFieldName> = Object.keys(runFields) as Array<RunFieldName>

/** The field names a `NewRun` carries, in column order. */
export const newRunFieldNames: ReadonlyArray<NewRunFieldName> = runFieldNames.filter(
  (name): name is NewRunFieldName => typeof runFields[name].insert === "string"
)

/** The row an insert of `run` creates, with `now` as the store's clock. */
export const insertedRow = (run: NewRunFields, now: number): StoredRunFields => {
  const row: Record<string, unknown> = {}
  for (const name of runFieldNames) {
    const insert: RunFieldInsert<RunFieldKind> = runFields[name].insert
    row[name] =
      insert === "new"
        ? run[name as NewRunFieldName]
        : insert === "newOrNow"
          ? (run[name as NewRunFieldName] ?? now)
          : insert.initial
  }
  return row as unknown as StoredRunFields
}

/** The row's fields only (a copy without the columns a store keeps besides them). */
export const storedFields = (row: StoredRunFields): StoredRunFields => {
  const copy: Record<string, unknown> = {}
  for (const name of runFieldNames) copy[name] = row[name]
  return copy as unknown as StoredRunFields
}
