/**
 * Output formats of `policy diff`: `json` is the typed report, `pretty` is for a terminal, and
 * `markdown` is ready to paste into a pull request review. Both text formats render the same
 * sections from the same rows, so they cannot disagree.
 */
import type { DiffReport } from "./diff_types.ts";
import { type Align, markdownTable, percent, textTable, usd } from "./table.ts";

export type DiffFormat = "pretty" | "json" | "markdown";

interface Table {
  header: string[];
  rows: string[][];
  align: Align[];
}

function ms(value: number | null, signed = false): string {
  if (value === null) return "unknown";
  const rounded = Math.round(value);
  return `${signed && rounded > 0 ? "+" : ""}${rounded} ms`;
}

function title(r: DiffReport): string {
  const base = r.base.revision ? `\`${r.base.revision}\`` : "live";
  const head = r.source.kind === "shadow" ? "shadow" : "working tree";
  return `Policy diff: \`${r.base.name}\` ${r.base.version} (\`${r.base.hash}\`, ${base}) → ` +
    `\`${r.head.name}\` ${r.head.version} (\`${r.head.hash}\`, ${head})`;
}

function sourceLine(r: DiffReport): string {
  const what = r.source.kind === "tests"
    ? "test case(s)"
    : r.source.kind === "shadow"
    ? "logged request(s) with a shadow decision"
    : "logged request(s)";
  const files = r.source.files.map((f) => `\`${f}\``).join(", ");
  return `Compared on ${r.requests} ${what} from ${files || "nowhere"}: ` +
    `${r.flipped} (${percent(r.flippedShare)}) would change route.`;
}

/** The matrix over the routes some flip involves; unchanged-only routes would be noise. */
function matrixTable(r: DiffReport): Table {
  const cell = new Map(r.matrix.cells.map((c) => [`${c.from}\u0000${c.to}`, c]));
  const involved = new Set(r.flips.flatMap((f) => [f.from, f.to]));
  const rows = r.matrix.rows.filter((route) => involved.has(route));
  const columns = r.matrix.columns.filter((route) => involved.has(route));
  return {
    header: ["base ↓ / head →", ...columns],
    rows: rows.map((from) => [
      from,
      ...columns.map((to) => {
        const c = cell.get(`${from}\u0000${to}`);
        return c ? `${c.count} (${percent(c.share)})` : "·";
      }),
    ]),
    align: ["left", ...columns.map(() => "right" as const)],
  };
}

function flipTable(r: DiffReport, code: (s: string) => string): Table {
  return {
    header: ["from", "to", "requests", "share", "via", "cost Δ", "latency Δ", "examples"],
    rows: r.flips.map((f) => [
      f.from,
      f.to,
      String(f.count),
      percent(f.share),
      f.fromVia === f.toVia ? f.fromVia : `${f.fromVia} → ${f.toVia}`,
      usd(f.costDeltaUsd, true),
      ms(f.latencyDeltaMs, true),
      f.examples.map(code).join(", "),
    ]),
    align: ["left", "left", "right", "right", "left", "right", "right", "left"],
  };
}

function ruleTable(r: DiffReport): Table {
  return {
    header: ["rule", "base", "head", "Δ"],
    rows: r.rules.filter((x) => x.base > 0 || x.head > 0).map((x) => [
      x.rule ?? "(default)",
      String(x.base),
      String(x.head),
      x.delta > 0 ? `+${x.delta}` : String(x.delta),
    ]),
    align: ["left", "right", "right", "right"],
  };
}

function costTable(r: DiffReport): Table {
  const c = r.cost;
  const priced = r.requests - c.unpriced;
  const per = (v: number) => (priced ? usd(v / priced) : "—");
  const share = c.deltaShare === null
    ? ""
    : ` (${c.deltaShare > 0 ? "+" : ""}${percent(c.deltaShare)})`;
  return {
    header: ["", "base", "head", "Δ"],
    rows: [
      ["total", usd(c.baseUsd), usd(c.headUsd), `${usd(c.deltaUsd, true)}${share}`],
      [
        "per request",
        per(c.baseUsd),
        per(c.headUsd),
        priced ? usd(c.deltaUsd / priced, true) : "—",
      ],
    ],
    align: ["left", "right", "right", "right"],
  };
}

function tokenNote(r: DiffReport): string {
  const t = r.cost.tokens;
  const unpriced = r.cost.unpriced ? ` ${r.cost.unpriced} request(s) could not be priced.` : "";
  return `Tokens: input from logged usage for ${t.input.usage} request(s), from the prompt ` +
    `estimate for ${t.input.prompt_estimate}; output from logged usage for ${t.output.usage}, ` +
    `from max_tokens for ${t.output.max_tokens}, assumed 512 for ${t.output.default}.${unpriced}`;
}

function latencyNote(r: DiffReport): string {
  const l = r.latency;
  if (l.known === 0) {
    return r.source.kind === "tests"
      ? "Latency: unknown (test cases carry no latencies; pass --log for an estimate)."
      : "Latency: unknown (no successful attempts logged for the routes involved).";
  }
  const unknown = l.unknown
    ? `; ${l.unknown} request(s) unknown (no latency data for ${l.unknownRoutes.join(", ")})`
    : "";
  return `Latency (median of successful attempts per route): mean per request ` +
    `${ms(l.baseMeanMs)} → ${ms(l.headMeanMs)} (${ms(l.deltaMs, true)}) over ${l.known} ` +
    `request(s)${unknown}.`;
}

function latencyTable(r: DiffReport): Table {
  return {
    header: ["route", "samples", "p50", "ttft p50"],
    rows: r.latency.routes.map((x) => [
      x.route,
      String(x.samples),
      ms(x.p50Ms),
      x.ttftP50Ms === undefined ? "—" : ms(x.ttftP50Ms),
    ]),
    align: ["left", "right", "right", "right"],
  };
}

function viaLine(r: DiffReport): string {
  const v = r.via;
  return `Direct → gateway: ${v.directToGateway}; gateway → direct: ${v.gatewayToDirect} ` +
    `(direct ${v.base.direct} → ${v.head.direct}, gateway ${v.base.gateway} → ${v.head.gateway}).`;
}

function failLine(r: DiffReport): string[] {
  const f = r.failOnFlip;
  if (!f) return [];
  const scope = f.selectors.length ? ` involving ${f.selectors.join(", ")}` : "";
  return [
    f.failed
      ? `FAIL --fail-on-flip: ${f.matched} flipped request(s)${scope}`
      : `ok --fail-on-flip: no flipped request${scope}`,
  ];
}

function render(r: DiffReport, md: boolean): string {
  const table = (t: Table) =>
    md ? markdownTable(t.header, t.rows, t.align) : textTable(t.header, t.rows, t.align);
  const heading = (text: string) => (md ? [`#### ${text}`, ""] : [text]);
  const code = (s: string) => (md ? `\`${s}\`` : s);
  const plain = (s: string) => (md ? s : s.replace(/`/g, ""));
  const lines = [md ? `### ${title(r)}` : plain(title(r)), "", plain(sourceLine(r)), ""];
  lines.push(...heading("Route flips"));
  if (r.flips.length) {
    lines.push(...table(matrixTable(r)), "", ...table(flipTable(r, code)), "");
    const involved = new Set(r.flips.flatMap((f) => [f.from, f.to]));
    const shown = r.matrix.cells.filter((c) => involved.has(c.from) && involved.has(c.to));
    const others = r.requests - shown.reduce((n, c) => n + c.count, 0);
    if (others) lines.push(`The other ${others} request(s) stay on routes no flip involves.`, "");
  } else lines.push("No request changes route.", "");
  lines.push(viaLine(r), "");
  lines.push(...heading("Rules"), ...table(ruleTable(r)), "");
  lines.push(...heading("Estimated cost"), ...table(costTable(r)), "", tokenNote(r), "");
  lines.push(...heading("Estimated latency"), latencyNote(r));
  if (r.latency.routes.length) lines.push("", ...table(latencyTable(r)));
  if (r.source.warnings.length) {
    lines.push("", `${r.source.warnings.length} line(s) or case(s) skipped:`);
    for (const w of r.source.warnings) lines.push(`- ${code(`${w.file}:${w.line}`)}: ${w.message}`);
  }
  const fail = failLine(r);
  if (fail.length) lines.push("", ...(md ? fail.map((l) => `**${l}**`) : fail));
  return lines.join("\n").replace(/\n{3,}/g, "\n\n");
}

/** Renders a diff report in a format. */
export function renderDiff(report: DiffReport, format: DiffFormat): string {
  if (format === "json") return JSON.stringify(report, null, 2);
  return render(report, format === "markdown");
}
