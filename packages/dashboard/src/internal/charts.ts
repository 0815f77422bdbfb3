/**
 * The overview's charts: inline SVG bar charts of attempts per minute (no script, nothing loaded),
 * each with a text alternative (`role="img"` and a title) stating the totals.
 */
import { type Html, html } from "./html.js"

/** One bar: its label (the minute) and value. */
export interface Bar {
  /** The minute, as ISO text. */
  readonly label: string
  /** The count. */
  readonly value: number
}

const width = 600
const height = 120

/** A bar chart of `bars`, oldest first, titled `title`, drawn in the CSS class `kind`. */
export const barChart = (title: string, kind: string, bars: ReadonlyArray<Bar>): Html => {
  const max = Math.max(1, ...bars.map((bar) => bar.value))
  const total = bars.reduce((sum, bar) => sum + bar.value, 0)
  const step = width / Math.max(1, bars.length)
  const label = `${title}: ${total} in the last ${bars.length} minutes, at most ${max} in one minute`
  return html`<figure class="chart">
<figcaption>${title} per minute (${total} in ${bars.length} min)</figcaption>
<svg class="${kind}" role="img" aria-label="${label}" viewBox="0 0 ${width} ${height + 16}" width="100%" height="${height + 16}">
<title>${label}</title>
<line x1="0" y1="${height}" x2="${width}" y2="${height}" class="axis"></line>
${bars.map((bar, i) => {
  const h = Math.round((bar.value / max) * (height - 4))
  return html`<rect x="${(i * step + 1).toFixed(1)}" y="${height - h}" width="${Math.max(1, step - 2).toFixed(1)}" height="${h}"><title>${bar.label}: ${bar.value}</title></rect>`
})}
<text x="0" y="${height + 14}">${bars[0]?.label.slice(11, 16) ?? ""}</text>
<text x="${width}" y="${height + 14}" text-anchor="end">${bars.at(-1)?.label.slice(11, 16) ?? ""}</text>
</svg>
</figure>`
}
