/**
 * Gemini's `streamGenerateContent?alt=sse` → OpenAI chunks. Every `data:` event is a whole
 * `GenerateContentResponse` holding the next piece of each candidate, so each event is
 * translated as soon as it arrives: text becomes a content delta, a `functionCall` part becomes a
 * tool call delta carrying its full arguments (Gemini never splits one), a `finishReason` becomes
 * a finish chunk, and the usage chunk follows once every candidate has finished.
 *
 * Gemini has no terminator event: the stream just ends. It counts as complete (a `done` event)
 * only when every candidate seen has sent its `finishReason`; a stream that ends before that was
 * cut, and ends without `done` so the caller reports `stream_cut`.
 */
import type { StreamEvent, StreamOptions, StreamTranslator, UpstreamTarget } from "../adapter.ts";
import { translatorStream } from "../translate.ts";
import type { SseEvent } from "../sse.ts";
import type { UpstreamError } from "../errors.ts";
import {
  type ChatChunk,
  type ChatChunkChoice,
  type ChunkToolCallDelta,
  type FinishReason,
  normalizeOpenAIUsage,
  type OpenAIUsage,
} from "../types.ts";
import { errorInBody, googleErrorIn, malformed } from "./errors.ts";
import {
  finishReasonOf,
  parseResponse,
  responseIdOf,
  textOf,
  toolCallsOf,
  usageOf,
} from "./response.ts";
import type { GenerateContentResponse, ResponsePart, UsageMetadata } from "./wire.ts";

/** Where translated events go (an emit function, wrapped). */
type Controller = { enqueue(out: StreamEvent): void };

/** The stream transform for one generateContent stream. */
export function translateStream(
  target: UpstreamTarget,
  options: StreamOptions,
): TransformStream<SseEvent, StreamEvent> {
  return translatorStream(createTranslator(target, options));
}

/** Creates the per-stream translation. */
export function createTranslator(target: UpstreamTarget, options: StreamOptions): StreamTranslator {
  const created = Math.floor(Date.now() / 1000);
  let id: string | undefined;
  let model = target.model;
  let usage: UsageMetadata | undefined;
  let usageSent = false;
  let failed = false;
  const roleSent = new Set<number>();
  const toolCalls = new Map<number, number>();
  const finished = new Map<number, FinishReason>();

  const emit = (
    controller: Controller,
    choices: ChatChunkChoice[],
    extra: Partial<Extract<StreamEvent, { type: "chunk" }>> = {},
    openaiUsage?: OpenAIUsage,
  ) => {
    const chunk: ChatChunk = { id: id!, object: "chat.completion.chunk", created, model, choices };
    if (openaiUsage) chunk.usage = openaiUsage;
    controller.enqueue({
      type: "chunk",
      data: JSON.stringify(chunk),
      content: false,
      responseId: id,
      responseModel: model,
      ...extra,
    });
  };

  const fail = (controller: Controller, error: UpstreamError) => {
    failed = true;
    controller.enqueue({ type: "error", error });
  };

  /** The delta for one candidate's piece; role on the first, tool call indexes running on. */
  const deltaOf = (index: number, parts: ResponsePart[]) => {
    const delta: ChatChunkChoice["delta"] = {};
    if (!roleSent.has(index)) {
      roleSent.add(index);
      delta.role = "assistant";
    }
    const text = textOf(parts);
    if (text) delta.content = text;
    const calls = toolCallsOf(parts);
    if (calls.length > 0) {
      const base = toolCalls.get(index) ?? 0;
      toolCalls.set(index, base + calls.length);
      delta.tool_calls = calls.map((call, k): ChunkToolCallDelta => ({ index: base + k, ...call }));
    }
    return delta;
  };

  const translate = (controller: Controller, response: GenerateContentResponse) => {
    id ??= responseIdOf(response);
    model = response.modelVersion ?? model;
    if (response.usageMetadata) usage = response.usageMetadata;
    const candidates = response.candidates ?? [];
    if (candidates.length === 0 && response.promptFeedback?.blockReason) {
      // A blocked prompt: no candidate will ever come, so this is the whole (refused) answer.
      finished.set(0, "content_filter");
      emit(controller, [{
        index: 0,
        delta: { role: "assistant", content: null },
        finish_reason: "content_filter",
        logprobs: null,
      }], { finishReason: "content_filter" });
    }
    candidates.forEach((candidate, position) => {
      const index = candidate.index ?? position;
      const delta = deltaOf(index, candidate.content?.parts ?? []);
      const content = delta.content !== undefined || delta.tool_calls !== undefined;
      if (content || delta.role) {
        emit(controller, [{ index, delta, finish_reason: null, logprobs: null }], { content });
      }
      if (candidate.finishReason && !finished.has(index)) {
        const reason = finishReasonOf(candidate.finishReason, (toolCalls.get(index) ?? 0) > 0);
        finished.set(index, reason);
        emit(controller, [{ index, delta: {}, finish_reason: reason, logprobs: null }], {
          finishReason: reason,
        });
      }
    });
    if (options.includeUsage && !usageSent && usage && complete()) {
      usageSent = true;
      const openaiUsage = usageOf(usage);
      emit(controller, [], {
        usage: normalizeOpenAIUsage(openaiUsage),
        usageOnly: true,
      }, openaiUsage);
    }
  };

  const complete = () => finished.size > 0 && [...roleSent].every((i) => finished.has(i));

  return {
    push(event: SseEvent, emitOut: (out: StreamEvent) => void) {
      const controller: Controller = { enqueue: emitOut };
      if (failed || event.comment !== undefined || event.data.trim() === "") return;
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch (cause) {
        return fail(controller, malformed("stream event is not JSON", cause));
      }
      const error = googleErrorIn(json);
      if (error) return fail(controller, errorInBody(error));
      let response: GenerateContentResponse;
      try {
        response = parseResponse(json);
      } catch (cause) {
        return fail(controller, cause as UpstreamError);
      }
      translate(controller, response);
    },
    end(emitOut: (out: StreamEvent) => void) {
      if (!failed && complete()) emitOut({ type: "done" });
    },
  };
}
