/**
 * Gemini `GenerateContentResponse` → OpenAI `chat.completion`. The pieces (finish reasons, usage,
 * tool calls) are exported for the stream translation, which applies them per event.
 */
import type { Completion, UpstreamTarget } from "../adapter.ts";
import {
  type ChatChoice,
  type FinishReason,
  normalizeOpenAIUsage,
  type OpenAIUsage,
  type ToolCall,
} from "../types.ts";
import { errorInBody, googleErrorIn, malformed } from "./errors.ts";
import {
  type Candidate,
  type GenerateContentResponse,
  GenerateContentResponseSchema,
  type ResponsePart,
  type UsageMetadata,
} from "./wire.ts";

const FILTERED = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
]);

/**
 * Gemini's finish reason in OpenAI's words. STOP after a function call is `tool_calls`; the
 * reasons OpenAI has no word for (OTHER, MALFORMED_FUNCTION_CALL, …) read as `stop`.
 */
export function finishReasonOf(reason: string, calledTools: boolean): FinishReason {
  if (reason === "MAX_TOKENS") return "length";
  if (FILTERED.has(reason)) return "content_filter";
  return calledTools ? "tool_calls" : "stop";
}

/**
 * Gemini's usage in OpenAI's shape. Thinking tokens are billed as output, so completion tokens
 * are `candidatesTokenCount + thoughtsTokenCount` (and are reported again as reasoning tokens);
 * prompt tokens include tool-use prompt tokens and the cached tokens, as OpenAI's do.
 */
export function usageOf(meta: UsageMetadata): OpenAIUsage {
  const thoughts = meta.thoughtsTokenCount ?? 0;
  const prompt = (meta.promptTokenCount ?? 0) + (meta.toolUsePromptTokenCount ?? 0);
  const completion = (meta.candidatesTokenCount ?? 0) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: meta.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

/**
 * A fresh tool call id. Gemini 2.x sends none; ids in OpenAI's own form (at most 40 characters)
 * stay valid if the conversation later moves to another provider.
 */
export function newToolCallId(): string {
  return `call_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
}

/**
 * The function calls among a candidate's parts, as OpenAI tool calls. A part's thought signature
 * rides along in `extra_content.google.thought_signature`, where Google's OpenAI layer puts it.
 */
export function toolCallsOf(parts: ResponsePart[]): ToolCall[] {
  return parts.flatMap(({ functionCall: call, thoughtSignature }): ToolCall[] => {
    if (!call) return [];
    return [{
      id: call.id ?? newToolCallId(),
      type: "function",
      function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
      ...(thoughtSignature
        ? { extra_content: { google: { thought_signature: thoughtSignature } } }
        : {}),
    }];
  });
}

/** The answer's text (thought summaries skipped), or undefined when there is no text part. */
export function textOf(parts: ResponsePart[]): string | undefined {
  const texts = parts.filter((p) => p.text !== undefined && p.thought !== true).map((p) => p.text);
  return texts.length > 0 ? texts.join("") : undefined;
}

/** Parses one Gemini response object (a whole answer or a streamed piece). */
export function parseResponse(json: unknown): GenerateContentResponse {
  const parsed = GenerateContentResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw malformed(`not a GenerateContentResponse (${parsed.error.issues[0]?.message})`);
  }
  return parsed.data;
}

function choiceOf(candidate: Candidate, position: number): ChatChoice {
  const parts = candidate.content?.parts ?? [];
  const toolCalls = toolCallsOf(parts);
  const text = textOf(parts);
  return {
    index: candidate.index ?? position,
    message: {
      role: "assistant",
      content: text ?? null,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    },
    finish_reason: finishReasonOf(candidate.finishReason ?? "STOP", toolCalls.length > 0),
    logprobs: null,
  };
}

/**
 * The choices of a response. A prompt Gemini blocked (promptFeedback.blockReason, no candidates)
 * is a 200 answer saying no, so it becomes one empty choice finished by `content_filter`.
 */
export function choicesOf(response: GenerateContentResponse): ChatChoice[] {
  const candidates = response.candidates ?? [];
  if (candidates.length === 0) {
    return [{
      index: 0,
      message: { role: "assistant", content: null },
      finish_reason: "content_filter",
      logprobs: null,
    }];
  }
  return candidates.map(choiceOf);
}

/** The response id: Gemini's `responseId`, or a fresh one in OpenAI's form. */
export function responseIdOf(response: GenerateContentResponse): string {
  return response.responseId ?? `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Translates a whole (non-streaming) Gemini answer. */
export function translateResponse(body: string, target: UpstreamTarget): Completion {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw malformed("response body is not JSON", cause);
  }
  const error = googleErrorIn(json);
  if (error) throw errorInBody(error);
  const response = parseResponse(json);
  const usage = response.usageMetadata ? usageOf(response.usageMetadata) : undefined;
  return {
    response: {
      id: responseIdOf(response),
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: response.modelVersion ?? target.model,
      choices: choicesOf(response),
      ...(usage ? { usage } : {}),
    },
    usage: usage ? normalizeOpenAIUsage(usage) : undefined,
  };
}
