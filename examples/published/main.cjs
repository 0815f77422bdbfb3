// The first program (main.mjs) in a CommonJS module: `require` loads the ESM-only JobsS packages, as
// Node 20.19+, 22.12+ and 24 do without a flag. Runs with plain `node main.cjs`.
const { SqliteClient } = require("@effect/sql-sqlite-node")
const { Job, JobsS, Scheduler } = require("@jobss/core")
const { SqlStore } = require("@jobss/sql")
const { Effect, Layer, Schema } = require("effect")

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
