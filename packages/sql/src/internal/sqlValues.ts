/**
 * How the store writes values into statements, on every dialect: integers,
 * and lists padded to few distinct statement texts.
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"

/** Milliseconds and counters are integers in every table. */
export const int = (n: number): number => Math.round(n)

/** `int`, keeping `null`. */
export const intOrNull = (n: number | null): number | null => (n === null ? null : Math.round(n))

/**
 * The list padded to the next power of two by repeating its last value (same meaning in `IN`):
 * statements with lists then have few distinct texts, which keeps prepared statement caches (and
 * MySQL's server-wide `max_prepared_stmt_count`) small.
 */
export const padded = <A>(values: ReadonlyArray<A>): ReadonlyArray<A> => {
  if (values.length <= 1) return values
  let size = 1
  while (size < values.length) size *= 2
  return size === values.length
    ? values
    : [...values, ...Array.from({ length: size - values.length }, () => values.at(-1)!)]
}

/** `column IN (...)` over a padded list (`1=0` when the list is empty). */
export const inList = (sql: SqlClient.SqlClient, column: string, values: ReadonlyArray<unknown>): Fragment =>
  sql.in(column, padded(values))

/** Sizes of statements that insert `n` rows: powers of two, so that few distinct statement texts exist. */
export const powerOfTwoSizes = (n: number): ReadonlyArray<number> => {
  const sizes: Array<number> = []
  for (let bit = 1 << 30; bit >= 1; bit = bit >>> 1) if ((n & bit) !== 0) sizes.push(bit)
  return sizes
}
