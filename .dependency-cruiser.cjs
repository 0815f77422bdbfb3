/**
 * Import rules checked by `npm test` (dependency-cruiser): no cycle of value imports between modules
 * (type-only imports are erased and may go both ways), no value import from a public module into an
 * internal one, and the packages' internals stay internal.
 */
module.exports = {
  forbidden: [
    {
      name: "no-value-cycles",
      comment: "A cycle of value imports works only while every use stays inside a function body.",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } }
    },
    {
      name: "no-public-from-internal",
      comment: "Internal modules import values from internal ones; each public module re-exports its implementation.",
      severity: "error",
      from: { path: "^packages/([^/]+)/src/internal/" },
      to: { path: "^packages/$1/src/[^/]+[.]ts$", dependencyTypesNot: ["type-only"] }
    },
    {
      name: "no-internal-across-packages",
      comment: "@jobss/sql uses @jobss/core through its public modules only.",
      severity: "error",
      from: { path: "^packages/sql/" },
      to: { path: "^packages/core/src/internal/" }
    }
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    doNotFollow: { path: "node_modules" }
  }
}
