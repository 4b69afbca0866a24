/**
 * Issue 6 §3's targets, checked against one run's medians. These are benchmark figures on a
 * shared machine, reported rather than asserted: nothing fails a build on them.
 */
import type { TargetName } from "./options.ts";
import type { RunResult } from "./results.ts";
import { latency, throughput } from "./summary.ts";

/** One target checked. */
export interface GoalRow {
  goal: string;
  figure: string;
  limit: string;
  /** Undefined when the run's noise left no meaningful figure (every round's ratio was void). */
  met: boolean | undefined;
}

/** `check(x)` unless x is NaN. */
const times = (x: number) => Number.isNaN(x) ? "–" : `${x.toFixed(2)}× passthrough`;
const verdict = (x: number, check: (x: number) => boolean) =>
  Number.isNaN(x) ? undefined : check(x);

/** The latency limit per Switchyard target: the added latency as a multiple of the floor's. */
const LATENCY_LIMIT: Partial<Record<TargetName, number>> = {
  switchyard: 1.5,
  "switchyard-otel": 2,
};

/** The rows for the targets and phases this run covered. */
export function goalRows(run: RunResult): GoalRow[] {
  const o = run.options;
  const rows: GoalRow[] = [];
  const has = (t: TargetName) => o.targets.includes(t);
  if (!has("direct") || !has("passthrough")) return rows;
  for (const target of ["switchyard", "switchyard-otel"] as const) {
    const limit = LATENCY_LIMIT[target]!;
    if (!has(target) || !o.phases.includes("fixed")) continue;
    for (const rate of o.rates) {
      for (const q of ["p50", "p99"] as const) {
        const s = latency(run.rounds, (r, t) => r.fixed[rate]?.[t]?.[q], target);
        rows.push({
          goal: `${target}: ${q} added at ${rate}/s`,
          figure: times(s.vsPassthrough),
          limit: `≤ ${limit}×`,
          met: verdict(s.vsPassthrough, (x) => x <= limit),
        });
      }
    }
  }
  if (has("switchyard") && o.phases.includes("max")) {
    const s = throughput(run.rounds, (r, t) => r.max[t]?.rps, "switchyard");
    rows.push({
      goal: `switchyard: throughput at ${o.connections} connections`,
      figure: `${(s.vsPassthrough * 100).toFixed(0)}% of passthrough`,
      limit: "≥ 70%",
      met: verdict(s.vsPassthrough, (x) => x >= 0.7),
    });
  }
  if (has("switchyard") && o.phases.includes("stream")) {
    const s = latency(run.rounds, (r, t) => r.stream[t]?.ttfbP50, "switchyard");
    rows.push({
      goal: "switchyard: stream TTFB p50 added",
      figure: times(s.vsPassthrough),
      limit: "≤ 1.5×",
      met: verdict(s.vsPassthrough, (x) => x <= 1.5),
    });
  }
  for (const m of run.memory) {
    const [a, b] = m.checkpoints;
    if (!a || !b) continue;
    const growth = b.rssKiB / a.rssKiB - 1;
    rows.push({
      goal: `${m.target}: RSS after ${b.requests} vs after ${a.requests} requests`,
      figure: `${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)}%`,
      limit: "≤ +10%",
      met: verdict(growth, (x) => x <= 0.1),
    });
  }
  return rows;
}
