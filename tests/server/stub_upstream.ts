/**
 * A scripted OpenAI-compatible upstream for server tests. The simulators record headers only; this
 * one records every request body too, fails the paths a test names, and can hold a stream after
 * its first content chunk until the test releases it, so "a request in flight" is a state the test
 * controls instead of a race against a timer.
 */

/** One request the stub received. */
export interface StubRequest {
  path: string;
  headers: Headers;
  body: Record<string, unknown>;
}

export interface StubOptions {
  /** An HTTP status to fail a request with, by path (e.g. 503 for a gateway's path). */
  failStatus?: (path: string) => number | undefined;
  /** Hold every stream after its first content chunk until `release()`. */
  hold?: boolean;
  /** Content chunks per stream. Default 4. */
  chunks?: number;
}

/** A running stub; closing it releases held streams first. */
export interface StubUpstream extends AsyncDisposable {
  /** E.g. `http://127.0.0.1:41234`; routes use `${origin}/<anything>/v1` as `base_url`. */
  origin: string;
  /** The chat requests received, in order. */
  seen: StubRequest[];
  /** Resolves once a held stream has sent its first chunk. */
  holding: Promise<void>;
  /** Lets held streams finish. */
  release(): void;
  close(): Promise<void>;
}

const encoder = new TextEncoder();

function chunk(model: string, delta: Record<string, unknown>, finish: string | null = null) {
  const body = {
    id: "chatcmpl-stub",
    object: "chat.completion.chunk",
    created: 1,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
}

function completion(model: string) {
  return {
    id: "chatcmpl-stub",
    object: "chat.completion",
    created: 1,
    model,
    choices: [{
      index: 0,
      message: { role: "assistant", content: `stub answer from ${model}` },
      finish_reason: "stop",
    }],
    usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
  };
}

/** Starts the stub on an ephemeral loopback port. */
export function startStubUpstream(options: StubOptions = {}): StubUpstream {
  const seen: StubRequest[] = [];
  const gate = Promise.withResolvers<void>();
  const holding = Promise.withResolvers<void>();
  if (!options.hold) gate.resolve();
  const chunks = options.chunks ?? 4;

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    // Only chat requests are scripted (and recorded); anything else, e.g. a gateway stats lookup,
    // is a 404 as from an upstream that does not have it.
    if (req.method !== "POST" || !path.endsWith("/chat/completions")) {
      return Response.json({ error: { message: `Not found: ${path}` } }, { status: 404 });
    }
    const body = await req.json() as Record<string, unknown>;
    seen.push({ path, headers: req.headers, body });
    const status = options.failStatus?.(path);
    if (status !== undefined) {
      return Response.json({
        error: { message: `stub failure ${status}`, type: "server_error", code: null },
      }, { status });
    }
    const model = String(body.model);
    if (body.stream !== true) return Response.json(completion(model));
    const cancelled = Promise.withResolvers<void>();
    let gone = false;
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(chunk(model, { role: "assistant", content: "" }));
        controller.enqueue(chunk(model, { content: `stub 0 from ${model}` }));
        holding.resolve();
        await Promise.race([gate.promise, cancelled.promise]);
        if (gone) return;
        for (let i = 1; i < chunks; i++) controller.enqueue(chunk(model, { content: ` ${i}` }));
        controller.enqueue(chunk(model, {}, "stop"));
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
      },
      cancel() {
        gone = true;
        cancelled.resolve();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  });

  const close = async () => {
    gate.resolve();
    await server.shutdown();
  };
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    seen,
    holding: holding.promise,
    release: () => gate.resolve(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
