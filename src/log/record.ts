/**
 * One line of the decision log: everything needed to replay a request's decision through another
 * policy and to estimate what a change would cost, and nothing that could leak a prompt, a
 * completion or a key. Written by the server (one JSON object per line), read by
 * `policy:replay` and `policy:diff`.
 */
import type { Facts } from "../facts/facts.ts";

/** Bumped when a field changes meaning; readers accept every version they know. */
export const DECISION_LOG_VERSION = 1;

/** One upstream attempt of a logged request. */
export interface LoggedAttempt {
  route: string;
  via: "direct" | "gateway";
  /** `ok`, or the UpstreamErrorKind that ended the attempt (`timeout_first_byte`, `skipped:…`). */
  outcome: string;
  /** Attempt duration (to the last byte for streams), milliseconds. */
  latency_ms: number;
  /** Time to first token for streams, milliseconds. */
  ttft_ms?: number;
  status?: number;
}

/** What a policy decided, in the log. */
export interface LoggedDecision {
  rule: string | null;
  route: string;
  via: "direct" | "gateway";
  fallbacks: string[];
}

export interface DecisionRecord {
  v: typeof DECISION_LOG_VERSION;
  /** ISO 8601, UTC. */
  ts: string;
  request_id: string;
  trace_id?: string;
  /**
   * The key split rules were bucketed on, when it was neither `facts.request.user` nor
   * `request_id` (a session header): replays then pick the same split arm as the server did.
   */
  sticky_key?: string;
  policy: { name: string; version: string; hash: string };
  /**
   * The facts the decision was made on, as built for the request. `key.id` is replaced by a
   * salted hash; there is no prompt or completion text in facts by construction.
   */
  facts: Facts;
  decision: LoggedDecision;
  /** The candidate policy's would-be decision (`--shadow-policy`), when one is loaded. */
  shadow?: LoggedDecision & { policy: { name: string; version: string; hash: string } };
  attempts: LoggedAttempt[];
  /** The route that finally served, if any. */
  served_by?: string;
  status: number;
  usage?: { input_tokens: number; output_tokens: number; cached_input_tokens: number };
  /** True when no usage arrived (a cut stream) and the output tokens were estimated. */
  usage_estimated?: boolean;
  cost_usd?: number;
  /** `reported` by the gateway, or `computed` from usage × the route's prices. */
  cost_source?: "reported" | "computed";
  /** Total request time as Switchyard saw it, milliseconds. */
  duration_ms: number;
}
