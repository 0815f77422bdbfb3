/**
 * What commands print: aligned tables for people, JSON for scripts (dates as ISO 8601 text,
 * durations in milliseconds).
 */
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"

/** A value as JSON can hold it: dates as ISO text, durations as milliseconds, `undefined` left out. */
export const plain = (value: unknown): unknown => {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
  if (Duration.isDuration(value)) return Duration.toMillis(value)
  if (Array.isArray(value)) return value.map(plain)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, field]) => field !== undefined)
        .map(([key, field]) => [key, plain(field)])
    )
  }
  return value
}

/** Prints a value as JSON on one line. */
export const printJson = (value: unknown): Effect.Effect<void> => Console.log(JSON.stringify(plain(value)))

/** A cell's text: dates as ISO text, nothing as `-`, one line, at most `width` characters. */
export const cell = (value: unknown, width = 60): string => {
  const text =
    value === undefined || value === null
      ? "-"
      : value instanceof Date
        ? value.toISOString()
        : Array.isArray(value)
          ? value.join(",") || "-"
          : String(value)
  const line = text.replace(/\s+/g, " ")
  return line.length > width ? `${line.slice(0, width - 3)}...` : line
}

/** Columns padded to their widest cell, headers first. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((text, i) => (i === cells.length - 1 ? text : text.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd()
  return [line(headers), ...rows.map(line)].join("\n")
}

/** Prints a table, or a line saying there is nothing to show. */
export const printTable = (
  headers: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  empty: string
): Effect.Effect<void> => Console.log(rows.length === 0 ? empty : table(headers, rows))
