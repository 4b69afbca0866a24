/**
 * A Messages API `message` translated into an OpenAI `chat.completion`.
 *
 * Text blocks are joined into `message.content`; `tool_use` blocks become `tool_calls` with their
 * input serialized as the arguments string. Thinking and server-tool blocks have no place in the
 * Chat Completions shape and are left out. Usage follows OpenAI's accounting: `prompt_tokens`
 * counts every prompt token, so it is Anthropic's `input_tokens` (the uncached part) plus cache
 * reads plus cache writes.
 */
import { z } from "zod";
import { UpstreamError } from "../errors.ts";
import type { Completion, UpstreamTarget } from "../adapter.ts";
import type { FinishReason, NormalizedUsage, OpenAIUsage, ToolCall } from "../types.ts";
import { errorInBody, parseAnthropicError } from "./errors.ts";

/** Anthropic usage; every field optional because `message_delta` repeats only some of them. */
export const UsageSchema = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  output_tokens_details: z.looseObject({ thinking_tokens: z.number().nullish() }).nullish(),
});
export type AnthropicUsage = z.infer<typeof UsageSchema>;

const BlockSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
});

const MessageSchema = z.looseObject({
  type: z.literal("message"),
  id: z.string(),
  model: z.string(),
  role: z.literal("assistant"),
  content: z.array(BlockSchema),
  stop_reason: z.string().nullable(),
  usage: UsageSchema,
});

/** Anthropic's `stop_reason` in OpenAI's vocabulary. */
export function finishReason(stopReason: string | null | undefined): FinishReason {
  switch (stopReason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    // end_turn, stop_sequence, and pause_turn (a server tool paused a long turn).
    default:
      return "stop";
  }
}

/** Usage as an OpenAI client expects it. */
export function openAIUsage(usage: AnthropicUsage): OpenAIUsage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + cacheRead + (usage.cache_creation_input_tokens ?? 0);
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
    completion_tokens_details: {
      reasoning_tokens: usage.output_tokens_details?.thinking_tokens ?? 0,
    },
  };
}

/** Usage for accounting: cache reads and writes kept apart, as Anthropic prices them apart. */
export function normalizedUsage(usage: AnthropicUsage): NormalizedUsage {
  const openai = openAIUsage(usage);
  return {
    input_tokens: openai.prompt_tokens,
    output_tokens: openai.completion_tokens,
    cached_input_tokens: usage.cache_read_input_tokens ?? 0,
    cache_write_tokens: usage.cache_creation_input_tokens ?? 0,
    reasoning_tokens: usage.output_tokens_details?.thinking_tokens ?? 0,
  };
}

/** Translates a 2xx Messages API body. */
export function translateResponse(body: string, _target: UpstreamTarget): Completion {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new UpstreamError("malformed", "Anthropic returned a body that is not JSON", { cause });
  }
  const error = parseAnthropicError(body);
  if (error) throw errorInBody(error, 200);
  const parsed = MessageSchema.safeParse(json);
  if (!parsed.success) {
    throw new UpstreamError("malformed", "Anthropic returned JSON that is not a message", {
      cause: parsed.error,
    });
  }
  const message = parsed.data;
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === "text") text += block.text ?? "";
    else if (block.type === "tool_use" && block.id && block.name) {
      toolCalls.push({
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const usage = openAIUsage(message.usage);
  return {
    response: {
      id: message.id,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: message.model,
      choices: [{
        index: 0,
        message: {
          role: "assistant",
          // OpenAI sends null content beside tool calls when the model said nothing.
          content: text === "" && toolCalls.length > 0 ? null : text,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: finishReason(message.stop_reason),
        logprobs: null,
      }],
      usage,
    },
    usage: normalizedUsage(message.usage),
  };
}
