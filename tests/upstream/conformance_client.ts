/**
 * The conformance suite's client side: starts a spec's simulator and talks to it the way
 * `routing/` will, through the `Adapter` interface only.
 */
import type {
  Completion,
  StreamEvent,
  StreamOptions,
  UpstreamTarget,
} from "../../src/upstream/adapter.ts";
import type { ChatChunk, ChatRequest, ToolCall } from "../../src/upstream/types.ts";
import { SseParser } from "../../src/upstream/sse.ts";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.ts";
import type { SimulatorOptions } from "../../src/sim/engine.ts";
import { CONFORMANCE_KEY, CONFORMANCE_OPTIONS, type ConformanceSpec } from "./conformance.ts";

/** What a translated stream produced, and how it ended. */
export interface StreamResult {
  events: StreamEvent[];
  /** The `data` of every chunk event, parsed. */
  chunks: ChatChunk[];
  /** Set when reading the stream failed (a cut connection). */
  failure?: unknown;
}

/** A started simulator plus a client for it. */
export interface Harness extends AsyncDisposable {
  sim: RunningSimulator;
  target: UpstreamTarget;
  /** Builds the upstream request and sends it; the caller owns the response body. */
  send(
    req: ChatRequest,
    options?: StreamOptions,
    init?: { target?: UpstreamTarget; signal?: AbortSignal },
  ): Promise<Response>;
  /** A non-streaming call: the translated completion, or the adapter's `UpstreamError`. */
  complete(req: ChatRequest, options?: StreamOptions): Promise<Completion>;
  /** A streaming call, read to its end through `SseParser` and `adapter.stream()`. */
  stream(req: ChatRequest, options?: StreamOptions): Promise<StreamResult>;
}

const USAGE: StreamOptions = { includeUsage: true };

/** Starts the spec's simulator with the suite's options (plus `overrides`). */
export async function startHarness(
  spec: ConformanceSpec,
  overrides: SimulatorOptions = {},
): Promise<Harness> {
  const fixture = typeof spec.simulator === "function" ? undefined : await spec.simulator.start();
  const factory = typeof spec.simulator === "function" ? spec.simulator : fixture!.factory;
  const sim = await startSimulator(factory, { ...CONFORMANCE_OPTIONS, ...overrides }).catch(
    async (error) => {
      await fixture?.[Symbol.asyncDispose]();
      throw error;
    },
  );
  const target: UpstreamTarget = {
    route: "conformance",
    provider: spec.adapter.provider,
    model: spec.model,
    baseUrl: sim.origin + spec.baseUrlPath,
    apiKey: CONFORMANCE_KEY,
    ...spec.target,
  };
  const { adapter } = spec;
  const send: Harness["send"] = (req, options = USAGE, init = {}) => {
    const upstream = adapter.request(req, init.target ?? target, options);
    return fetch(upstream.url, {
      method: "POST",
      headers: upstream.headers,
      body: upstream.body,
      signal: init.signal,
    });
  };
  return {
    sim,
    target,
    send,
    async complete(req, options = USAGE) {
      const response = await send({ ...req, stream: false }, options);
      const body = await response.text();
      if (!response.ok) throw adapter.error(response.status, body, response.headers);
      return adapter.response(body, target);
    },
    async stream(req, options = USAGE) {
      const response = await send({ ...req, stream: true }, options);
      if (!response.ok) {
        throw adapter.error(response.status, await response.text(), response.headers);
      }
      const result: StreamResult = { events: [], chunks: [] };
      const events = response.body!.pipeThrough(new SseParser()).pipeThrough(
        adapter.stream(target, options),
      );
      try {
        for await (const event of events) {
          result.events.push(event);
          if (event.type === "chunk") result.chunks.push(JSON.parse(event.data));
        }
      } catch (error) {
        result.failure = error;
      }
      return result;
    },
    async [Symbol.asyncDispose]() {
      await sim.close();
      await fixture?.[Symbol.asyncDispose]();
    },
  };
}

/** The streamed text, deltas joined in arrival order. */
export function streamedText(chunks: ChatChunk[]): string {
  let text = "";
  for (const chunk of chunks) {
    for (const choice of chunk.choices) text += choice.delta.content ?? "";
  }
  return text;
}

/** Tool calls rebuilt from their deltas (id and name first, then argument fragments). */
export function streamedToolCalls(chunks: ChatChunk[]): ToolCall[] {
  const calls: ToolCall[] = [];
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = calls[delta.index] ??= {
          id: "",
          type: "function",
          function: { name: "", arguments: "" },
        };
        if (delta.id) call.id = delta.id;
        if (delta.function?.name) call.function.name += delta.function.name;
        call.function.arguments += delta.function?.arguments ?? "";
      }
    }
  }
  return calls;
}

/** Every finish reason the stream reported, in order. */
export function finishReasons(events: StreamEvent[]): string[] {
  return events.flatMap((e) => e.type === "chunk" && e.finishReason ? [e.finishReason] : []);
}
