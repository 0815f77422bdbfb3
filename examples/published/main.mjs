// The first program: one job, one instance on an SQLite file, one run created and awaited.
// Runs with plain `node main.mjs` in a project where the README's SQLite install line was run.
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Job, JobsS, Scheduler } from "@jobss/core"
import { SqlStore } from "@jobss/sql"
import { Effect, Layer, Schema } from "effect"

// A job: a name and a Schema for its arguments.
const Greet = Job.make({ name: "Greet", args: Schema.Struct({ name: Schema.String }) })

// Its implementation, registered on the instances that provide this layer.
const GreetLive = Greet.toLayer(({ name }) => Effect.log(`Hello, ${name}!`))

// The instance: workers, scheduler and store on an SQLite file (created and migrated on start).
const JobsSLive = JobsS.layer().pipe(
  Layer.provide(SqlStore.layer()),
  Layer.provide(SqliteClient.layer({ filename: "jobss.db" }))
)

const program = Effect.gen(function* () {
  const id = yield* Scheduler.createRun(Greet, { name: "world" })
  const state = yield* Scheduler.awaitRun(id)
  console.log(`run ${id}: ${state.status}`)
})

// Closing the layer's scope at the end shuts the instance down; then the process exits by itself.
Effect.runPromise(program.pipe(Effect.provide(GreetLive.pipe(Layer.provideMerge(JobsSLive))))).then(
  () => console.log(`stopped at ${new Date().toISOString()}`),
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
