/**
 * Spend reports: what `GET /v1/spend` returns and `deno task spend` prints. One typed snapshot
 * (the current day and month), serialized as JSON or rendered as a table.
 */
import { nanoToUsd } from "./cost.ts";
import type { SpendReport, SpendStore } from "./store.ts";

/** Spend for the day and the month containing `at`. */
export interface SpendSnapshot {
  /** ISO 8601 instant the snapshot describes. */
  at: string;
  day: SpendReport;
  month: SpendReport;
}

/** Reads the day and month reports of a store at `now`. */
export async function spendSnapshot(store: SpendStore, now: Date): Promise<SpendSnapshot> {
  const [day, month] = await Promise.all([store.report("day", now), store.report("month", now)]);
  return { at: now.toISOString(), day, month };
}

/**
 * `$12.34`; amounts under a cent keep their significant digits (`$0.000165`), since a single
 * request often costs less than a cent.
 */
export function formatUsd(usd: number): string {
  if (usd === 0 || Math.abs(usd) >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toFixed(9).replace(/0+$/, "")}`;
}

/** The snapshot as an aligned plain-text table, one section per window. */
export function formatSpendTable(snapshot: SpendSnapshot): string {
  const sections = [snapshot.day, snapshot.month].map((report) => {
    const title =
      `${report.window} ${report.period}  total ${formatUsd(nanoToUsd(report.totalNano))}` +
      `  (resets ${report.end})`;
    if (report.rows.length === 0) return `${title}\n  no spend recorded`;
    const header = ["scope", "id", "spent", "in flight", "requests"];
    const rows = report.rows.map((r) => [
      r.dimension,
      r.id,
      formatUsd(nanoToUsd(r.settledNano)),
      formatUsd(nanoToUsd(r.heldNano)),
      String(r.requests),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    // Text columns align left, numbers right.
    const line = (cells: string[]) =>
      "  " + cells.map((c, i) => i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ");
    return [title, line(header), ...rows.map(line)].join("\n");
  });
  return `spend at ${snapshot.at}\n\n${sections.join("\n\n")}`;
}
