#!/usr/bin/env node
/**
 * The `jobss` executable: runs `JobsSCli.run` on the command line and exits with its code.
 *
 * @since 0.2.0
 */
import { NodeContext } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import { run } from "./JobsSCli.js"

const code = await Effect.runPromise(run(process.argv).pipe(Effect.provide(NodeContext.layer)))
process.exit(code)
