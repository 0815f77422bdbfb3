import { defineConfig } from "vitest/config"

export default defineConfig({
  // The workspace runs the packages from their TypeScript sources: the `@jobss/source` export
  // condition of packages/*/package.json points at src/*.ts (published code resolves to dist/).
  // Tests run in Vite's server (SSR) environment, which takes its conditions from
  // `ssr.resolve.conditions`, not `resolve.conditions`; Vitest adds its defaults to these.
  ssr: { resolve: { conditions: ["@jobss/source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default"]
  }
})
