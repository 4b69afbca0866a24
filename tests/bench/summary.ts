/**
 * Per-round figures → medians across rounds. Every comparison is made within a round (targets
 * measured seconds apart under the same machine load) and only then summarized: "added" is the
 * target's figure minus the direct (mock alone) one, and "× passthrough" is the target's added
 * figure divided by the passthrough's (for throughput: the ratio of req/s).
 */
import type { TargetName } from "./options.ts";
import type { RoundResult } from "./results.ts";
import { median } from "./stats.ts";

/** A figure of one target in one round, if it ran. */
export type Figure = (round: RoundResult, target: TargetName) => number | undefined;

/** Medians across rounds of a latency-like figure (lower is better). */
export interface LatencySummary {
  value: number;
  added: number;
  /** added ÷ the passthrough's added. */
  vsPassthrough: number;
  perRound: number[];
}

/** Medians across rounds of a throughput figure (higher is better). */
export interface ThroughputSummary {
  value: number;
  /** value ÷ direct's. */
  vsDirect: number;
  /** value ÷ passthrough's. */
  vsPassthrough: number;
  perRound: number[];
}

const at = (figure: Figure, round: RoundResult, target: TargetName) => figure(round, target) ?? NaN;

/**
 * Summarizes a latency figure for one target. `vsPassthrough` compares with `floorTarget`: the
 * passthrough, unless a like-for-like view names another (its tracing-on twin).
 */
export function latency(
  rounds: RoundResult[],
  figure: Figure,
  target: TargetName,
  floorTarget: TargetName = "passthrough",
): LatencySummary {
  const perRound = rounds.map((r) => at(figure, r, target));
  const added = rounds.map((r) => at(figure, r, target) - at(figure, r, "direct"));
  const floor = rounds.map((r) => at(figure, r, floorTarget) - at(figure, r, "direct"));
  return {
    value: median(perRound),
    added: median(added),
    // Where the floor or the target's own added figure is at or below zero, the round's noise
    // (typically a p99 outlier in the direct run) exceeds the effect: that ratio means nothing.
    vsPassthrough: median(added.map((a, i) => floor[i] > 0 && a >= 0 ? a / floor[i] : NaN)),
    perRound,
  };
}

/**
 * Summarizes a throughput figure for one target. The same arithmetic serves any figure compared
 * as a plain ratio rather than as an added amount (CPU time per request). `vsPassthrough` divides
 * by `floorTarget`'s figure, as in `latency`.
 */
export function throughput(
  rounds: RoundResult[],
  figure: Figure,
  target: TargetName,
  floorTarget: TargetName = "passthrough",
): ThroughputSummary {
  const perRound = rounds.map((r) => at(figure, r, target));
  return {
    value: median(perRound),
    vsDirect: median(rounds.map((r, i) => perRound[i] / at(figure, r, "direct"))),
    vsPassthrough: median(rounds.map((r, i) => perRound[i] / at(figure, r, floorTarget))),
    perRound,
  };
}

/** The sum of a count across rounds (errors, drops). */
export function total(rounds: RoundResult[], figure: Figure, target: TargetName): number {
  return rounds.reduce((sum, r) => sum + (figure(r, target) ?? 0), 0);
}
