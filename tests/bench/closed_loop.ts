/**
 * The closed-loop phases: `connections` clients each send their next request as soon as the last
 * one is answered. Max throughput runs for a time; the memory phase runs for a request count.
 * Both are bounded in count and in time.
 */
import type { Client, ClientFactory } from "./http_client.ts";

/** How one closed-loop run is shaped. */
export interface ClosedLoopOptions {
  open: ClientFactory;
  connections: number;
  /** Stop issuing after this long. */
  seconds: number;
  /** Stop issuing after this many requests (all connections together). */
  maxRequests: number;
}

/** One closed-loop run's figures. */
export interface ClosedLoopResult {
  requests: number;
  errors: number;
  seconds: number;
  /** Completed requests per second. */
  rps: number;
}

/** Runs `connections` clients in a closed loop until the time or the request count runs out. */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const clients: Client[] = await Promise.all(
    Array.from({ length: options.connections }, () => options.open()),
  );
  let issued = 0;
  let requests = 0;
  let errors = 0;
  const start = performance.now();
  const stopAt = start + options.seconds * 1000;
  const loop = async (client: Client) => {
    while (issued < options.maxRequests && performance.now() < stopAt) {
      issued++;
      try {
        const ex = await client.exchange();
        if (ex.status === 200) requests++;
        else errors++;
      } catch {
        errors++;
        client.close();
      }
    }
  };
  try {
    await Promise.all(clients.map(loop));
  } finally {
    for (const client of clients) client.close();
  }
  const seconds = (performance.now() - start) / 1000;
  return { requests, errors, seconds, rps: requests / seconds };
}
