/**
 * The canonical request and response shapes. Inside Switchyard a chat request is always the
 * OpenAI Chat Completions shape; adapters translate at the edge, both ways, streaming included.
 *
 * Request bodies are parsed with zod (they come from clients); responses and chunks are produced
 * by our own adapters, so they are plain types.
 */
import { z } from "zod";

const TextPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const ImagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.looseObject({ url: z.string(), detail: z.enum(["auto", "low", "high"]).optional() }),
});
/** Other part types (input_audio, file, …) pass through to OpenAI-compatible upstreams untouched. */
const OtherPart = z.looseObject({ type: z.string() }).refine(
  (p) => p.type !== "text" && p.type !== "image_url",
  { message: "Malformed text or image_url content part" },
);
export const ContentPartSchema = z.union([TextPart, ImagePart, OtherPart]);
export type ContentPart = z.infer<typeof ContentPartSchema>;
export type TextContentPart = z.infer<typeof TextPart>;
export type ImageContentPart = z.infer<typeof ImagePart>;

export const ToolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

const SystemMessage = z.looseObject({
  role: z.enum(["system", "developer"]),
  content: z.union([z.string(), z.array(TextPart)]),
  name: z.string().optional(),
});
const UserMessage = z.looseObject({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(ContentPartSchema)]),
  name: z.string().optional(),
});
const AssistantMessage = z.looseObject({
  role: z.literal("assistant"),
  content: z.union([z.string(), z.array(ContentPartSchema), z.null()]).optional(),
  tool_calls: z.array(ToolCallSchema).optional(),
  refusal: z.string().nullable().optional(),
  name: z.string().optional(),
});
const ToolMessage = z.looseObject({
  role: z.literal("tool"),
  content: z.union([z.string(), z.array(TextPart)]),
  tool_call_id: z.string(),
});
export const MessageSchema = z.discriminatedUnion("role", [
  SystemMessage,
  UserMessage,
  AssistantMessage,
  ToolMessage,
]);
export type Message = z.infer<typeof MessageSchema>;

export const ToolSchema = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});
export type Tool = z.infer<typeof ToolSchema>;

export const ToolChoiceSchema = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
]);
export type ToolChoice = z.infer<typeof ToolChoiceSchema>;

export const ResponseFormatSchema = z.union([
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({
      name: z.string(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
      description: z.string().optional(),
    }),
  }),
]);

/**
 * An OpenAI Chat Completions request body. Unknown top-level fields are kept, so that an
 * OpenAI-compatible upstream receives parameters Switchyard does not know about.
 */
export const ChatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(MessageSchema).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).nullable().optional(),
  stop: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  presence_penalty: z.number().nullable().optional(),
  frequency_penalty: z.number().nullable().optional(),
  tools: z.array(ToolSchema).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: ResponseFormatSchema.optional(),
  user: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type ChatRequest = z.infer<typeof ChatRequestSchema>;

/** Why a choice stopped, in OpenAI's vocabulary. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** Token usage as OpenAI reports it (what the client sees). */
export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; [k: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [k: string]: unknown };
  /** OpenRouter reports the request's cost in credits (USD). */
  cost?: number;
  [k: string]: unknown;
}

/**
 * Usage normalized across providers, for accounting. `input_tokens` counts every prompt token,
 * cached ones included; `cached_input_tokens` and `cache_write_tokens` are the parts of it billed
 * at their own prices.
 */
export interface NormalizedUsage {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  /** Cost the upstream itself reported (OpenRouter's `usage.cost`), in USD. */
  reported_cost_usd?: number;
}

export interface ChatResponseMessage {
  role: "assistant";
  content: string | null;
  refusal?: string | null;
  tool_calls?: ToolCall[];
}

export interface ChatChoice {
  index: number;
  message: ChatResponseMessage;
  finish_reason: FinishReason | null;
  logprobs?: null;
}

/** A non-streaming OpenAI `chat.completion`. */
export interface ChatResponse {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: OpenAIUsage;
  system_fingerprint?: string | null;
  /** OpenRouter names the provider that served. */
  provider?: string;
  [k: string]: unknown;
}

export interface ChunkToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

export interface ChatChunkChoice {
  index: number;
  delta: {
    role?: "assistant";
    content?: string | null;
    refusal?: string | null;
    tool_calls?: ChunkToolCallDelta[];
  };
  finish_reason: FinishReason | null;
  logprobs?: null;
}

/** One OpenAI `chat.completion.chunk`. */
export interface ChatChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: ChatChunkChoice[];
  usage?: OpenAIUsage | null;
  system_fingerprint?: string | null;
  provider?: string;
  [k: string]: unknown;
}

/** Converts OpenAI-shaped usage to the normalized form. */
export function normalizeOpenAIUsage(usage: OpenAIUsage): NormalizedUsage {
  return {
    input_tokens: usage.prompt_tokens ?? 0,
    output_tokens: usage.completion_tokens ?? 0,
    cached_input_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cache_write_tokens: 0,
    reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
    ...(typeof usage.cost === "number" ? { reported_cost_usd: usage.cost } : {}),
  };
}

/** The text of a message's content, parts joined; images and other parts contribute nothing. */
export function contentText(content: Message["content"] | undefined): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  let text = "";
  for (const part of content) {
    if (part.type === "text") text += (part as TextContentPart).text;
  }
  return text;
}
