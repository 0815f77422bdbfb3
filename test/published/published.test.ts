/**
 * The packages as a user gets them. Both are packed with `npm pack` (their `prepack` builds dist/)
 * and installed into a new project outside the workspace, with exactly what the README's SQLite
 * install line names (the tarballs instead of the registry's @jobss packages; the rest from the
 * registry). There, `examples/published/main.mjs` and `main.cjs` (the same program through
 * `require`) run with plain `node`, no tsx and no loader, on this machine's Node and on Node 24:
 * the registry's `node-<platform>-<arch>` package, cached in node_modules/.cache/jobss-node24, with
 * better-sqlite3 rebuilt against its headers in a copy of the project. Each program creates a run on
 * an SQLite file, awaits it, prints its final status and must exit by itself, with the default
 * 30 minute `runTimeout` and no `process.exit`, within 2 s of its instance's scope closing (the
 * `stopped at <time>` line it prints then).
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const repo = join(import.meta.dirname, "..", "..")
const programs = ["main.mjs", "main.cjs"] as const
const examples = join(repo, "examples", "published")
const nodePackage = `node-${process.platform}-${process.arch}`
const nodeCache = join(repo, "node_modules", ".cache", "jobss-node24")
const setupTimeout = 20 * 60_000

/** The environment of every child: none of the `npm_*` variables of an enclosing `npm test`, no `NODE_OPTIONS`. */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("npm_") && name !== "NODE_OPTIONS")
  ),
  ...extra
})

interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly output: string
  /** `Date.now()` when the process exited. */
  readonly exitedAt: number
  /** The time in the program's `stopped at <ISO time>` line, if it printed one. */
  readonly stoppedAt: number | undefined
}

/**
 * Runs a command, collecting stdout and stderr. It is killed `graceMs` after it printed its
 * `stopped at` line, or after `timeoutMs` in any case.
 */
const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: {
    readonly cwd: string
    readonly env?: NodeJS.ProcessEnv
    readonly timeoutMs?: number
    readonly graceMs?: number
  }
): Promise<Finished> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    let stoppedAt: number | undefined
    const timers = [setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? setupTimeout)]
    const collect = (chunk: Buffer) => {
      output += chunk
      const stopped = stoppedAt === undefined ? /^stopped at (\S+)$/m.exec(output) : null
      if (stopped !== null) {
        stoppedAt = Date.parse(stopped[1]!)
        timers.push(setTimeout(() => child.kill("SIGKILL"), options.graceMs ?? 10_000))
      }
    }
    child.stdout.on("data", collect)
    child.stderr.on("data", collect)
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      const exitedAt = Date.now()
      for (const timer of timers) clearTimeout(timer)
      child.on("close", () => resolve({ code, signal, output, exitedAt, stoppedAt }))
    })
  })

/** Runs a setup command that must succeed; resolves its output. */
const mustRun = async (
  what: string,
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv }
): Promise<string> => {
  const result = await run(command, args, options)
  if (result.code !== 0) {
    throw new Error(`${what} failed (exit ${result.code ?? result.signal}):\n${result.output.slice(-4000)}`)
  }
  return result.output
}

/** The README's SQLite install line, as the arguments of `npm install`. */
const readmeSqliteLine = (readme: string): string => {
  const lines = readme.split("\n").filter((line) => line.startsWith("npm install ") && line.includes("sql-sqlite-node"))
  expect(lines, "README.md has one `npm install` line for SQLite").toHaveLength(1)
  return lines[0]!
}

/** Runs a program of examples/published in `project` with `node`, on a fresh database file. */
const runProgram = async (node: string, project: string, program: string): Promise<Finished> => {
  for (const file of await readdir(project)) if (file.startsWith("jobss.db")) await rm(join(project, file))
  return run(node, [program], { cwd: project, timeoutMs: 120_000, graceMs: 10_000 })
}

/** What every program run must show: the run's status, exit code 0, and an exit within 2 s of the scope closing. */
const expectFinished = (result: Finished): void => {
  expect(result.stoppedAt, `the program printed \`stopped at\`:\n${result.output}`).toBeDefined()
  const lingered = result.exitedAt - result.stoppedAt!
  expect(
    lingered,
    `exited ${lingered} ms after its scope closed (killed: ${result.signal ?? "no"}):\n${result.output}`
  ).toBeLessThan(2_000)
  expect(result.output).toMatch(/^run [0-9a-f-]{36}: succeeded$/m)
  expect(result.code, result.output).toBe(0)
}

let root: string
let project: string
const packageNames = ["core", "sql", "dashboard", "cli"] as const
const tarballs: Record<(typeof packageNames)[number], string> = { core: "", sql: "", dashboard: "", cli: "" }

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "jobss-published-"))
  const packs = join(root, "packs")
  await mkdir(packs)
  await mustRun(
    "npm pack",
    "npm",
    ["pack", ...packageNames.flatMap((name) => ["-w", `packages/${name}`]), "--pack-destination", packs],
    { cwd: repo }
  )
  for (const name of packageNames) {
    const file = (await readdir(packs)).find((file) => file.startsWith(`jobss-${name}-`))
    expect(file, `npm pack wrote the @jobss/${name} tarball`).toBeDefined()
    tarballs[name] = join(packs, file!)
  }

  project = join(root, "project")
  await mkdir(project)
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "jobss-published-shape", private: true }))
  const specs = readmeSqliteLine(readFileSync(join(repo, "README.md"), "utf8"))
    .slice("npm install ".length)
    .split(/\s+/)
    .map((spec) => (spec === "@jobss/core" ? tarballs.core : spec === "@jobss/sql" ? tarballs.sql : spec))
  expect(specs).toContain(tarballs.core)
  expect(specs).toContain(tarballs.sql)
  await mustRun("npm install (the README's SQLite line)", "npm", ["install", "--no-audit", "--no-fund", ...specs], {
    cwd: project
  })
  for (const program of programs) await cp(join(examples, program), join(project, program))
}, setupTimeout)

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

describe("the published packages", () => {
  it("hold compiled JavaScript, declarations, maps and the sources they map to; no tests, no tsconfig", async () => {
    for (const tarball of Object.values(tarballs)) {
      const entries = (await mustRun("tar", "tar", ["-tzf", tarball], { cwd: root }))
        .split("\n")
        .filter((entry) => entry !== "")
      for (const file of [
        "dist/index.js",
        "dist/index.d.ts",
        "dist/index.js.map",
        "dist/index.d.ts.map",
        "src/index.ts"
      ]) {
        expect(entries, tarball).toContain(`package/${file}`)
      }
      for (const file of ["package.json", "README.md", "LICENSE", "CHANGELOG.md"]) {
        expect(entries, tarball).toContain(`package/${file}`)
      }
      const unexpected = entries.filter(
        (entry) =>
          !/^package\/(dist\/.+\.(js|d\.ts)(\.map)?|src\/.+\.ts|package\.json|README\.md|LICENSE|CHANGELOG\.md)$/.test(
            entry
          ) ||
          /(^|\/)tests?\//.test(entry) ||
          /\.test\./.test(entry)
      )
      expect(unexpected, tarball).toEqual([])
    }
  })

  it("say the same SQLite install line in each package's README", () => {
    const line = readmeSqliteLine(readFileSync(join(repo, "README.md"), "utf8"))
    for (const name of ["core", "sql"]) {
      expect(readmeSqliteLine(readFileSync(join(repo, "packages", name, "README.md"), "utf8"))).toBe(line)
    }
  })

  it("install with only the SQLite driver, one copy of effect, and every peer dependency met", async () => {
    expect(existsSync(join(project, "node_modules", "@effect", "sql-sqlite-node"))).toBe(true)
    expect(existsSync(join(project, "node_modules", "@effect", "sql-pg"))).toBe(false)
    expect(existsSync(join(project, "node_modules", "@effect", "sql-mysql2"))).toBe(false)
    // `npm ls` fails on a missing or out-of-range peer dependency
    const effects = (await mustRun("npm ls", "npm", ["ls", "--all", "--parseable", "effect"], { cwd: project }))
      .split("\n")
      .filter((line) => line !== "")
    expect(effects).toEqual([join(project, "node_modules", "effect")])
  })

  it("programs neither call process.exit nor set a runTimeout", () => {
    for (const program of programs) {
      const source = readFileSync(join(examples, program), "utf8")
      expect(source).not.toMatch(/process\.exit\(/)
      expect(source).not.toMatch(/runTimeout/)
    }
  })

  it.each(programs)(
    `%s runs with plain node ${process.version} and exits by itself`,
    async (program) => {
      expectFinished(await runProgram(process.execPath, project, program))
    },
    180_000
  )
})

describe("the published jobss command", () => {
  let cliProject: string

  beforeAll(async () => {
    cliProject = join(root, "cli-project")
    await mkdir(cliProject)
    await writeFile(join(cliProject, "package.json"), JSON.stringify({ name: "jobss-published-cli", private: true }))
    await mustRun(
      "npm install the four tarballs",
      "npm",
      ["install", "--no-audit", "--no-fund", tarballs.core, tarballs.sql, tarballs.dashboard, tarballs.cli],
      { cwd: cliProject }
    )
  }, setupTimeout)

  it("installs with one copy of effect, migrates an SQLite file and lists its runs with plain node", async () => {
    const effects = (await mustRun("npm ls", "npm", ["ls", "--all", "--parseable", "effect"], { cwd: cliProject }))
      .split("\n")
      .filter((line) => line !== "")
    expect(effects).toEqual([join(cliProject, "node_modules", "effect")])
    const bin = join(cliProject, "node_modules", ".bin", "jobss")
    expect(await mustRun("jobss --help", bin, ["--help"], { cwd: cliProject })).toContain("USAGE")
    expect(await mustRun("jobss dashboard --help", bin, ["dashboard", "--help"], { cwd: cliProject })).toContain(
      "--port"
    )
    expect(await mustRun("jobss migrate", bin, ["migrate", "--database-url", "cli.db"], { cwd: cliProject })).toContain(
      "10_admin"
    )
    expect(
      await mustRun("jobss runs list", bin, ["runs", "list", "--json"], {
        cwd: cliProject,
        env: cleanEnv({ DATABASE_URL: "cli.db" })
      })
    ).toContain('{"runs":[]}')
  }, 120_000)
})

describe("the published dashboard", () => {
  let dashboardProject: string

  beforeAll(async () => {
    dashboardProject = join(root, "dashboard-project")
    await mkdir(dashboardProject)
    await writeFile(
      join(dashboardProject, "package.json"),
      JSON.stringify({ name: "jobss-published-dashboard", private: true, type: "module" })
    )
    await mustRun(
      "npm install the dashboard",
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        tarballs.core,
        tarballs.dashboard,
        "effect@^3.22",
        "@effect/platform@^0.97",
        "@effect/platform-node@~0.108"
      ],
      { cwd: dashboardProject }
    )
    await cp(join(examples, "dashboard.mjs"), join(dashboardProject, "dashboard.mjs"))
  }, setupTimeout)

  it("installs with one copy of effect and serves its pages with plain node, then exits by itself", async () => {
    const effects = (
      await mustRun("npm ls", "npm", ["ls", "--all", "--parseable", "effect"], { cwd: dashboardProject })
    )
      .split("\n")
      .filter((line) => line !== "")
    expect(effects).toEqual([join(dashboardProject, "node_modules", "effect")])
    const result = await run(process.execPath, ["dashboard.mjs"], { cwd: dashboardProject, timeoutMs: 60_000 })
    expect(result.output).toContain("runs page: 200 rendered")
    expect(result.code, result.output).toBe(0)
  }, 120_000)
})

describe("on Node 24", () => {
  let node24: string
  let project24: string

  beforeAll(async () => {
    const folder = join(nodeCache, "node_modules", nodePackage)
    node24 = join(folder, "bin", "node")
    if (!existsSync(node24)) {
      await mkdir(nodeCache, { recursive: true })
      await mustRun(
        `npm install ${nodePackage}@24`,
        "npm",
        [
          "install",
          "--prefix",
          nodeCache,
          "--no-save",
          "--no-package-lock",
          "--no-audit",
          "--no-fund",
          `${nodePackage}@24`
        ],
        { cwd: nodeCache }
      )
    }
    expect(await mustRun("node --version", node24, ["--version"], { cwd: root })).toMatch(/^v24\./)
    project24 = join(root, "project24")
    await cp(project, project24, { recursive: true, verbatimSymlinks: true })
    // npm (and the install script it runs) on Node 24 first in PATH, against its headers
    await mustRun("npm rebuild better-sqlite3 for Node 24", "npm", ["rebuild", "better-sqlite3"], {
      cwd: project24,
      env: cleanEnv({ PATH: `${join(folder, "bin")}${delimiter}${process.env.PATH ?? ""}`, npm_config_nodedir: folder })
    })
  }, setupTimeout)

  it.each(programs)(
    "%s runs with plain node 24 and exits by itself",
    async (program) => {
      expectFinished(await runProgram(node24, project24, program))
    },
    180_000
  )
})
