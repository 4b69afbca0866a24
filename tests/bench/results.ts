/**
 * What one load benchmark run produces: every figure of every round, typed so that the JSON file
 * is a plain serialization and the tables are computed from it alone.
 */
import type { ClosedLoopResult } from "./closed_loop.ts";
import type { FixedRateResult } from "./fixed_rate.ts";
import type { SinkStats } from "./otlp_sink.ts";
import type { Options, TargetName } from "./options.ts";
import type { StreamingResult } from "./streaming.ts";

/** One target's figure per target, for the targets that ran. */
export type PerTarget<T> = Partial<Record<TargetName, T>>;

/** Every phase's figures in one round. */
export interface RoundResult {
  round: number;
  /** The order the targets ran in (rotated each round). */
  order: TargetName[];
  /** Keyed by rate (req/s). */
  fixed: Record<string, PerTarget<FixedRateResult>>;
  max: PerTarget<ClosedLoopResult>;
  stream: PerTarget<StreamingResult>;
}

/** RSS of a fresh process after a number of requests. */
export interface MemoryCheckpoint {
  requests: number;
  rssKiB: number;
}

/** The memory phase for one target. */
export interface MemoryResult {
  target: TargetName;
  /** RSS right after start-up, before any request. */
  startRssKiB: number;
  checkpoints: MemoryCheckpoint[];
  errors: number;
  seconds: number;
  /** Why the phase could not finish for this target (the rest of the run is still reported). */
  failure?: string;
}

/** The machine the run measured on. */
export interface Machine {
  cores: number;
  cpu: string;
  deno: string;
  v8: string;
  /** 1-minute load average at start and at the end. */
  loadStart: number;
  loadEnd: number;
}

/** A whole run. */
export interface RunResult {
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  options: Options;
  /** Switchyard's spend store (its default: the run passes no --store). */
  store: string;
  /** What each target is. */
  targets: PerTarget<string>;
  /** What the OTLP sink received from the tracing-on target. */
  otlp?: SinkStats;
  /** Every process the run started (all stopped when it ends). */
  processes: { name: string; pid: number }[];
  rounds: RoundResult[];
  memory: MemoryResult[];
}
