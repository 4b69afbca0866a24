/**
 * One reporter interface behind every output format of the policy toolchain (as `opa test` has):
 * results are typed values, so `json` is their plain serialization, `pretty` is for people and
 * `github` turns problems and failures into GitHub Actions annotations.
 */
import type { Decision } from "./decide.ts";
import { formatProblem, type PolicyProblem } from "./problems.ts";
import type { TestReport } from "./testing.ts";
import type { Facts } from "../facts/facts.ts";

/** The result of `policy check`. */
export interface CheckReport {
  files: { file: string; valid: boolean; problems: PolicyProblem[] }[];
  errors: number;
  warnings: number;
}

/** The result of `policy explain`. */
export interface ExplainReport {
  file: string;
  facts: Facts;
  decision: Decision;
}

export interface Reporter {
  check(report: CheckReport): string;
  test(report: TestReport, options: { verbose: boolean }): string;
  explain(report: ExplainReport): string;
}

export type Format = "pretty" | "json" | "github";

/** The closing line every test run ends with, which CI reads. */
export function summaryLine(report: TestReport): string {
  return `${report.passed} passed, ${report.failed} failed`;
}

const json: Reporter = {
  check: (r) => JSON.stringify(r, null, 2),
  test: (r) => JSON.stringify(r, null, 2),
  explain: (r) => JSON.stringify(r, null, 2),
};

function outcome(
  o: { route?: string; rule?: string | null; via?: string; fallbacks?: readonly string[] },
) {
  const parts: string[] = [];
  if (o.route !== undefined) parts.push(`route=${o.route}`);
  if (o.rule !== undefined) parts.push(`rule=${o.rule ?? "(default)"}`);
  if (o.via !== undefined) parts.push(`via=${o.via}`);
  if (o.fallbacks !== undefined) parts.push(`fallbacks=[${o.fallbacks.join(", ")}]`);
  return parts.join(" ");
}

function traceLines(trace: Decision["trace"], indent: string): string[] {
  return trace.map((t) => {
    const mark = t.result === "match" ? "✔ match" : t.result === "error" ? "✖ error" : "· no match";
    return `${indent}${t.rule.padEnd(32)} ${mark}${t.error ? `: ${t.error}` : ""} (${t.micros} µs)`;
  });
}

const pretty: Reporter = {
  check(r) {
    const lines: string[] = [];
    for (const f of r.files) {
      for (const p of f.problems) lines.push(formatProblem(p));
      lines.push(`${f.valid ? "ok  " : "FAIL"} ${f.file}`);
    }
    lines.push(`${r.files.length} file(s) checked: ${r.errors} error(s), ${r.warnings} warning(s)`);
    return lines.join("\n");
  },
  test(r, { verbose }) {
    const lines: string[] = r.problems.map(formatProblem);
    for (const c of r.cases) {
      if (c.passed) {
        if (verbose) lines.push(`PASS ${c.name}`);
        continue;
      }
      lines.push(`FAIL ${c.name} (${c.file}:${c.line})`);
      if (c.error) lines.push(`     ${c.error}`);
      else {
        lines.push(`     expected: ${outcome(c.expected)}`);
        lines.push(`     actual:   ${outcome(c.actual ?? {})}`);
        lines.push(...traceLines(c.trace ?? [], "       "));
      }
    }
    if (!verbose && r.passed > 0) lines.push(`PASS ${r.passed} case(s)`);
    for (const c of r.coverage) {
      const detail = c.uncovered.length
        ? `; never matched: ${c.uncovered.join(", ")}`
        : "; every rule matched";
      lines.push(`coverage ${c.policy} (${c.file}): ${c.percent}% of rules${detail}`);
    }
    if (r.belowThreshold) lines.push(`coverage is below the threshold of ${r.threshold}%`);
    if (r.cases.length === 0) lines.push("no test case ran");
    lines.push(summaryLine(r));
    return lines.join("\n");
  },
  explain(r) {
    const d = r.decision;
    const lines = [
      `policy  ${d.policy.name} ${d.policy.version} (${d.policy.hash}) from ${r.file}`,
      "",
      "facts",
      ...JSON.stringify(
        { ...r.facts, routes: `{${Object.keys(r.facts.routes).length} routes}` },
        null,
        2,
      )
        .split("\n").map((l) => `  ${l}`),
      "",
      "rules",
      ...traceLines(d.trace, "  "),
      "",
      `decision  route=${d.route} via=${d.via} rule=${d.rule ?? "(default)"}`,
      `          fallbacks=[${d.fallbacks.join(", ")}]`,
    ];
    if (d.split) lines.push(`          split bucket ${d.split.bucket} of 100`);
    if (d.reason) lines.push(`          reason: ${d.reason}`);
    lines.push(`          decided in ${d.micros} µs`);
    return lines.join("\n");
  },
};

/** `::error file=…,line=…,col=…::message` annotations; escapes per the workflow-command rules. */
function annotation(
  kind: "error" | "warning",
  file: string,
  line: number,
  col: number,
  msg: string,
) {
  const escape = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  return `::${kind} file=${file},line=${line},col=${col}::${escape(msg)}`;
}

const github: Reporter = {
  check(r) {
    const lines = r.files.flatMap((f) =>
      f.problems.map((p) => annotation(p.severity, p.file, p.line, p.col, p.message))
    );
    lines.push(`${r.files.length} file(s) checked: ${r.errors} error(s), ${r.warnings} warning(s)`);
    return lines.join("\n");
  },
  test(r, options) {
    const lines = r.problems.map((p) => annotation(p.severity, p.file, p.line, p.col, p.message));
    for (const c of r.cases) {
      if (c.passed) continue;
      const detail = c.error ??
        `expected ${outcome(c.expected)}, got ${outcome(c.actual ?? {})}`;
      lines.push(
        annotation("error", c.file, c.line, 1, `Policy test failed: ${c.name}: ${detail}`),
      );
    }
    for (const c of r.coverage) {
      for (const rule of c.rules.filter((x) => x.matches === 0)) {
        lines.push(
          annotation(
            "warning",
            c.file,
            rule.line,
            1,
            `Rule \`${rule.rule}\` is not matched by any test case`,
          ),
        );
      }
    }
    return [...lines, pretty.test(r, options)].join("\n");
  },
  explain: (r) => pretty.explain(r),
};

/** The reporter for a format name. */
export function reporter(format: Format): Reporter {
  return format === "json" ? json : format === "github" ? github : pretty;
}
