/**
 * The typed result of `policy diff`: what `--format json` prints, and what the pretty and Markdown
 * reporters render. Shares are 0..1; money is USD; times are milliseconds.
 */
import type { LogWarning } from "../log/reader.ts";
import type { PolicyRef } from "./replay.ts";

/** Requests that went from one route (base) to another (head). */
export interface Flip {
  from: string;
  to: string;
  fromVia: "direct" | "gateway";
  toVia: "direct" | "gateway";
  count: number;
  share: number;
  /** Head cost minus base cost of these requests; 0 when they could not be priced. */
  costDeltaUsd: number;
  /** Median latency of `to` minus that of `from`, from the log; null when either is unknown. */
  latencyDeltaMs: number | null;
  /** Up to three request ids (or test case names) to look up. */
  examples: string[];
}

export interface DiffReport {
  /** The policy before the change (at `revision`, or the live one of a shadow log). */
  base: PolicyRef & { revision?: string; commit?: string };
  /** The policy after the change (the working tree, or the shadow policy). */
  head: PolicyRef;
  source: {
    /** `log`: logged facts replayed through both; `tests`: the test cases' facts; `shadow`: logged decisions. */
    kind: "log" | "tests" | "shadow";
    files: string[];
    /** Lines or cases skipped, and why. */
    warnings: LogWarning[];
    /** Shadow source only: records without a shadow decision, left out. */
    withoutShadow?: number;
  };
  requests: number;
  flipped: number;
  flippedShare: number;
  /** Every (base route, head route) pair seen, the diagonal included; rows and columns by volume. */
  matrix: {
    rows: string[];
    columns: string[];
    cells: { from: string; to: string; count: number; share: number }[];
  };
  /** Pairs whose route changed, most requests first. */
  flips: Flip[];
  via: {
    base: { direct: number; gateway: number };
    head: { direct: number; gateway: number };
    directToGateway: number;
    gatewayToDirect: number;
  };
  /** Requests per rule (`null` = the default) under each policy. */
  rules: { rule: string | null; base: number; head: number; delta: number }[];
  cost: {
    baseUsd: number;
    headUsd: number;
    deltaUsd: number;
    /** delta ÷ base, null when the base cost is 0. */
    deltaShare: number | null;
    /** Requests left out of the cost because a route's price is unknown (shadow logs). */
    unpriced: number;
    /** How many requests' token counts came from logged usage or from an estimate. */
    tokens: {
      input: { usage: number; prompt_estimate: number };
      output: { usage: number; max_tokens: number; default: number };
    };
  };
  latency: {
    /** Median latency (and time to first token) of successful attempts per route in the log. */
    routes: { route: string; samples: number; p50Ms: number; ttftP50Ms?: number }[];
    /** Requests whose base and head routes both have latency data. */
    known: number;
    unknown: number;
    /** Routes decided for some request but absent from the log's successful attempts. */
    unknownRoutes: string[];
    baseMeanMs: number | null;
    headMeanMs: number | null;
    /** Mean estimated change per request (over `known` requests). */
    deltaMs: number | null;
  };
  /** Present with `--fail-on-flip`: the selectors, how many flipped requests they matched. */
  failOnFlip?: { selectors: string[]; matched: number; failed: boolean };
}
