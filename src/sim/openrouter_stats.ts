/**
 * The simulated gateway's generation log, served as OpenRouter's `GET /api/v1/generation?id=`.
 * OpenRouter's own share of a request's time can be estimated from it: client-observed time −
 * `generation_time` − `moderation_latency` (an estimate: queueing and network are folded in).
 */

/** One generation's stats, in OpenRouter's field names. */
export interface GenerationStats {
  id: string;
  upstream_id: string | null;
  model: string;
  provider_name: string;
  created_at: string;
  streamed: boolean;
  cancelled: boolean;
  /** Whole request at the gateway, ms. */
  latency: number;
  /** From the gateway's request to the provider until its last byte, ms. */
  generation_time: number;
  moderation_latency: number;
  total_cost: number;
  usage: number;
  tokens_prompt: number;
  tokens_completion: number;
  native_tokens_prompt: number;
  native_tokens_completion: number;
  native_tokens_cached: number;
  native_tokens_reasoning: number;
  finish_reason: string | null;
  native_finish_reason: string | null;
  origin: string;
  app_id: null;
  is_byok: boolean;
  api_type: "completions";
}

/** Remembers recent generations; each becomes readable `delayMs` after it completes. */
export class GenerationLog {
  #entries = new Map<string, { stats: GenerationStats; readyAt: number }>();
  constructor(readonly delayMs = 0) {}

  /** Records a finished (or cancelled) generation. */
  record(stats: GenerationStats, now = Date.now()): void {
    this.#entries.set(stats.id, { stats, readyAt: now + this.delayMs });
    if (this.#entries.size > 1000) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** The stats, once available. */
  get(id: string, now = Date.now()): GenerationStats | undefined {
    const entry = this.#entries.get(id);
    return entry && entry.readyAt <= now ? entry.stats : undefined;
  }
}
