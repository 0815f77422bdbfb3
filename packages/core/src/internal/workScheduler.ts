/**
 * The scheduler of run fibers. Effect's default scheduler runs ready fibers in
 * microtasks, which Node runs before any I/O: while the buffer of claimed runs
 * lasts, every ending run starts the next in a microtask, and the answers of the
 * claim and settle statements wait in the socket until the buffer is empty (the
 * workers then idle for a whole claim round trip). This scheduler runs the same
 * tasks in microtasks too, but once they have kept the thread for `sliceMs` it
 * continues in a `setImmediate`, after Node has handled the I/O that is ready.
 *
 * A task that throws (Effect's run loop can, when a job throws a value that
 * breaks even its error handling) is reported to `onError`; the other tasks,
 * and every later one, still run.
 */
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import type * as Scheduler from "effect/Scheduler"

/** How long run fibers may keep the thread before I/O gets a turn (milliseconds). */
const sliceMs = 2

/** A scheduler that lets I/O in at least every `sliceMs` while it has tasks; `onError` hears of tasks that throw. */
export const make = (onError: (error: unknown) => void): Scheduler.Scheduler => {
  let tasks: Array<Scheduler.Task> = []
  let draining = false
  let sliceStart = 0

  const drain = (): void => {
    const ready = tasks
    tasks = []
    for (const task of ready) {
      try {
        task()
      } catch (error) {
        onError(error)
      }
    }
    if (tasks.length === 0) {
      draining = false
      return
    }
    if (performance.now() - sliceStart >= sliceMs) {
      setImmediate(startSlice)
    } else {
      queueMicrotask(drain)
    }
  }

  const startSlice = (): void => {
    sliceStart = performance.now()
    drain()
  }

  return {
    shouldYield: (fiber: Fiber.RuntimeFiber<unknown, unknown>) =>
      fiber.currentOpCount > fiber.getFiberRef(FiberRef.currentMaxOpsBeforeYield)
        ? fiber.getFiberRef(FiberRef.currentSchedulingPriority)
        : false,
    scheduleTask: (task) => {
      tasks.push(task)
      if (!draining) {
        draining = true
        sliceStart = performance.now()
        queueMicrotask(drain)
      }
    }
  }
}
