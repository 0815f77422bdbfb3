/** fast-check generators shared by the property tests of error rendering and of job failures. */
import fc from "fast-check"

/** Strings of any UTF-16 code units, lone surrogates and NUL included. */
export const binaryString = (maxLength?: number): fc.Arbitrary<string> =>
  fc.string(maxLength === undefined ? { unit: "binary" } : { unit: "binary", maxLength })

/**
 * Values a job might fail or die with, as thunks (fast-check would look into a generated Proxy for a
 * clone method and trip its traps): anything, Errors with any message, and the `nasty` ones given.
 */
export const failureValues = (
  nasty: ReadonlyArray<() => unknown>,
  strings: fc.Arbitrary<string> = binaryString()
): fc.Arbitrary<() => unknown> =>
  fc.oneof(
    fc
      .anything({
        key: strings,
        values: [strings, fc.bigInt(), fc.double(), fc.boolean(), fc.constant(undefined), fc.constant(null)],
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withNullPrototype: true,
        withObjectString: true,
        withSet: true,
        withSparseArray: true,
        withTypedArray: true
      })
      .map((value) => () => value),
    strings.map((message) => () => new Error(message)),
    fc.constantFrom(...nasty)
  )
