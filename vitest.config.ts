import { defineConfig } from "vitest/config"

// The workspace runs the packages from their TypeScript sources: the `@jobss/source` export
// condition of packages/*/package.json points at src/*.ts (published code resolves to dist/).
// Tests run in Vite's server (SSR) environment, which takes its conditions from
// `ssr.resolve.conditions` (not `resolve.conditions`); the others are Vite's defaults for it.
const conditions = ["@jobss/source", "module", "node", "development|production"]

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default"]
  }
})
