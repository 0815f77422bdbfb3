/**
 * A TCP proxy in front of a real database server, that a test can sever and restore: an outage of
 * the database as its clients see it (every connection drops, new ones are refused), without
 * touching the shared server.
 *
 * ```ts
 * const proxy = yield* TcpProxy.make(database.url)       // closed when the scope closes
 * const client = clientLayer(backend, proxy.url)         // connects through the proxy
 * yield* proxy.sever                                     // ECONNRESET for open connections, ECONNREFUSED for new ones
 * yield* Effect.sleep("3 seconds")
 * yield* proxy.restore                                   // accepts again, on the same port
 * ```
 */
import { type Server, type Socket, createConnection, createServer } from "node:net"
import { Effect, type Scope } from "effect"
import { TestDatabaseError } from "./databases.js"

/** A proxy listening on a loopback port, forwarding every connection to its target. */
export interface TcpProxy {
  /** The port the proxy listens on (the same after a restore). */
  readonly port: number
  /** The target URL with its host and port replaced by the proxy's. */
  readonly url: string
  /** Connections opened through the proxy so far. */
  readonly connections: () => number
  /** Destroys every open connection (both sides) and stops listening: new connections are refused. */
  readonly sever: Effect.Effect<void>
  /** Listens again on the same port. */
  readonly restore: Effect.Effect<void, TestDatabaseError>
  /**
   * Holds the server's answers: requests still reach the server (and commit there), but nothing comes
   * back until `release` (a stalled network; connections stay open).
   */
  readonly hold: Effect.Effect<void>
  /** Delivers the answers held since `hold`, and forwards again. */
  readonly release: Effect.Effect<void>
  /** Bytes clients sent while answers were held (requests whose answers were on the wire). */
  readonly sentWhileHeld: () => number
}

const listen = (server: Server, port: number): Effect.Effect<number, TestDatabaseError> =>
  Effect.async<number, TestDatabaseError>((resume) => {
    const onError = (cause: Error) =>
      resume(Effect.fail(new TestDatabaseError({ message: `the proxy cannot listen on port ${port}`, cause })))
    server.once("error", onError)
    server.listen(port, "127.0.0.1", () => {
      server.off("error", onError)
      const address = server.address()
      resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : port))
    })
  })

/** Stops listening, destroys every open connection, and waits until the server has closed. */
const closeAll = (server: Server, sockets: Set<Socket>): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const listening = server.listening
    if (listening) server.close(() => resume(Effect.void))
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    if (!listening) resume(Effect.void)
  })

/** A proxy to the host and port of `targetUrl`, closed (with its connections) when the scope closes. */
export const make = (targetUrl: string): Effect.Effect<TcpProxy, TestDatabaseError, Scope.Scope> =>
  Effect.gen(function* () {
    const target = new URL(targetUrl)
    const targetHost = target.hostname
    const targetPort = Number(target.port)
    const sockets = new Set<Socket>()
    /** The server side of each open connection, with its client side. */
    const upstreams = new Map<Socket, Socket>()
    let opened = 0
    let holding = false
    let sentWhileHeld = 0

    const track = (socket: Socket) => {
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
    }
    const server = createServer((client) => {
      opened++
      const upstream = createConnection({ host: targetHost, port: targetPort })
      track(client)
      track(upstream)
      // Either side's end or error ends the other: the client sees what it would see of the server.
      client.on("error", () => upstream.destroy())
      upstream.on("error", () => client.destroy())
      client.pipe(upstream)
      if (!holding) upstream.pipe(client)
      upstreams.set(upstream, client)
      upstream.once("close", () => upstreams.delete(upstream))
      client.on("data", (chunk: Buffer) => {
        if (holding) sentWhileHeld += chunk.length
      })
    })
    const sever = closeAll(server, sockets)

    const port = yield* Effect.acquireRelease(listen(server, 0), () => sever)
    const url = new URL(targetUrl)
    url.hostname = "127.0.0.1"
    url.port = String(port)

    return {
      port,
      url: url.toString(),
      connections: () => opened,
      sever,
      restore: Effect.asVoid(listen(server, port)),
      hold: Effect.sync(() => {
        holding = true
        for (const [upstream, client] of upstreams) upstream.unpipe(client)
        for (const upstream of upstreams.keys()) upstream.pause()
      }),
      release: Effect.sync(() => {
        holding = false
        for (const [upstream, client] of upstreams) upstream.pipe(client)
      }),
      sentWhileHeld: () => sentWhileHeld
    }
  })
