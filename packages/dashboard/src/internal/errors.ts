/**
 * The dashboard's errors: a request its `auth` refuses.
 */
import * as Schema from "effect/Schema"

/**
 * A request the dashboard's `auth` refuses: the dashboard answers 401, with `challenge` as the
 * `WWW-Authenticate` header when given (a browser then asks for credentials).
 */
export class DashboardUnauthorized extends Schema.TaggedError<DashboardUnauthorized>()("DashboardUnauthorized", {
  /** Why the request is refused (shown on the 401 page). */
  message: Schema.String,
  /** The `WWW-Authenticate` challenge, e.g. `Basic realm="JobsS"`. */
  challenge: Schema.optional(Schema.String)
}) {}
