/**
 * Tables for the review reports (`policy replay`, `policy diff`): the same rows rendered as
 * aligned text for a terminal or as a GitHub-flavoured Markdown table for a pull request.
 */

/** Column alignment: numbers read best right-aligned. */
export type Align = "left" | "right";

/** Aligned columns separated by two spaces, with the header first. */
export function textTable(header: string[], rows: string[][], align: Align[] = []): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (align[i] === "right" ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A Markdown table; `|` in cells is escaped so a route or rule name cannot break it. */
export function markdownTable(header: string[], rows: string[][], align: Align[] = []): string[] {
  const cell = (c: string) => c.replace(/\|/g, "\\|");
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `|${header.map((_, i) => (align[i] === "right" ? " ---: " : " --- ")).join("|")}|`;
  return [line(header), rule, ...rows.map(line)];
}

/** A 0..1 share as a percentage with one decimal: `12.5%`. */
export function percent(share: number): string {
  return `${(Math.round(share * 1000) / 10).toFixed(1)}%`;
}

/** USD with enough digits for per-request amounts: `$0.0123`, `-$1.50`. */
export function usd(amount: number, signed = false): string {
  const sign = amount < 0 ? "-" : signed && amount > 0 ? "+" : "";
  const abs = Math.abs(amount);
  const digits = abs === 0 ? 2 : abs < 0.01 ? 6 : abs < 1 ? 4 : 2;
  return `${sign}$${abs.toFixed(digits)}`;
}
