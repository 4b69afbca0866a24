/** Percentiles and medians for the load benchmark; every figure is in microseconds or req/s. */

/** The p-th percentile (0–100) of `values` by nearest rank; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The median of the finite values; NaN when there are none (a phase that did not run). */
export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return NaN;
  const sorted = finite.sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** p50 and p99 of a latency sample, in µs. */
export interface Quantiles {
  p50: number;
  p99: number;
}

/** p50 and p99 of samples given in milliseconds, returned in microseconds. */
export function quantilesUs(samplesMs: readonly number[]): Quantiles {
  return { p50: percentile(samplesMs, 50) * 1000, p99: percentile(samplesMs, 99) * 1000 };
}
