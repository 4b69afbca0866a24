/**
 * Server configuration: command-line flags over environment variables over defaults, parsed once
 * at start-up with zod. Nothing else reads flags or the environment for settings.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { processEnv } from "./policy/load.ts";

export const SIMULATE_MODES = ["auto", "never", "always"] as const;
export type SimulateMode = typeof SIMULATE_MODES[number];

const Int = z.coerce.number().int();

export const ConfigSchema = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: Int.min(0).max(65535).default(8080),
  policy: z.string().min(1).default("policies/default.yaml"),
  shadowPolicy: z.string().min(1).optional(),
  /**
   * `auto`: routes whose API key is not set are served by the built-in simulators. `never`: they
   * are unavailable (production). `always`: every route is simulated, keys or not.
   */
  simulate: z.enum(SIMULATE_MODES).default("auto"),
  maxBodyBytes: Int.positive().default(4 * 1024 * 1024),
  requestTimeoutMs: Int.positive().default(600_000),
  maxConcurrentUpstream: Int.positive().default(512),
  /** How long a request waits for an upstream slot before a 503. */
  queueTimeoutMs: Int.min(0).default(2_000),
  shutdownGraceMs: Int.min(0).default(10_000),
  reloadDebounceMs: Int.min(0).default(250),
  watch: z.boolean().default(true),
  /** Longest `Retry-After` honoured before retrying the same route instead of falling back. */
  maxRetryAfterMs: Int.min(0).default(2_000),
  circuitFailureThreshold: Int.positive().default(5),
  circuitOpenMs: Int.positive().default(30_000),
  /** Client keys file (hashes only). When set, every API call needs `Authorization: Bearer`. */
  keysFile: z.string().optional(),
  /** Budgets as code; a missing file means no budgets (spend is still recorded). */
  budgetsFile: z.string().default("policies/budgets.yaml"),
  /**
   * The spend store: `journal:<path>` (embedded, one process), `kv:<path>` (embedded Deno KV),
   * `redis://host:port` (shared by instances), or `none`.
   */
  store: z.string().default("journal:.switchyard/spend.journal"),
  /**
   * Journal store only: how often the journal is flushed to disk, in ms (0: before every record
   * returns). A killed process loses nothing either way; this bounds what a power loss can lose.
   */
  storeFsyncMs: Int.min(0).default(1000),
  /** Key prefix in a shared Redis store (instances that share budgets share the namespace). */
  storeNamespace: z.string().default("switchyard"),
  /** Append one JSON line per decided request here (off when unset). */
  decisionLog: z.string().optional(),
  decisionLogSampleRate: z.coerce.number().min(0).max(1).default(1),
  /** Rotate the decision log past this size (bytes); 0 means no size rotation. */
  decisionLogMaxBytes: Int.min(0).default(100 * 1024 * 1024),
  decisionLogDaily: z.boolean().default(false),
  /** Salt for hashing key ids in the decision log (set it to keep hashes stable across restarts). */
  logSalt: z.string().optional(),
  /** Admin key (plaintext, from the environment) for /v1/policy and /v1/spend. */
  adminKey: z.string().min(16).optional(),
  appReferer: z.string().default("https://github.com/switchyard/switchyard"),
  appTitle: z.string().default("Switchyard"),
  /** How long after a gateway attempt to first ask for its generation stats (OpenRouter). */
  gatewayStatsDelayMs: Int.positive().default(1500),
  /** Run the request path on synthetic requests at start, so the first clients find it fast. */
  warmUp: z.boolean().default(true),
  /** Record prompt and completion text in spans (off by default: privacy). */
  captureContent: z.boolean().default(false),
  /**
   * Which routing headers chat responses carry. `full`: policy, rule, route, via, attempts and
   * overhead. `minimal`: none of them (only the request and trace ids, and the simulated flag),
   * for clients that should not see how requests are routed.
   */
  responseHeaders: z.enum(["full", "minimal"]).default("full"),
  /**
   * How upstream requests go out. `http1`: Switchyard's own HTTP/1.1 client with pooled
   * keep-alive connections (the fast path). `fetch`: Deno's fetch (HTTP/2, proxies). `auto`:
   * http1, unless HTTPS_PROXY, HTTP_PROXY or ALL_PROXY is set.
   */
  upstreamClient: z.enum(["auto", "http1", "fetch"]).default("auto"),
  /** Simulator speed: latency profiles are multiplied by this (0.01 in tests). */
  simLatencyScale: z.coerce.number().positive().default(1),
});
export type Config = z.infer<typeof ConfigSchema>;

/** Flags and the environment variables behind them. */
const SETTINGS: Record<string, { flag: string; env: string; boolean?: boolean }> = {
  host: { flag: "host", env: "HOST" },
  port: { flag: "port", env: "PORT" },
  policy: { flag: "policy", env: "SWITCHYARD_POLICY" },
  shadowPolicy: { flag: "shadow-policy", env: "SWITCHYARD_SHADOW_POLICY" },
  simulate: { flag: "simulate", env: "SWITCHYARD_SIMULATE" },
  maxBodyBytes: { flag: "max-body-bytes", env: "SWITCHYARD_MAX_BODY_BYTES" },
  requestTimeoutMs: { flag: "request-timeout-ms", env: "SWITCHYARD_REQUEST_TIMEOUT_MS" },
  maxConcurrentUpstream: {
    flag: "max-concurrent-upstream",
    env: "SWITCHYARD_MAX_CONCURRENT_UPSTREAM",
  },
  queueTimeoutMs: { flag: "queue-timeout-ms", env: "SWITCHYARD_QUEUE_TIMEOUT_MS" },
  shutdownGraceMs: { flag: "shutdown-grace-ms", env: "SWITCHYARD_SHUTDOWN_GRACE_MS" },
  reloadDebounceMs: { flag: "reload-debounce-ms", env: "SWITCHYARD_RELOAD_DEBOUNCE_MS" },
  watch: { flag: "watch", env: "SWITCHYARD_WATCH", boolean: true },
  maxRetryAfterMs: { flag: "max-retry-after-ms", env: "SWITCHYARD_MAX_RETRY_AFTER_MS" },
  circuitFailureThreshold: {
    flag: "circuit-failure-threshold",
    env: "SWITCHYARD_CIRCUIT_FAILURE_THRESHOLD",
  },
  circuitOpenMs: { flag: "circuit-open-ms", env: "SWITCHYARD_CIRCUIT_OPEN_MS" },
  keysFile: { flag: "keys", env: "SWITCHYARD_KEYS_FILE" },
  budgetsFile: { flag: "budgets", env: "SWITCHYARD_BUDGETS_FILE" },
  store: { flag: "store", env: "SWITCHYARD_STORE" },
  storeNamespace: { flag: "store-namespace", env: "SWITCHYARD_STORE_NAMESPACE" },
  storeFsyncMs: { flag: "store-fsync-ms", env: "SWITCHYARD_STORE_FSYNC_MS" },
  decisionLog: { flag: "decision-log", env: "SWITCHYARD_DECISION_LOG" },
  decisionLogSampleRate: {
    flag: "decision-log-sample-rate",
    env: "SWITCHYARD_DECISION_LOG_SAMPLE_RATE",
  },
  decisionLogMaxBytes: { flag: "decision-log-max-bytes", env: "SWITCHYARD_DECISION_LOG_MAX_BYTES" },
  decisionLogDaily: {
    flag: "decision-log-daily",
    env: "SWITCHYARD_DECISION_LOG_DAILY",
    boolean: true,
  },
  logSalt: { flag: "log-salt-from-env-only", env: "SWITCHYARD_LOG_SALT" },
  adminKey: { flag: "admin-key-from-env-only", env: "SWITCHYARD_ADMIN_KEY" },
  appReferer: { flag: "app-referer", env: "SWITCHYARD_APP_REFERER" },
  appTitle: { flag: "app-title", env: "SWITCHYARD_APP_TITLE" },
  simLatencyScale: { flag: "sim-latency-scale", env: "SWITCHYARD_SIM_LATENCY_SCALE" },
  captureContent: { flag: "capture-content", env: "SWITCHYARD_CAPTURE_CONTENT", boolean: true },
  responseHeaders: { flag: "response-headers", env: "SWITCHYARD_RESPONSE_HEADERS" },
  upstreamClient: { flag: "upstream-client", env: "SWITCHYARD_UPSTREAM_CLIENT" },
  warmUp: { flag: "warm-up", env: "SWITCHYARD_WARM_UP", boolean: true },
  gatewayStatsDelayMs: {
    flag: "gateway-stats-delay-ms",
    env: "SWITCHYARD_GATEWAY_STATS_DELAY_MS",
  },
};

/** A configuration mistake, reported before anything starts. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses flags and environment into a Config. `env` is injectable for tests. */
export function loadConfig(
  args: string[],
  env: (name: string) => string | undefined = processEnv,
): Config {
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const setting of Object.values(SETTINGS)) {
    if (setting.flag.endsWith("-from-env-only")) continue; // secrets never on the command line
    options[setting.flag] = { type: setting.boolean ? "boolean" : "string" };
    if (setting.boolean) options[`no-${setting.flag}`] = { type: "boolean" };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, allowPositionals: false, strict: true }));
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  const raw: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS)) {
    let value: unknown = values[setting.flag];
    if (setting.boolean && values[`no-${setting.flag}`]) value = false;
    if (value === undefined) {
      const fromEnv = env(setting.env);
      if (fromEnv !== undefined && fromEnv !== "") {
        value = setting.boolean ? !/^(0|false|no|off)$/i.test(fromEnv) : fromEnv;
      }
    }
    if (value !== undefined) raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = SETTINGS[String(issue.path[0])];
    throw new ConfigError(
      `Invalid ${
        setting ? `--${setting.flag} / ${setting.env}` : issue.path.join(".")
      }: ${issue.message}`,
    );
  }
  return parsed.data;
}
