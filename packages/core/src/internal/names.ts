/**
 * The one rule for every name JobsS stores and compares: job names, schedule names, unique names
 * (and queue names and partition keys). A name is checked where it is defined or first given, so
 * every backend stores exactly the string it was given and compares it the same way.
 *
 * The rule, and why:
 * - 1 to 255 characters: the columns that hold names are `varchar(255)` on PostgreSQL and MariaDB
 *   (counted in characters, which a string's UTF-16 length bounds from above), and a unique index
 *   on MariaDB cannot be much wider (3072 bytes, 4 per character);
 * - well-formed UTF-16 (no lone surrogate): a lone surrogate has no UTF-8 form, so the drivers store
 *   U+FFFD instead, and the name read back differs from the one given;
 * - no control character (U+0000 to U+001F, U+007F to U+009F): PostgreSQL refuses NUL in text, and
 *   the others are invisible in logs and tables;
 * - no white space at either end: MariaDB compares `"a"` and `"a "` as equal (its collations pad
 *   with spaces), PostgreSQL and SQLite do not.
 */
import { InvalidJob } from "./errors.js"

/** The longest name, in UTF-16 code units. */
export const maxLength = 255

/** The rule in words, for error messages and docs. */
export const rule = `a name is 1 to ${maxLength} characters of well-formed UTF-16, with no control characters and no white space at either end`

/** A lone surrogate or a control character; in a string without the `u` flag, so that lone surrogates are seen. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const forbidden = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** The longest part of a value quoted in an error message. */
const quotedLength = 80

/** A value as error messages show it: JSON-quoted (control characters and lone surrogates escaped), shortened. */
export const quote = (value: unknown): string => {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > quotedLength ? `${value.slice(0, quotedLength)}...` : value)
    case "bigint":
      return `${value}n`
    case "object":
      return value === null ? "null" : "(an object)"
    case "function":
      return "(a function)"
    default:
      return String(value)
  }
}

const hex = (code: number): string => `U+${code.toString(16).toUpperCase().padStart(4, "0")}`

/** Why `value` breaks the rule, or `undefined` when it is a valid name. */
const problem = (value: unknown): string | undefined => {
  if (typeof value !== "string") return `it is a ${value === null ? "null" : typeof value}, not a string`
  if (value.length === 0) return "it is empty"
  if (value.length > maxLength) return `it has ${value.length} characters`
  const found = forbidden.exec(value)
  if (found !== null) {
    const code = found[0].charCodeAt(0)
    const what = code >= 0xd800 && code <= 0xdfff ? "a lone surrogate" : "the control character"
    return `it contains ${what} ${hex(code)} at index ${found.index}`
  }
  if (/^\s|\s$/.test(value)) return "it starts or ends with white space"
  return undefined
}

/**
 * Checks a name against the rule: `undefined` when it is valid, otherwise a message naming the
 * field, the value and the rule, e.g. `unique name "a\u0000b" is invalid: it contains ...`.
 */
export const check = (field: string, value: unknown): string | undefined => {
  const why = problem(value)
  return why === undefined ? undefined : `${field} ${quote(value)} is invalid: ${why} (${rule})`
}

/** The error for a job whose name breaks the rule (`toLayer` and `createRun` fail with it), or `undefined`. */
export const invalidJob = (name: unknown): InvalidJob | undefined => {
  const problem = check("job name", name)
  return problem === undefined
    ? undefined
    : new InvalidJob({ job: typeof name === "string" ? name : quote(name), message: problem })
}
