/**
 * A plan rendered in the Messages API's wire format: a whole `message`, or the event sequence of
 * a stream (`message_start`, `content_block_start`, `ping`, `content_block_delta`…,
 * `content_block_stop`, `message_delta`, `message_stop`), paced like a real model.
 */
import { jittered, pace, type Plan, sleep } from "../engine.ts";
import type { LatencyProfile } from "../providers.ts";

/** Anthropic's usage block. `input_tokens` excludes the cached and cache-written parts. */
export interface AnthropicUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
}

/** A plan after stop sequences were applied, in Anthropic's terms. */
export interface Answer {
  id: string;
  model: string;
  text: string[];
  toolUse?: { id: string; name: string; input: string };
  stopReason: "end_turn" | "max_tokens" | "stop_sequence" | "tool_use";
  stopSequence: string | null;
  usage: AnthropicUsage;
}

/** One stream event: its `event:` name equals `data.type`. */
export interface AnthropicEvent {
  type: string;
  [k: string]: unknown;
}

/** Cuts the text at the earliest stop sequence, as the model stops generating there. */
function applyStops(tokens: string[], stops: string[]): { tokens: string[]; stop?: string } {
  const text = tokens.join("");
  let cut = -1;
  let found: string | undefined;
  for (const stop of stops) {
    const at = stop === "" ? -1 : text.indexOf(stop);
    if (at !== -1 && (cut === -1 || at < cut)) [cut, found] = [at, stop];
  }
  if (found === undefined) return { tokens };
  const kept: string[] = [];
  let length = 0;
  for (const token of tokens) {
    if (length + token.length > cut) {
      if (cut > length) kept.push(token.slice(0, cut - length));
      break;
    }
    kept.push(token);
    length += token.length;
  }
  return { tokens: kept, stop: found };
}

/** Turns the engine's plan into Anthropic's answer. */
export function toAnswer(
  plan: Plan,
  init: { id: string; model: string; stopSequences: string[]; cacheWrite: number },
): Answer {
  const { tokens, stop } = applyStops(plan.tokens, init.stopSequences);
  const cacheRead = plan.usage.cached;
  const cacheWrite = cacheRead > 0 ? 0 : init.cacheWrite;
  return {
    id: init.id,
    model: init.model,
    text: tokens,
    toolUse: plan.toolCall && {
      // Anthropic's tool ids look like `toolu_…`; the engine's are OpenAI-style `call_…`.
      id: plan.toolCall.id.replace(/^call_/, "toolu_"),
      name: plan.toolCall.name,
      input: plan.toolCall.arguments,
    },
    stopReason: stop !== undefined
      ? "stop_sequence"
      : plan.finish === "tool_calls"
      ? "tool_use"
      : plan.finish === "length"
      ? "max_tokens"
      : "end_turn",
    stopSequence: stop ?? null,
    usage: {
      input_tokens: Math.max(1, plan.usage.input - cacheRead - cacheWrite),
      cache_creation_input_tokens: cacheWrite,
      cache_read_input_tokens: cacheRead,
      // The stop sequence itself was generated, then withheld.
      output_tokens: stop !== undefined ? tokens.length + 1 : plan.usage.output,
    },
  };
}

/** The non-streaming `message` body. */
export function renderMessage(answer: Answer): Record<string, unknown> {
  const content: Record<string, unknown>[] = [];
  if (answer.text.length > 0) content.push({ type: "text", text: answer.text.join("") });
  if (answer.toolUse) {
    content.push({
      type: "tool_use",
      id: answer.toolUse.id,
      name: answer.toolUse.name,
      input: JSON.parse(answer.toolUse.input),
    });
  }
  return {
    id: answer.id,
    type: "message",
    role: "assistant",
    model: answer.model,
    content,
    stop_reason: answer.stopReason,
    stop_sequence: answer.stopSequence,
    usage: { ...answer.usage, service_tier: "standard" },
  };
}

/** Splits tool input JSON into the small fragments `input_json_delta` events carry. */
function jsonFragments(json: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < json.length; i += 9) out.push(json.slice(i, i + 9));
  return out;
}

/**
 * The stream's events, paced: `message_start` after the time to first token, then content at the
 * profile's rate. Stops early (without `message_stop`) when the signal aborts.
 */
export async function* streamEvents(
  answer: Answer,
  latency: LatencyProfile,
  rand: () => number,
  signal: AbortSignal,
): AsyncGenerator<AnthropicEvent> {
  if (!await sleep(jittered(latency.ttft_ms, latency.jitter, rand), signal)) return;
  yield {
    type: "message_start",
    message: {
      ...renderMessage(answer),
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...answer.usage, output_tokens: 1, service_tier: "standard" },
    },
  };
  const paced = { ...latency, ttft_ms: 0 };
  let index = 0;
  if (answer.text.length > 0) {
    yield { type: "content_block_start", index, content_block: { type: "text", text: "" } };
    yield { type: "ping" };
    for await (const text of pace(answer.text, paced, rand, signal)) {
      yield { type: "content_block_delta", index, delta: { type: "text_delta", text } };
    }
    if (signal.aborted) return;
    yield { type: "content_block_stop", index: index++ };
  }
  if (answer.toolUse) {
    const { id, name, input } = answer.toolUse;
    yield {
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id, name, input: {} },
    };
    if (index === 0) yield { type: "ping" };
    // The real API opens every tool input with an empty fragment.
    yield {
      type: "content_block_delta",
      index,
      delta: { type: "input_json_delta", partial_json: "" },
    };
    for await (const partial_json of pace(jsonFragments(input), paced, rand, signal)) {
      yield {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json },
      };
    }
    if (signal.aborted) return;
    yield { type: "content_block_stop", index };
  }
  yield {
    type: "message_delta",
    delta: { stop_reason: answer.stopReason, stop_sequence: answer.stopSequence },
    // Cumulative totals, as the API now repeats them here.
    usage: answer.usage,
  };
  yield { type: "message_stop" };
}
