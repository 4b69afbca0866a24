/**
 * Off the request path: after an attempt through a gateway that reports generation stats
 * (OpenRouter), ask for them a little later, and record on the attempt's span what the gateway
 * says — the provider it used, its generation id, the provider's generation time — and the
 * gateway's own overhead, estimated as observed time − generation time − moderation time. The
 * span keeps its real end time; it is only exported once the stats are in (or given up on).
 */
import { context, type Span, trace } from "@opentelemetry/api";
import type { Adapter, GenerationStats, UpstreamTarget } from "../upstream/adapter.ts";
import { recordGatewayOverhead } from "./metrics.ts";
import { SY } from "./names.ts";

export interface StatsTimings {
  /** Delay before the first ask, ms; OpenRouter publishes stats a few seconds after the end. */
  firstDelayMs: number;
  /** Asks in all (each waiting twice as long as the one before). */
  tries: number;
}

interface Pending {
  span: Span;
  endTime: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** Fetches gateway stats for finished attempts; `close()` ends whatever is still waiting. */
export class GatewayStatsFetcher {
  readonly #timings: StatsTimings;
  readonly #pending = new Set<Pending>();

  constructor(timings: StatsTimings = { firstDelayMs: 1500, tries: 4 }) {
    this.#timings = timings;
  }

  /** How many spans are waiting for stats. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Takes over ending `span`: it ends at `endTime` once stats arrived or the tries ran out.
   * `observedMs` is the attempt's duration as Switchyard saw it.
   */
  schedule(options: {
    span: Span;
    endTime: number;
    adapter: Adapter;
    target: UpstreamTarget;
    generationId: string;
    observedMs: number;
    route: string;
  }): void {
    const source = options.adapter.generationStats;
    if (!source) {
      options.span.end(options.endTime);
      return;
    }
    const pending: Pending = { span: options.span, endTime: options.endTime };
    this.#pending.add(pending);
    const spanContext = trace.setSpan(context.active(), options.span);
    const finish = (stats?: GenerationStats) => {
      if (!this.#pending.delete(pending)) return;
      if (stats) annotate(options.span, stats, options.observedMs, options.route);
      options.span.end(options.endTime);
    };
    const ask = async (attempt: number) => {
      const { url, headers } = source.request(options.target, options.generationId);
      try {
        const response = await context.with(spanContext, () => fetch(url, { headers }));
        const stats = response.ok ? source.parse(await response.text()) : undefined;
        if (!response.ok) await response.body?.cancel();
        if (stats) return finish(stats);
      } catch {
        // Unreachable for now: try again, or give up below.
      }
      if (attempt + 1 >= this.#timings.tries) return finish();
      pending.timer = setTimeout(
        () => ask(attempt + 1),
        this.#timings.firstDelayMs * 2 ** (attempt + 1),
      );
    };
    pending.timer = setTimeout(() => ask(0), this.#timings.firstDelayMs);
  }

  /** Ends every waiting span without stats (shutdown). */
  close(): void {
    for (const pending of [...this.#pending]) {
      clearTimeout(pending.timer);
      this.#pending.delete(pending);
      pending.span.end(pending.endTime);
    }
  }
}

function annotate(span: Span, stats: GenerationStats, observedMs: number, route: string) {
  if (stats.provider) span.setAttribute(SY.gatewayProvider, stats.provider);
  if (stats.latencyMs !== undefined) span.setAttribute(SY.gatewayLatencyMs, stats.latencyMs);
  if (stats.generationMs !== undefined) {
    span.setAttribute(SY.gatewayGenerationMs, stats.generationMs);
    const overhead = Math.max(0, observedMs - stats.generationMs - (stats.moderationMs ?? 0));
    span.setAttribute(SY.gatewayOverheadMs, Math.round(overhead * 100) / 100);
    recordGatewayOverhead(overhead, route);
  }
}
