/**
 * Which services the simulator fleet runs, where each one's API lives under its origin, and its
 * latency profile: plain data, shared by the fleet (fleet.ts), the child processes (process.ts)
 * and the parent that spawns them (spawn.ts), which must not load the simulators themselves.
 */
/** How fast a simulated model answers. */
export interface LatencyProfile {
  /** Median time to first token, ms. */
  ttft_ms: number;
  /** Output speed after the first token. */
  tokens_per_s: number;
  /** Relative jitter applied to every delay, 0..1 (0.2 = ±20%). */
  jitter: number;
}

/** The simulators a fleet runs. */
export const SIMULATED_PROVIDERS = [
  "openai",
  "anthropic",
  "gemini",
  "mistral",
  "openrouter",
] as const;
export type SimulatedProvider = typeof SIMULATED_PROVIDERS[number];

/**
 * Realistic latency per provider (time to first token 200–600 ms, 50–150 tokens/s), so routing
 * decisions see differences like the real ones. Tests override them with a few milliseconds.
 */
export const FLEET_LATENCY: Record<SimulatedProvider, LatencyProfile> = {
  openai: { ttft_ms: 380, tokens_per_s: 90, jitter: 0.25 },
  anthropic: { ttft_ms: 560, tokens_per_s: 65, jitter: 0.25 },
  gemini: { ttft_ms: 450, tokens_per_s: 140, jitter: 0.3 },
  mistral: { ttft_ms: 300, tokens_per_s: 110, jitter: 0.25 },
  // The gateway's own generation profile is unused: it forwards; its overhead is `gateway`.
  openrouter: { ttft_ms: 0, tokens_per_s: 0, jitter: 0 },
};

export const BASE_PATHS: Record<SimulatedProvider, string> = {
  openai: "/v1",
  anthropic: "/v1",
  gemini: "/v1beta",
  mistral: "/v1",
  openrouter: "/api/v1",
};
