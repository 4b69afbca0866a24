/**
 * Output formats of `policy replay`: the report is a typed value, so `json` is its plain
 * serialization; `pretty` is for a terminal and `markdown` for a pull request or an issue.
 */
import type { ReplayReport } from "./replay.ts";
import { markdownTable, percent, textTable } from "./table.ts";

export type ReplayFormat = "pretty" | "json" | "markdown";

function ruleRows(r: ReplayReport): string[][] {
  return r.rules.map((rule) => [
    rule.rule ?? "(default)",
    rule.line === undefined ? "" : String(rule.line),
    String(rule.count),
    percent(rule.share),
    rule.errors ? String(rule.errors) : "",
  ]);
}

function routeRows(r: ReplayReport): string[][] {
  return r.routes.map((route) => [
    route.route,
    route.via,
    String(route.count),
    percent(route.share),
  ]);
}

const RULE_HEADER = ["rule", "line", "requests", "share", "errors"];
const RULE_ALIGN = ["left", "right", "right", "right", "right"] as const;
const ROUTE_HEADER = ["route", "via", "requests", "share"];
const ROUTE_ALIGN = ["left", "left", "right", "right"] as const;

function pretty(r: ReplayReport): string {
  const p = r.policy;
  const lines = [
    `replay  ${p.name} ${p.version} (${p.hash}) from ${p.file}`,
    `        ${r.requests} request(s) from ${r.log.files.length} file(s); ` +
    `${r.changed} would take another route than the one logged`,
    "",
    ...textTable(RULE_HEADER, ruleRows(r), [...RULE_ALIGN]).map((l) => `  ${l}`),
    "",
    ...textTable(ROUTE_HEADER, routeRows(r), [...ROUTE_ALIGN]).map((l) => `  ${l}`),
    "",
    r.neverFired.length
      ? `never fired: ${r.neverFired.join(", ")}`
      : "every rule fired at least once",
  ];
  for (const w of r.log.warnings) lines.push(`warning: ${w.file}:${w.line}: ${w.message}`);
  return lines.join("\n");
}

function markdown(r: ReplayReport): string {
  const p = r.policy;
  const lines = [
    `### Replay of ${r.requests} logged request(s) with \`${p.name}\` ${p.version} (\`${p.hash}\`)`,
    "",
    `${r.changed} request(s) would take another route than the one logged.`,
    "",
    ...markdownTable(RULE_HEADER, ruleRows(r), [...RULE_ALIGN]),
    "",
    ...markdownTable(ROUTE_HEADER, routeRows(r), [...ROUTE_ALIGN]),
    "",
    r.neverFired.length
      ? `**Never fired:** ${r.neverFired.map((n) => `\`${n}\``).join(", ")}`
      : "Every rule fired at least once.",
  ];
  if (r.log.warnings.length) {
    lines.push("", `${r.log.warnings.length} log line(s) skipped:`, "");
    for (const w of r.log.warnings) lines.push(`- \`${w.file}:${w.line}\`: ${w.message}`);
  }
  return lines.join("\n");
}

/** Renders a replay report in a format. */
export function renderReplay(report: ReplayReport, format: ReplayFormat): string {
  if (format === "json") return JSON.stringify(report, null, 2);
  return format === "markdown" ? markdown(report) : pretty(report);
}
