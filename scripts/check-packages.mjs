// The package checks of `npm test` (after `tsc -b`; `--skip-checks` skips them), also
// `npm run check:packages`: packs @jobss/core, @jobss/sql, @jobss/dashboard and @jobss/cli as they would be published (their
// `prepack` builds dist/) into a temporary folder, then lints each tarball with publint (any error,
// warning or suggestion fails) and @arethetypeswrong/cli (every public module, profile `esm-only`:
// the packages are ES modules only, which CommonJS loads with `require` on every supported Node).
// Exits with 1 when anything is reported.

import { spawn } from "node:child_process"
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..")
const packages = ["core", "sql", "dashboard", "cli"]

/** Runs a command; resolves its exit code and combined output (also echoed when it fails). */
const run = (command, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repo, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => {
      output += chunk
    })
    child.stderr.on("data", (chunk) => {
      output += chunk
    })
    child.on("error", reject)
    child.on("close", (code) => resolve({ code: code ?? 1, output }))
  })

/**
 * `./Job`, `./JobsS`, ...: the package's public modules, which `exports` maps with a wildcard
 * (none for a package that exports only its index, like @jobss/cli).
 */
const entrypoints = async (name) => {
  const manifest = JSON.parse(await readFile(join(repo, "packages", name, "package.json"), "utf8"))
  if (manifest.exports?.["./*"] === undefined) return []
  return (await readdir(join(repo, "packages", name, "src")))
    .filter((file) => file.endsWith(".ts") && file !== "index.ts")
    .map((file) => `./${file.slice(0, -3)}`)
}

const main = async () => {
  const folder = await mkdtemp(join(tmpdir(), "jobss-check-packages-"))
  try {
    const packed = await run("npm", [
      "pack",
      "--pack-destination",
      folder,
      ...packages.flatMap((name) => ["-w", `packages/${name}`])
    ])
    if (packed.code !== 0) {
      console.error(`npm pack failed (exit ${packed.code}):\n${packed.output}`)
      return 1
    }
    const tarballs = await readdir(folder)
    let failed = false
    for (const name of packages) {
      const tarball = tarballs.find((file) => file.startsWith(`jobss-${name}-`) && file.endsWith(".tgz"))
      if (tarball === undefined) {
        console.error(`npm pack wrote no tarball for @jobss/${name} (found ${tarballs.join(", ")})`)
        return 1
      }
      const path = join(folder, tarball)
      const publint = await run(join(repo, "node_modules", ".bin", "publint"), ["run", "--strict", path])
      const attw = await run(join(repo, "node_modules", ".bin", "attw"), [
        path,
        "--profile",
        "esm-only",
        ...(await entrypoints(name).then((found) => (found.length === 0 ? [] : ["--include-entrypoints", ...found]))),
        "--format",
        "ascii"
      ])
      for (const [tool, result, clean] of [
        ["publint", publint, publint.code === 0 && publint.output.includes("All good!")],
        ["attw", attw, attw.code === 0]
      ]) {
        if (clean) {
          console.error(`[check-packages] ${tool} @jobss/${name}: nothing to report`)
        } else {
          failed = true
          console.error(`[check-packages] ${tool} @jobss/${name} reported (exit ${result.code}):\n${result.output}`)
        }
      }
    }
    return failed ? 1 : 0
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error?.stack ?? error)
    process.exit(1)
  }
)
