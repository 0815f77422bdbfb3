/**
 * Whether a value survives JSON: `JSON.parse(JSON.stringify(value))` is deep-equal to it. One walk
 * over the value, no text produced, so checking a run's encoded arguments costs about as much as
 * encoding them. The walk stops at the first problem and says where it is.
 *
 * Survives: `null`, booleans, strings (lone surrogates too: JSON escapes them), finite numbers (`-0`
 * comes back as `0`), arrays of surviving values, and plain objects (prototype `Object.prototype`, of
 * any realm, or `null`) of surviving values; a property whose value is `undefined` is left out by
 * JSON, as if absent. Everything else does not: `NaN` and infinities, `undefined` in an array or as
 * the whole value, functions, symbols, BigInts, Dates, Maps, Sets, class instances, objects with a
 * `toJSON` method or symbol keys, cycles, and properties that throw when read.
 */

/** Where in the value a problem is: property names and array indexes from the root. */
type Path = Array<string | number>

/** A problem found by the walk: its path is built while the walk unwinds (nothing is allocated on the way down). */
interface Issue {
  readonly path: Path
  readonly reason: string
  /** The problem is the value as a whole (its depth): no path is shown. */
  readonly whole?: boolean
}

const issue = (reason: string): Issue => ({ path: [], reason })

/** The message of something thrown, which may itself misbehave. */
const thrownMessage = (error: unknown): string => {
  try {
    return error instanceof Error ? error.message : String(error)
  } catch {
    return "it threw"
  }
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** The path as code would write it: `args.list[2]["a key"]`. */
const pathText = (root: string, path: Path): string => {
  let text = root
  for (let i = path.length - 1; i >= 0; i--) {
    const key = path[i]!
    text += typeof key === "number" ? `[${key}]` : identifier.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
  }
  return text
}

/** What kind of object a non-plain object is, for messages: `a Date`, `a Map`, `an instance of Point`. */
const kindOf = (value: object): string => {
  if (value instanceof Date) return "a Date, which JSON stores as a string"
  if (value instanceof Map) return "a Map, which JSON stores as {}"
  if (value instanceof Set) return "a Set, which JSON stores as {}"
  const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name
  return `an instance of ${typeof name === "string" && name !== "" ? name : "a class"}, which JSON stores as a plain object`
}

const isPlain = (value: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === null || Object.getPrototypeOf(proto) === null
}

const hasEnumerableSymbol = (value: object): boolean =>
  Object.getOwnPropertySymbols(value).some((symbol) => Object.prototype.propertyIsEnumerable.call(value, symbol))

/** What a walk noticed besides problems. */
interface Seen {
  /** Some property had the value `undefined`: JSON leaves it out. */
  undefinedProperty: boolean
}

const walk = (
  value: unknown,
  depth: number,
  maxDepth: number,
  ancestors: Array<object>,
  seen: Seen
): Issue | undefined => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined
    case "number":
      return Number.isFinite(value) ? undefined : issue(`is ${value}, which JSON stores as null`)
    case "undefined":
      return issue("is undefined, which JSON stores as null or leaves out")
    case "bigint":
      return issue(`is the BigInt ${value}n, which JSON cannot store`)
    case "symbol":
      return issue(`is a symbol (${String(value)}), which JSON cannot store`)
    case "function":
      return issue("is a function, which JSON cannot store")
  }
  if (value === null) return undefined
  const object = value as object
  if (ancestors.includes(object)) return issue("contains itself (a cycle), which JSON cannot store")
  if (depth >= maxDepth) return { path: [], reason: `nested deeper than ${maxDepth} levels`, whole: true }
  ancestors.push(object)
  let reading: string | undefined
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const found = walk(object[i], depth + 1, maxDepth, ancestors, seen)
        if (found !== undefined) {
          found.path.push(i)
          return found
        }
      }
      return undefined
    }
    if (!isPlain(object)) return issue(`is ${kindOf(object)}`)
    if (typeof (object as { toJSON?: unknown }).toJSON === "function") {
      return issue("has a toJSON method, so JSON would store what it returns instead")
    }
    if (hasEnumerableSymbol(object)) return issue("has symbol keys, which JSON leaves out")
    for (const key of Object.keys(object)) {
      reading = key
      const property = (object as Record<string, unknown>)[key]
      reading = undefined
      if (property === undefined) {
        seen.undefinedProperty = true
        continue
      }
      const found = walk(property, depth + 1, maxDepth, ancestors, seen)
      if (found !== undefined) {
        found.path.push(key)
        return found
      }
    }
    return undefined
  } catch (error) {
    // only this level's own reads throw (a getter, a proxy's trap): the walks below catch their own
    return { path: reading === undefined ? [] : [reading], reason: `could not be read: ${thrownMessage(error)}` }
  } finally {
    ancestors.pop()
  }
}

/** What `check` found: why the value does not survive JSON, and whether JSON would leave a property out. */
export interface Checked {
  /** Why the value does not survive JSON (see `problem`), or `undefined` when it does. */
  readonly problem: string | undefined
  /** Some property is set to `undefined`: the JSON text leaves it out, which a Schema may not accept. */
  readonly dropsUndefined: boolean
}

/**
 * Why `value` does not survive JSON, as `root` followed by the path of the problem
 * (`args.when is a Date, which JSON stores as a string`), or `undefined` when it survives. Arrays and
 * objects nested deeper than `maxDepth` levels count as a problem too (`args are nested deeper ...`).
 * Also says whether a property set to `undefined` is left out.
 */
export const check = (value: unknown, root: string, maxDepth: number): Checked => {
  const seen: Seen = { undefinedProperty: false }
  const found = walk(value, 0, maxDepth, [], seen)
  const problem =
    found === undefined
      ? undefined
      : found.whole === true
        ? `${root} are ${found.reason}`
        : `${pathText(root, found.path)} ${found.reason}`
  return { problem, dropsUndefined: seen.undefinedProperty }
}
