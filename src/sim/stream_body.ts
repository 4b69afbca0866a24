/**
 * Turns a simulator's async generator of SSE bytes into a response body that the server writes
 * chunk by chunk. Yielding `CUT` errors the body, which makes the server drop the connection
 * mid-stream; a generator that stops yielding (a stall) keeps the connection open until the
 * client leaves.
 */

/** Yielded by a body generator to drop the connection mid-body. */
export const CUT: unique symbol = Symbol("cut");

/** A pull-driven body over `source`; cancelling the body (the client left) ends the generator. */
export function streamBody(
  source: AsyncGenerator<Uint8Array | typeof CUT>,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await source.next();
      if (done) controller.close();
      else if (value === CUT) {
        controller.error(new Error("Simulated connection cut"));
        await source.return(undefined);
      } else controller.enqueue(value);
    },
    async cancel() {
      await source.return(undefined);
    },
  });
}

/** Standard headers for an SSE response. */
export const SSE_HEADERS: Record<string, string> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
};
