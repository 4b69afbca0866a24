/**
 * The simulated gateway's relay: calls the picked providers in order until one answers, and
 * re-labels the answer as OpenRouter's (its generation id, its model id, `provider`, `usage.cost`,
 * `native_finish_reason`). A stream is committed once the 200 went out, so later failures, the
 * provider's or the gateway's own injected ones, travel in-band as SSE error events.
 */
import type { StreamEvent } from "../upstream/adapter.ts";
import type { ChatRequest, NormalizedUsage } from "../upstream/types.ts";
import { UpstreamError } from "../upstream/errors.ts";
import { encodeSse, SSE_DONE, SseParser } from "../upstream/sse.ts";
import type { FaultMode } from "./engine.ts";
import { never, RESET_CONNECTION } from "./server.ts";
import { callProvider, type Candidate, providerRequest } from "./openrouter_routing.ts";
import type { GenerationLog } from "./openrouter_stats.ts";
import { CUT } from "./stream_body.ts";
import { failureResponse } from "./openrouter_errors.ts";
import { cost, wireUsage } from "./openrouter_billing.ts";

/** Everything one relayed request needs. */
export interface RelayContext {
  id: string;
  req: ChatRequest;
  picked: Candidate[];
  /** `performance.now()` when the gateway received the request. */
  received: number;
  moderation: number;
  traceparent: string | null;
  referer: string;
  log: GenerationLog;
  signal: AbortSignal;
  /** The gateway's own injected fault for this request. */
  mode: FaultMode;
  afterChunks: number;
  keepAliveMs: number;
}

const encoder = new TextEncoder();
const PROCESSING = encoder.encode(": OPENROUTER PROCESSING\n\n");

/** Logs one generation for `GET /generation`. */
function record(
  ctx: RelayContext,
  candidate: Candidate,
  outcome: {
    usage?: NormalizedUsage;
    generationMs: number;
    finish: string | null;
    upstreamId?: string;
    streamed: boolean;
    cancelled: boolean;
  },
): void {
  const usd = cost(candidate, outcome.usage);
  ctx.log.record({
    id: ctx.id,
    upstream_id: outcome.upstreamId ?? null,
    model: candidate.model,
    provider_name: candidate.provider.name,
    created_at: new Date().toISOString(),
    streamed: outcome.streamed,
    cancelled: outcome.cancelled,
    latency: Math.round(performance.now() - ctx.received),
    generation_time: Math.round(outcome.generationMs),
    moderation_latency: ctx.moderation,
    total_cost: usd,
    usage: usd,
    tokens_prompt: outcome.usage?.input_tokens ?? 0,
    tokens_completion: outcome.usage?.output_tokens ?? 0,
    native_tokens_prompt: outcome.usage?.input_tokens ?? 0,
    native_tokens_completion: outcome.usage?.output_tokens ?? 0,
    native_tokens_cached: outcome.usage?.cached_input_tokens ?? 0,
    native_tokens_reasoning: outcome.usage?.reasoning_tokens ?? 0,
    finish_reason: outcome.finish,
    native_finish_reason: outcome.finish,
    origin: ctx.referer,
    app_id: null,
    is_byok: false,
    api_type: "completions",
  });
}

/** A non-streaming request: the first provider that answers wins. */
export async function relayCompletion(
  ctx: RelayContext,
): Promise<Response | typeof RESET_CONNECTION> {
  let last: UpstreamError | undefined;
  let lastProvider = ctx.picked[0].provider.name;
  for (const candidate of ctx.picked) {
    const started = performance.now();
    lastProvider = candidate.provider.name;
    const reply = await callProvider(
      candidate,
      providerRequest(ctx.req),
      ctx.traceparent,
      ctx.signal,
    );
    if (ctx.signal.aborted) return RESET_CONNECTION;
    if (reply instanceof UpstreamError) {
      last = reply;
      continue;
    }
    try {
      const completion = candidate.provider.adapter.response(await reply.text(), candidate.target);
      const finish = completion.response.choices[0]?.finish_reason ?? null;
      record(ctx, candidate, {
        usage: completion.usage,
        generationMs: performance.now() - started,
        finish,
        upstreamId: completion.response.id,
        streamed: false,
        cancelled: false,
      });
      const body = {
        ...completion.response,
        id: ctx.id,
        provider: candidate.provider.name,
        model: candidate.model,
        object: "chat.completion",
        choices: completion.response.choices.map((c) => ({
          ...c,
          native_finish_reason: c.finish_reason,
        })),
        usage: wireUsage(completion.usage, cost(candidate, completion.usage)),
      };
      return Response.json(body, { headers: { "x-generation-id": ctx.id } });
    } catch (error) {
      last = error instanceof UpstreamError
        ? error
        : new UpstreamError("connection", String(error), { cause: error });
    }
  }
  return failureResponse(last, lastProvider);
}

/** Waits for `promise`, yielding a keep-alive comment every `ms` meanwhile. */
async function* keepAlive<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array, T | undefined> {
  const tick = Symbol("tick");
  // When the client leaves first, nobody awaits `promise`; its failure must not go unhandled.
  promise.catch(() => {});
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      promise,
      new Promise<typeof tick>((resolve) => timer = setTimeout(() => resolve(tick), ms)),
    ]).finally(() => clearTimeout(timer));
    if (outcome !== tick) return outcome as T;
    if (signal.aborted) return undefined;
    yield PROCESSING;
  }
}

/** A streaming request: comments while waiting, then the first provider that answers. */
export async function* relayStream(ctx: RelayContext): AsyncGenerator<Uint8Array | typeof CUT> {
  yield PROCESSING;
  const created = Math.floor(Date.now() / 1000);
  const errorEvent = (message: string, provider: string, code = 502) =>
    encodeSse(JSON.stringify({
      id: ctx.id,
      object: "chat.completion.chunk",
      created,
      model: ctx.req.model,
      provider,
      error: { code, message },
      choices: [{
        index: 0,
        delta: { content: "" },
        finish_reason: "error",
        native_finish_reason: "error",
      }],
    }));
  let last: UpstreamError | undefined;
  for (const candidate of ctx.picked) {
    const started = performance.now();
    const call = callProvider(
      candidate,
      providerRequest({ ...ctx.req, stream: true }),
      ctx.traceparent,
      ctx.signal,
    );
    const reply = yield* keepAlive(call, ctx.keepAliveMs, ctx.signal);
    if (reply === undefined || ctx.signal.aborted) return;
    if (reply instanceof UpstreamError) {
      last = reply;
      continue;
    }
    yield* relayEvents(ctx, candidate, reply, started, created, errorEvent);
    return;
  }
  yield errorEvent(last?.message ?? "Provider returned error", ctx.picked.at(-1)!.provider.name);
}

/** Re-labels one provider's translated stream as the gateway's, injecting the gateway's faults. */
async function* relayEvents(
  ctx: RelayContext,
  candidate: Candidate,
  reply: Response,
  started: number,
  created: number,
  errorEvent: (message: string, provider: string) => Uint8Array,
): AsyncGenerator<Uint8Array | typeof CUT> {
  const provider = candidate.provider.name;
  const reader = reply.body!.pipeThrough(new SseParser())
    .pipeThrough(candidate.provider.adapter.stream(candidate.target, { includeUsage: true }))
    .getReader();
  const midStream = ["mid_stream_cut", "mid_stream_stall", "sse_error", "error_in_200", "malformed"]
    .includes(ctx.mode);
  let usage: NormalizedUsage | undefined;
  let finish: string | null = null;
  let upstreamId: string | undefined;
  let sent = 0;
  let completed = false;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<StreamEvent>;
      try {
        const read = reader.read();
        next = sent === 0
          ? (yield* keepAlive(read, ctx.keepAliveMs, ctx.signal)) ??
            { done: true, value: undefined }
          : await read;
      } catch {
        yield errorEvent("Provider disconnected unexpectedly", provider);
        return;
      }
      if (next.done) {
        if (!ctx.signal.aborted) yield errorEvent("Provider ended the stream early", provider);
        return;
      }
      const event = next.value;
      if (event.type === "error") {
        yield errorEvent(event.error.message, provider);
        return;
      }
      if (
        midStream &&
        (event.type === "done" ||
          (event.type === "chunk" && event.content && sent === ctx.afterChunks))
      ) {
        if (ctx.mode === "mid_stream_cut") yield CUT;
        else if (ctx.mode === "mid_stream_stall") await never(ctx.signal);
        else if (ctx.mode === "malformed") yield encodeSse("<html>Bad gateway</html>");
        else yield errorEvent("Provider returned error", provider);
        return;
      }
      if (event.type === "done") {
        const usd = cost(candidate, usage);
        yield encodeSse(JSON.stringify({
          id: ctx.id,
          object: "chat.completion.chunk",
          created,
          model: candidate.model,
          provider,
          choices: [],
          usage: wireUsage(usage, usd),
        }));
        yield SSE_DONE;
        completed = true;
        return;
      }
      upstreamId ??= event.responseId;
      if (event.usage) usage = event.usage;
      if (event.usageOnly) continue;
      finish = event.finishReason ?? finish;
      const chunk = JSON.parse(event.data);
      delete chunk.usage;
      for (const choice of chunk.choices ?? []) {
        if (choice.finish_reason) choice.native_finish_reason = choice.finish_reason;
      }
      yield encodeSse(JSON.stringify({ ...chunk, id: ctx.id, model: candidate.model, provider }));
      if (event.content) sent++;
    }
  } finally {
    await reader.cancel().catch(() => {});
    record(ctx, candidate, {
      usage,
      generationMs: performance.now() - started,
      finish,
      upstreamId,
      streamed: true,
      cancelled: !completed && ctx.signal.aborted,
    });
  }
}
