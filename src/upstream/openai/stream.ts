/**
 * OpenAI-compatible SSE → canonical stream events. This is the hot path: most chunks are passed
 * on as the upstream's own `data` text, unparsed. A chunk is parsed only when it may need
 * reading or rewriting: until the first content arrives (id, model, role, the gateway's
 * `provider`), and when it carries usage, a finish reason, an error, or a non-OpenAI shape
 * (Mistral's content arrays and object arguments).
 */
import type { StreamEvent, StreamOptions, StreamTranslator } from "../adapter.ts";
import { translatorStream } from "../translate.ts";
import type { SseEvent } from "../sse.ts";
import { UpstreamError } from "../errors.ts";
import { errorInBody } from "./errors.ts";
import {
  canonicalFinish,
  contentString,
  normalizeWireUsage,
  type WireChunk,
  WireChunkSchema,
} from "./wire.ts";

/**
 * A key (not inside a string: no backslash before its quote) whose value needs reading: usage,
 * an error (OpenAI's `error` object, Mistral's and vLLM's `object: "error"`), a finish reason,
 * or content and arguments that are not strings.
 */
const NEEDS_PARSE =
  /(?<!\\)"(?:usage|error)":\s*[{"]|(?<!\\)"object":\s*"error"|(?<!\\)"finish_reason":\s*"|(?<!\\)"(?:content|arguments)":\s*[[{]/;
/** A delta with generated content: non-empty text or refusal, or tool call fragments. */
const HAS_CONTENT = /(?<!\\)"(?:content|refusal)":\s*"(?!")|(?<!\\)"tool_calls":\s*\[/;

/** Builds the translation of one stream. */
export function createTranslator(_options: StreamOptions): StreamTranslator {
  let seenContent = false;
  let finished = false;
  return {
    push(event, emit) {
      // Comments (OpenRouter's `: OPENROUTER PROCESSING`) are keep-alives, not content.
      if (finished || event.comment !== undefined || event.data === "") return;
      const data = event.data;
      if (data === "[DONE]") {
        finished = true;
        emit({ type: "done" });
        return;
      }
      if (seenContent && !NEEDS_PARSE.test(data)) {
        emit({ type: "chunk", data, content: HAS_CONTENT.test(data) });
        return;
      }
      const events = parsedChunk(data);
      for (const out of events) {
        if (out.type === "error") finished = true;
        if (out.type === "chunk" && out.content) seenContent = true;
        emit(out);
      }
    },
    end() {},
  };
}

/** Builds the transform for one stream. */
export function translateStream(options: StreamOptions): TransformStream<SseEvent, StreamEvent> {
  return translatorStream(createTranslator(options));
}

/** Reads one chunk, rewriting it only when it is not already canonical. */
function parsedChunk(data: string): StreamEvent[] {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (cause) {
    return [{ type: "error", error: malformed("A stream event is not JSON", cause) }];
  }
  const inBody = errorInBody(json);
  if (inBody) return [{ type: "error", error: inBody }];
  const parsed = WireChunkSchema.safeParse(json);
  if (!parsed.success) {
    return [{ type: "error", error: malformed("A stream event is not a chunk", parsed.error) }];
  }
  const chunk = parsed.data;
  const changed = canonicalize(chunk);
  const meta = { responseId: chunk.id, responseModel: chunk.model, servedBy: chunk.provider };
  const finishReason = chunk.choices.find((c) => c.finish_reason)?.finish_reason ?? undefined;
  const content = chunk.choices.some((c) =>
    !!c.delta && (!!c.delta.content || !!c.delta.refusal || (c.delta.tool_calls?.length ?? 0) > 0)
  );
  if (!chunk.usage) {
    return [{
      type: "chunk",
      data: changed ? JSON.stringify(chunk) : data,
      content,
      finishReason,
      ...meta,
    }];
  }
  const usage = normalizeWireUsage(chunk.usage);
  if (chunk.choices.length === 0) {
    return [{ type: "chunk", data, content: false, usage, usageOnly: true, ...meta }];
  }
  // Usage riding on a choice chunk (Mistral) is split off into OpenAI's own usage-only chunk, so
  // the server can withhold it from clients that did not ask for usage.
  const { usage: wireUsage, ...rest } = chunk;
  return [
    { type: "chunk", data: JSON.stringify(rest), content, finishReason, ...meta },
    {
      type: "chunk",
      data: JSON.stringify({ ...rest, choices: [], usage: wireUsage }),
      content: false,
      usage,
      usageOnly: true,
      ...meta,
    },
  ];
}

/** Rewrites non-OpenAI shapes in place; true when anything changed. */
function canonicalize(chunk: WireChunk): boolean {
  let changed = chunk.object !== "chat.completion.chunk";
  chunk.object = "chat.completion.chunk";
  for (const choice of chunk.choices) {
    if (choice.finish_reason) {
      const finish = canonicalFinish(choice.finish_reason);
      if (finish !== choice.finish_reason) {
        choice.finish_reason = finish;
        changed = true;
      }
    }
    const delta = choice.delta;
    if (!delta) {
      choice.delta = {};
      changed = true;
      continue;
    }
    if (Array.isArray(delta.content)) {
      delta.content = contentString(delta.content);
      changed = true;
    }
    for (const call of delta.tool_calls ?? []) {
      if (call.function.arguments !== undefined && typeof call.function.arguments !== "string") {
        call.function.arguments = JSON.stringify(call.function.arguments);
        changed = true;
      }
    }
  }
  return changed;
}

function malformed(message: string, cause: unknown): UpstreamError {
  return new UpstreamError("malformed", message, { cause });
}
