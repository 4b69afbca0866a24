/** Everything a request handler needs, built once by `createApp`. */
import type { Config } from "../config.ts";
import type { HealthBoard } from "../routing/health.ts";
import type { Limiter } from "../routing/limiter.ts";
import type { ActivePolicy } from "../routing/runtime.ts";
import type { Authenticator } from "./auth.ts";
import type { PolicyHolder } from "./policies.ts";
import type { Ledger } from "../budget/ledger.ts";
import type { DecisionLog } from "../log/writer.ts";
import type { ShadowStats } from "./decision_log.ts";
import type { GatewayStatsFetcher } from "../telemetry/gateway_stats.ts";
import type { UpstreamClient } from "../upstream/transport.ts";

export interface ServerContext {
  config: Config;
  policies: PolicyHolder;
  health: HealthBoard;
  limiter: Limiter;
  /** Sends upstream requests, over connections it keeps alive. */
  upstreams: UpstreamClient;
  auth?: Authenticator;
  adminKeyHash?: Uint8Array;
  log: (line: string) => void;
  /** The spend ledger (budgets, admission, settlement), when accounting is on. */
  ledger?: Ledger;
  /** The decision log, when one is configured. */
  decisionLog?: DecisionLog;
  /** Salt for hashing key ids in the decision log. */
  logSalt: string;
  /** The candidate policy that decides every request without acting (`--shadow-policy`). */
  shadow?: PolicyHolder;
  /** How often the shadow policy agreed with the real one. */
  shadowStats: ShadowStats;
  /** Completes gateway attempt spans with the gateway's own stats, off the request path. */
  gatewayStats: GatewayStatsFetcher;
  /** True once shutdown began: /readyz answers 503. */
  draining: boolean;
  /** Brings `routes.<name>.health` facts up to date, at most every 250 ms. */
  refreshHealth(active: ActivePolicy): void;
}

/** How often live health is copied into the facts. */
const HEALTH_REFRESH_MS = 250;

/** A throttled refresher for route health facts. */
export function healthRefresher(health: HealthBoard): (active: ActivePolicy) => void {
  let last = 0;
  let lastActive: ActivePolicy | undefined;
  return (active) => {
    const now = performance.now();
    if (active === lastActive && now - last < HEALTH_REFRESH_MS) return;
    last = now;
    lastActive = active;
    health.refresh(active.routeFacts);
  };
}
