/**
 * The streaming phase: sequential `stream: true` requests on one kept-alive connection, after a
 * few discarded warm-up streams. Time to first byte is the first *body* byte; time to first
 * content, the first chunk with generated text (a router that holds the role chunk until content
 * arrives, to be able to fall back unseen, pays for it in the first and not in the second). A
 * stream that does not end with `data: [DONE]` is an error. Bounded in count and in time.
 */
import { type ClientFactory, endedWithDone } from "./http_client.ts";
import { quantilesUs } from "./stats.ts";

/** How one streaming run is shaped. */
export interface StreamingOptions {
  open: ClientFactory;
  count: number;
  warmup: number;
  maxSeconds: number;
}

/** One streaming run's figures, in µs. */
export interface StreamingResult {
  streams: number;
  ttfbP50: number;
  ttfbP99: number;
  /** Absent in results saved before it was measured. */
  ttfcP50?: number;
  ttfcP99?: number;
  totalP50: number;
  totalP99: number;
  errors: number;
}

/** Runs the streams one after another against one target. */
export async function runStreaming(options: StreamingOptions): Promise<StreamingResult> {
  const client = await options.open();
  const ttfb: number[] = [];
  const ttfc: number[] = [];
  const total: number[] = [];
  let errors = 0;
  const stopAt = performance.now() + options.maxSeconds * 1000;
  try {
    for (let i = 0; i < options.warmup + options.count && performance.now() < stopAt; i++) {
      try {
        const ex = await client.exchange();
        if (i < options.warmup) continue;
        if (ex.status !== 200 || !endedWithDone(ex)) {
          errors++;
          continue;
        }
        ttfb.push(ex.firstByte - ex.sent);
        ttfc.push(ex.firstContent - ex.sent);
        total.push(ex.end - ex.sent);
      } catch {
        if (i >= options.warmup) errors++;
        client.close();
      }
    }
  } finally {
    client.close();
  }
  const t = quantilesUs(ttfb);
  const c = quantilesUs(ttfc);
  const all = quantilesUs(total);
  return {
    streams: ttfb.length,
    ttfbP50: t.p50,
    ttfbP99: t.p99,
    ttfcP50: c.p50,
    ttfcP99: c.p99,
    totalP50: all.p50,
    totalP99: all.p99,
    errors,
  };
}
