/** `npm run example`: the feature tour on an embedded SQLite file, or on `DATABASE_URL`. */
import { Effect } from "effect"
import { databaseLayer } from "./database.js"
import { makeLayer, program } from "./features.js"

Effect.runPromise(program.pipe(Effect.provide(makeLayer(databaseLayer())))).then(
  ({ sameUniqueRun, states }) => {
    console.log(`unique run created twice, one id: ${sameUniqueRun}`)
    console.log(states.map((state) => `${state.job}: ${state.status}`).join("\n"))
  },
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
