/**
 * HTML built safely: `html` is a tagged template whose every interpolated value is escaped unless
 * it is itself `Html` (made by `html` or `raw`); arrays are joined. Nothing else writes markup.
 */

/** A piece of markup that is already safe to insert. */
export class Html {
  constructor(
    /** The markup. */
    readonly value: string
  ) {}
  /** The markup. */
  toString(): string {
    return this.value
  }
}

/** A value a template accepts: text (escaped), numbers, markup, lists of them, or nothing. */
export type Part = Html | string | number | boolean | null | undefined | ReadonlyArray<Part>

const entities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;"
}

/** Text escaped for element content and quoted attribute values. */
export const escape = (text: string): string => text.replace(/[&<>"'`]/g, (c) => entities[c]!)

const render = (part: Part): string =>
  part === null || part === undefined || part === false
    ? ""
    : part instanceof Html
      ? part.value
      : Array.isArray(part)
        ? part.map(render).join("")
        : escape(String(part))

/** Markup from a template: every value escaped, except `Html`. */
export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<Part>): Html =>
  new Html(strings.reduce((out, text, i) => out + text + (i < values.length ? render(values[i] as Part) : ""), ""))

/** Markup written by this package itself (never user data). */
export const raw = (markup: string): Html => new Html(markup)

/** A value as indented JSON text (escaped where it is inserted). */
export const json = (value: unknown): string => {
  try {
    return JSON.stringify(value, null, 2) ?? "undefined"
  } catch {
    return String(value)
  }
}

/** A date as ISO text, or `-`. */
export const when = (date: Date | undefined): string => (date === undefined ? "-" : date.toISOString())
