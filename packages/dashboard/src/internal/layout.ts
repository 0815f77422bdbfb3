/**
 * The page shell (head, style, navigation, notices) and the controls every page uses: a POST form
 * of one button (with the CSRF token), tables and status badges. Every control has an accessible
 * name: its text, or an `aria-label`.
 */
import { type Html, type Part, html, raw } from "./html.js"
import { csrfField } from "./security.js"

/** What a page is rendered with. */
export interface PageContext {
  /** Where the dashboard is mounted, without a trailing slash (`""` at the root). */
  readonly base: string
  /** The CSRF token every form carries. */
  readonly csrf: string
  /** No action is shown. */
  readonly readOnly: boolean
  /** Arguments and results are not shown. */
  readonly hideArgs: boolean
  /** The nonce of this response's inline script and style. */
  readonly nonce: string
  /** The dashboard's title. */
  readonly title: string
}

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:.6rem 1rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#cfd8e3;text-decoration:none}header a[aria-current=page]{color:#fff;font-weight:600}
main{padding:1rem;max-width:1200px}
table{border-collapse:collapse;background:#fff;margin:.5rem 0 1rem;width:100%}
th,td{border-bottom:1px solid #e3e6ea;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}
pre{background:#fff;border:1px solid #e3e6ea;padding:.5rem;overflow:auto;white-space:pre-wrap;word-break:break-all}
.status{padding:0 .4rem;border-radius:3px;background:#e3e6ea}
.status-failed{background:#f8d7da}.status-succeeded{background:#d4edda}.status-running{background:#cce5ff}
.status-pending{background:#fff3cd}
.notice{background:#d4edda;padding:.5rem;border-radius:3px}.problem{background:#f8d7da;padding:.5rem;border-radius:3px}
form.inline{display:inline}button{cursor:pointer;margin-right:.3rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;padding:.5rem;border:1px solid #e3e6ea}dd{margin:0}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{background:#fff;padding:.6rem 1rem;border:1px solid #e3e6ea}
.card b{display:block;font-size:1.5rem}
.filters label{margin-right:.6rem;display:inline-block}
svg rect{fill:#4a7bd0}svg.failures rect{fill:#d9534f}svg .axis{stroke:#999}svg text{font-size:10px;fill:#555}
figure.chart{background:#fff;border:1px solid #e3e6ea;margin:0 0 1rem;padding:.5rem}
`

const script = `
document.querySelectorAll("input[data-select-all]").forEach((all) => {
  all.addEventListener("change", () => {
    document.querySelectorAll("input[name=id]").forEach((box) => { box.checked = all.checked })
  })
})
`

/** The sections of the navigation. */
const sections = [
  ["", "Overview"],
  ["/runs", "Runs"],
  ["/queues", "Queues"],
  ["/schedules", "Schedules"],
  ["/instances", "Instances"]
] as const

/** A whole page: `current` is the path of its section. */
export const page = (ctx: PageContext, current: string, heading: string, body: Part, notice?: string): Html =>
  html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${heading} - ${ctx.title}</title><style nonce="${ctx.nonce}">${raw(style)}</style></head>
<body><header><strong>${ctx.title}</strong><nav aria-label="Sections">${sections.map(
    ([path, label]) =>
      html`<a href="${ctx.base}${path || "/"}"${path === current ? raw(' aria-current="page"') : ""}>${label}</a> `
  )}</nav>${ctx.readOnly ? html`<span>(read-only)</span>` : ""}</header>
<main><h1>${heading}</h1>${notice === undefined ? "" : html`<p class="notice" role="status">${notice}</p>`}
${body}</main><script nonce="${ctx.nonce}">${raw(script)}</script></body></html>`

/** A form of one button that POSTs to `path` (under the base) with the CSRF token; nothing in read-only mode. */
export const actionButton = (ctx: PageContext, path: string, label: string, name?: string): Html =>
  ctx.readOnly
    ? html``
    : html`<form class="inline" method="post" action="${ctx.base}${path}"><input type="hidden" name="${csrfField}" value="${ctx.csrf}"><button type="submit"${name === undefined ? "" : html` aria-label="${name}"`}>${label}</button></form>`

/** The hidden CSRF field of a form. */
export const csrfInput = (ctx: PageContext): Html => html`<input type="hidden" name="${csrfField}" value="${ctx.csrf}">`

/** A table with a caption (its accessible name), header cells and rows; `empty` when there are none. */
export const table = (
  caption: string,
  headers: ReadonlyArray<Part>,
  rows: ReadonlyArray<ReadonlyArray<Part>>,
  empty: string
): Html =>
  rows.length === 0
    ? html`<p>${empty}</p>`
    : html`<table><caption>${caption}</caption><thead><tr>${headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows.map((row) => html`<tr>${row.map((cell) => html`<td>${cell}</td>`)}</tr>`)}</tbody></table>`

/** A run status as a badge. */
export const status = (value: string): Html => html`<span class="status status-${value}">${value}</span>`

/** A page's error, in a problem box. */
export const problem = (message: string): Html => html`<p class="problem" role="alert">${message}</p>`
