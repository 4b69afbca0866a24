/**
 * Anthropic's named SSE events translated into OpenAI `chat.completion.chunk`s, one event at a
 * time, without holding anything back:
 *
 * - `message_start` → the first chunk, `delta: {role: "assistant", content: ""}`;
 * - `content_block_start` of a `tool_use` → a tool call delta with its index, id, name and empty
 *   arguments; of a text block → its initial text, if any;
 * - `content_block_delta`: `text_delta` → content; `input_json_delta` → an arguments fragment;
 * - `message_delta` → the finish chunk, then (when usage is asked for) the usage chunk with
 *   `choices: []`: its usage counters are cumulative, so the last one is the total;
 * - `message_stop` → `done`; `ping`, `content_block_stop` and unknown events → nothing;
 * - `error` (e.g. `overloaded_error` after a 200) → an `error_in_body` error.
 *
 * OpenAI numbers tool calls among tool calls only; Anthropic numbers all content blocks, so block
 * indexes are remapped.
 */
import { z } from "zod";
import { UpstreamError } from "../errors.ts";
import type { SseEvent } from "../sse.ts";
import type { StreamEvent, StreamOptions, StreamTranslator, UpstreamTarget } from "../adapter.ts";
import { translatorStream } from "../translate.ts";
import type { ChatChunk, ChatChunkChoice } from "../types.ts";
import { AnthropicErrorSchema, errorInBody } from "./errors.ts";
import {
  type AnthropicUsage,
  finishReason,
  normalizedUsage,
  openAIUsage,
  UsageSchema,
} from "./response.ts";

const MessageStart = z.looseObject({
  message: z.looseObject({ id: z.string(), model: z.string(), usage: UsageSchema.optional() }),
});
const BlockStart = z.looseObject({
  index: z.number(),
  content_block: z.looseObject({
    type: z.string(),
    id: z.string().optional(),
    name: z.string().optional(),
    text: z.string().optional(),
  }),
});
const BlockDelta = z.looseObject({
  index: z.number(),
  delta: z.looseObject({
    type: z.string(),
    text: z.string().optional(),
    partial_json: z.string().optional(),
  }),
});
const MessageDelta = z.looseObject({
  delta: z.looseObject({ stop_reason: z.string().nullish() }),
  usage: UsageSchema.optional(),
});

type Emit = (event: StreamEvent) => void;

/** The translation state of one stream. */
class AnthropicStreamTranslator {
  #id = "";
  #model: string;
  #created = Math.floor(Date.now() / 1000);
  #usage: AnthropicUsage = {};
  #toolIndex = new Map<number, number>();
  #failed = false;
  readonly #includeUsage: boolean;

  constructor(target: UpstreamTarget, options: StreamOptions) {
    this.#model = target.model;
    this.#includeUsage = options.includeUsage;
  }

  #chunk(choices: ChatChunkChoice[], extra: Partial<ChatChunk> = {}): string {
    const chunk: ChatChunk = {
      id: this.#id,
      object: "chat.completion.chunk",
      created: this.#created,
      model: this.#model,
      choices,
      ...extra,
    };
    return JSON.stringify(chunk);
  }

  #emitDelta(emit: Emit, delta: ChatChunkChoice["delta"], content: boolean): void {
    emit({
      type: "chunk",
      data: this.#chunk([{ index: 0, delta, finish_reason: null }]),
      content,
      responseId: this.#id,
      responseModel: this.#model,
    });
  }

  #fail(emit: Emit, error: UpstreamError): void {
    this.#failed = true;
    emit({ type: "error", error });
  }

  /** Translates one upstream event. */
  push(event: SseEvent, emit: Emit): void {
    if (this.#failed || event.comment !== undefined || event.data === "") return;
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch (cause) {
      return this.#fail(
        emit,
        new UpstreamError("malformed", "Anthropic sent a stream event that is not JSON", { cause }),
      );
    }
    const type = (json as { type?: unknown })?.type ?? event.event;
    try {
      this.#handle(type, json, emit);
    } catch (cause) {
      if (!(cause instanceof z.ZodError)) throw cause;
      this.#fail(
        emit,
        new UpstreamError("malformed", `Anthropic sent a malformed ${type} event`, { cause }),
      );
    }
  }

  #handle(type: unknown, json: unknown, emit: Emit): void {
    switch (type) {
      case "message_start": {
        const { message } = MessageStart.parse(json);
        this.#id = message.id;
        this.#model = message.model;
        this.#usage = message.usage ?? {};
        return this.#emitDelta(emit, { role: "assistant", content: "" }, false);
      }
      case "content_block_start": {
        const { index, content_block: block } = BlockStart.parse(json);
        if (block.type === "tool_use") {
          const toolIndex = this.#toolIndex.size;
          this.#toolIndex.set(index, toolIndex);
          const call = {
            index: toolIndex,
            id: block.id,
            type: "function" as const,
            function: { name: block.name, arguments: "" },
          };
          return this.#emitDelta(emit, { tool_calls: [call] }, true);
        }
        if (block.type === "text" && block.text) {
          return this.#emitDelta(emit, { content: block.text }, true);
        }
        return;
      }
      case "content_block_delta": {
        const { index, delta } = BlockDelta.parse(json);
        if (delta.type === "text_delta" && delta.text) {
          return this.#emitDelta(emit, { content: delta.text }, true);
        }
        const toolIndex = this.#toolIndex.get(index);
        if (delta.type === "input_json_delta" && delta.partial_json && toolIndex !== undefined) {
          const call = { index: toolIndex, function: { arguments: delta.partial_json } };
          return this.#emitDelta(emit, { tool_calls: [call] }, true);
        }
        return;
      }
      case "message_delta": {
        const { delta, usage } = MessageDelta.parse(json);
        // Counters in message_delta are cumulative totals; absent ones keep message_start's.
        for (const [key, value] of Object.entries(usage ?? {})) {
          if (value != null) (this.#usage as Record<string, unknown>)[key] = value;
        }
        if (delta.stop_reason) {
          const finish = finishReason(delta.stop_reason);
          emit({
            type: "chunk",
            data: this.#chunk([{ index: 0, delta: {}, finish_reason: finish }]),
            content: false,
            finishReason: finish,
            responseId: this.#id,
            responseModel: this.#model,
          });
        }
        if (this.#includeUsage) {
          emit({
            type: "chunk",
            data: this.#chunk([], { usage: openAIUsage(this.#usage) }),
            content: false,
            usage: normalizedUsage(this.#usage),
            usageOnly: true,
            responseId: this.#id,
            responseModel: this.#model,
          });
        }
        return;
      }
      case "message_stop":
        return emit({ type: "done" });
      case "error": {
        const parsed = AnthropicErrorSchema.safeParse(json);
        return this.#fail(
          emit,
          parsed.success
            ? errorInBody(parsed.data)
            : new UpstreamError("error_in_body", "Anthropic sent an error event"),
        );
      }
    }
  }
}

/** The translation of one Messages API stream. */
export function createTranslator(target: UpstreamTarget, options: StreamOptions): StreamTranslator {
  const translator = new AnthropicStreamTranslator(target, options);
  return { push: (event, emit) => translator.push(event, emit), end() {} };
}

/** The stream transform for one Messages API stream. */
export function translateStream(
  target: UpstreamTarget,
  options: StreamOptions,
): TransformStream<SseEvent, StreamEvent> {
  return translatorStream(createTranslator(target, options));
}
