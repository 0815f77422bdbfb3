/**
 * RESULTS.md from the results (placeholder while the cases are written).
 */
import type { Results } from "./context.js"

/** The Markdown report of a run. */
export const writeReport = (results: Results): string => {
  const lines = ["# Results", ""]
  for (const row of results.rows) {
    lines.push(`- ${row.case} ${row.backend} ${JSON.stringify(row.params)} ${row.label}: ${JSON.stringify(row.median)}`)
  }
  return `${lines.join("\n")}\n`
}
