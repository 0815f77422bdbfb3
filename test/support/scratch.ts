/** Scratch folders for tests (an SQLite file of an example), removed when the scope closes. */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Scope } from "effect"

/** A fresh folder under the system's temp folder, named after `label`, removed at the end of the scope. */
export const scratchFolder = (label: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), `jobss-${label}-`))),
    (folder) => Effect.promise(() => rm(folder, { recursive: true, force: true }))
  )
