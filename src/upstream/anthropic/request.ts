/**
 * Builds a Messages API request (`POST {baseUrl}/messages`) from a canonical chat request, with
 * the key in `x-api-key` and `anthropic-version: 2023-06-01` (see `ANTHROPIC_VERSION`).
 *
 * Parameter mapping, where OpenAI and Anthropic differ:
 * - `max_tokens` is required by Anthropic: `max_completion_tokens ?? max_tokens ?? 4096`. 4096 is
 *   within every current Claude model's output limit and long enough for ordinary answers; set a
 *   limit explicitly for long outputs.
 * - `temperature` is 0–2 for OpenAI, 0–1 for Anthropic: values above 1 are clamped to 1 (both
 *   default to 1, so values up to 1 mean about the same).
 * - `top_p` is dropped when `temperature` is also set: current Claude models reject requests that
 *   set both ("`temperature` and `top_p` cannot both be specified for this model").
 * - `stop` → `stop_sequences`; `user` → `metadata.user_id`.
 * - `tools[].function` → `{name, description, input_schema, strict}`; `tool_choice` auto → auto,
 *   none → none, required → any, a named function → tool; `parallel_tool_calls: false` →
 *   `disable_parallel_tool_use` on the tool choice. Both are sent only when tools are.
 * - `response_format: json_schema` → `output_config.format` (Anthropic's structured outputs).
 *   `json_object` has no schema-less Anthropic equivalent and is not sent: OpenAI already requires
 *   such prompts to ask for JSON in words, which is what Claude follows.
 * - `n > 1` is rejected (one Anthropic message is one choice). `seed`, penalties, `logprobs`,
 *   `metadata` and `stream_options` have no equivalent and are dropped; usage is always streamed.
 */
import { UpstreamError } from "../errors.ts";
import type { StreamOptions, UpstreamRequest, UpstreamTarget } from "../adapter.ts";
import type { ChatRequest, Tool, ToolChoice } from "../types.ts";
import { type AnthropicMessage, type TextBlock, toConversation } from "./messages.ts";

/**
 * The API version this adapter speaks. Version 2026-10-21 (what SDK 1.x sends) refuses
 * `temperature`, `top_p` and `top_k` outright, which OpenAI clients send routinely; 2023-06-01
 * remains supported and takes them, and every feature used here exists in both.
 */
export const ANTHROPIC_VERSION = "2023-06-01";
/** Output limit sent when the request gives none (Anthropic requires one). */
export const DEFAULT_MAX_TOKENS = 4096;

interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  strict?: boolean;
}

type AnthropicToolChoice =
  | { type: "auto" | "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

/** The body this adapter sends. */
export interface AnthropicRequestBody {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string | TextBlock[];
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
  output_config?: { format: { type: "json_schema"; schema: Record<string, unknown> } };
  stream?: boolean;
}

function toTool(tool: Tool): AnthropicTool {
  const out: AnthropicTool = {
    name: tool.function.name,
    // Anthropic requires an object schema; a parameterless OpenAI function has none.
    input_schema: tool.function.parameters ?? { type: "object", properties: {} },
  };
  if (tool.function.description) out.description = tool.function.description;
  if (tool.function.strict === true) out.strict = true;
  return out;
}

function toToolChoice(
  choice: ToolChoice | undefined,
  parallel: boolean | undefined,
): AnthropicToolChoice | undefined {
  const single = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === "none") return { type: "none" };
  if (choice === "required") return { type: "any", ...single };
  if (typeof choice === "object") return { type: "tool", name: choice.function.name, ...single };
  if (choice === "auto" || parallel === false) return { type: "auto", ...single };
  return undefined;
}

/** Translates the canonical request into the Messages API body. */
export function toAnthropicBody(req: ChatRequest, model: string): AnthropicRequestBody {
  if ((req.n ?? 1) > 1) {
    throw new UpstreamError("client_error", "Anthropic returns one choice per request; n > 1");
  }
  const { system, messages } = toConversation(req.messages);
  const body: AnthropicRequestBody = {
    model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system !== undefined) body.system = system;
  if (req.temperature != null) body.temperature = Math.min(1, req.temperature);
  else if (req.top_p != null) body.top_p = req.top_p;
  if (req.stop != null) {
    const stops = (typeof req.stop === "string" ? [req.stop] : req.stop).filter((s) => s !== "");
    if (stops.length > 0) body.stop_sequences = stops;
  }
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map(toTool);
    const choice = toToolChoice(req.tool_choice, req.parallel_tool_calls);
    if (choice) body.tool_choice = choice;
  }
  if (req.user) body.metadata = { user_id: req.user };
  const format = req.response_format;
  if (format?.type === "json_schema" && format.json_schema.schema) {
    body.output_config = { format: { type: "json_schema", schema: format.json_schema.schema } };
  }
  if (req.stream) body.stream = true;
  return body;
}

/** Builds the HTTP request: `{baseUrl}/messages` with Anthropic's key and version headers. */
export function buildRequest(
  req: ChatRequest,
  target: UpstreamTarget,
  _options: StreamOptions,
): UpstreamRequest {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "anthropic-version": ANTHROPIC_VERSION,
    accept: req.stream ? "text/event-stream" : "application/json",
  };
  if (target.apiKey) headers["x-api-key"] = target.apiKey;
  return {
    url: `${target.baseUrl}/messages`,
    headers,
    body: JSON.stringify(toAnthropicBody(req, target.model)),
  };
}
