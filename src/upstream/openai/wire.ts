/**
 * The parts of the OpenAI Chat Completions wire format Switchyard depends on, as zod schemas.
 * Objects are loose: upstreams add fields (OpenRouter's `provider`, Mistral's `p`), and the
 * client should see them.
 */
import { z } from "zod";
import type { NormalizedUsage, OpenAIUsage } from "../types.ts";
import { normalizeOpenAIUsage } from "../types.ts";

/** `usage` as OpenAI-compatible upstreams send it (Mistral may send `cached_tokens: null`). */
export const WireUsageSchema = z.looseObject({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number().optional(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
  cost: z.number().nullish(),
});

const WireToolCall = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  index: z.number().optional(),
  function: z.looseObject({
    name: z.string().optional(),
    // Mistral may send the arguments as an object rather than a JSON string.
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  }),
});
export type WireToolCall = z.infer<typeof WireToolCall>;

/** Message content: a string, or (Mistral's reasoning models) an array of typed chunks. */
const WireContent = z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]);
export type WireContent = z.infer<typeof WireContent>;

/** A non-streaming `chat.completion`. */
export const WireResponseSchema = z.looseObject({
  id: z.string(),
  object: z.string().optional(),
  created: z.number().optional(),
  model: z.string(),
  choices: z.array(z.looseObject({
    index: z.number(),
    message: z.looseObject({
      role: z.string().optional(),
      content: WireContent.optional(),
      tool_calls: z.array(WireToolCall).nullish(),
    }),
    finish_reason: z.string().nullable(),
  })),
  usage: WireUsageSchema.nullish(),
  provider: z.string().optional(),
});
export type WireResponse = z.infer<typeof WireResponseSchema>;

/** A `chat.completion.chunk`. */
export const WireChunkSchema = z.looseObject({
  id: z.string(),
  object: z.string().optional(),
  created: z.number().optional(),
  model: z.string().optional(),
  choices: z.array(z.looseObject({
    index: z.number(),
    delta: z.looseObject({
      role: z.string().nullish(),
      content: WireContent.optional(),
      refusal: z.string().nullish(),
      tool_calls: z.array(WireToolCall).nullish(),
    }).optional(),
    finish_reason: z.string().nullish(),
  })),
  usage: WireUsageSchema.nullish(),
  provider: z.string().optional(),
});
export type WireChunk = z.infer<typeof WireChunkSchema>;

/** Usage in the normalized form, from the wire form. */
export function normalizeWireUsage(usage: z.infer<typeof WireUsageSchema>): NormalizedUsage {
  return normalizeOpenAIUsage(usage as OpenAIUsage);
}

/** Finish reasons some OpenAI-compatible upstreams use, in OpenAI's vocabulary. */
const FINISH_REASONS: Record<string, string> = { model_length: "length", end_turn: "stop" };

/** OpenAI's name for a finish reason (Mistral's `model_length` is `length`). */
export function canonicalFinish(reason: string): string {
  return FINISH_REASONS[reason] ?? reason;
}

/** The text of a content value; typed chunk arrays are joined by their `text` parts. */
export function contentString(content: WireContent | undefined): string | null {
  if (content == null || typeof content === "string") return content ?? null;
  let text = "";
  for (const part of content) {
    if (part.type === "text" && typeof part.text === "string") text += part.text;
  }
  return text;
}
