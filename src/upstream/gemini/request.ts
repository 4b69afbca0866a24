/**
 * OpenAI Chat Completions request → Gemini `GenerateContentRequest`.
 *
 * Where the mapping is lossy (each choice documented in index.ts):
 * - every system/developer message, wherever it sits, joins the one `systemInstruction`;
 * - a tool result is sent as a `functionResponse` named after the function of the tool call it
 *   answers (Gemini matches results by name and order; OpenAI ids are not sent);
 * - consecutive turns of one role are merged, as Gemini expects alternating turns;
 * - `parallel_tool_calls`, `user`, `metadata` and `logit_bias` have no Gemini equivalent.
 */
import { UpstreamError } from "../errors.ts";
import type { ChatRequest, ContentPart, Message, ToolCall, ToolChoice } from "../types.ts";
import { contentParts } from "./content.ts";
import type { GeminiContent, GeminiGenerationConfig, GeminiPart, GeminiRequest } from "./wire.ts";

/**
 * Gemini 3 rejects a replayed function call without the thought signature it was issued with.
 * When the client did not keep it (or the call came from another provider), Google documents
 * this placeholder to skip the check.
 */
export const SKIP_SIGNATURE = "skip_thought_signature_validator";

/** The thought signature we attach to tool calls, where Google's OpenAI layer puts it. */
export function signatureOf(call: ToolCall): string | undefined {
  const extra = call.extra_content as { google?: { thought_signature?: unknown } } | undefined;
  const signature = extra?.google?.thought_signature;
  return typeof signature === "string" && signature !== "" ? signature : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Tool call arguments as Gemini's `args` object; anything but a JSON object is kept as text. */
function argsOf(raw: string): Record<string, unknown> {
  if (raw.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (isPlainObject(parsed)) return parsed;
  } catch {
    // Not JSON: fall through and keep the text.
  }
  return { arguments: raw };
}

/** A tool result as Gemini's `response` object: a JSON object as is, anything else as `result`. */
function responseOf(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return isPlainObject(parsed) ? parsed : { result: parsed };
  } catch {
    return { result: text };
  }
}

function textOf(content: string | { text: string }[]): string {
  return typeof content === "string" ? content : content.map((p) => p.text).join("");
}

/** An assistant message's own words; a refusal is what the model said, so it is kept as text. */
function assistantParts(content: string | ContentPart[] | null | undefined): GeminiPart[] {
  if (!Array.isArray(content)) return contentParts(content);
  return content.flatMap((part): GeminiPart[] => {
    const text = part.type === "text"
      ? (part as { text: string }).text
      : part.type === "refusal"
      ? String((part as { refusal?: unknown }).refusal ?? "")
      : undefined;
    if (text === undefined) return contentParts([part]);
    return text === "" ? [] : [{ text }];
  });
}

function functionCallParts(calls: ToolCall[]): GeminiPart[] {
  return calls.map((call, i) => {
    const part: GeminiPart = {
      functionCall: { name: call.function.name, args: argsOf(call.function.arguments) },
    };
    // Gemini 3 wants the signature on the first call of a turn (parallel calls share it).
    const signature = signatureOf(call) ?? (i === 0 ? SKIP_SIGNATURE : undefined);
    if (signature) part.thoughtSignature = signature;
    return part;
  });
}

/** Builds `contents` and `systemInstruction` from the messages. */
function conversation(messages: Message[]): Pick<GeminiRequest, "contents" | "systemInstruction"> {
  const system: { text: string }[] = [];
  const contents: GeminiContent[] = [];
  const functionNames = new Map<string, string>();
  const push = (role: GeminiContent["role"], parts: GeminiPart[]) => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const message of messages) {
    switch (message.role) {
      case "system":
      case "developer": {
        const texts = typeof message.content === "string"
          ? [message.content]
          : message.content.map((p) => p.text);
        for (const text of texts) if (text !== "") system.push({ text });
        break;
      }
      case "user":
        push("user", contentParts(message.content));
        break;
      case "assistant": {
        const calls = message.tool_calls ?? [];
        for (const call of calls) functionNames.set(call.id, call.function.name);
        push("model", [...assistantParts(message.content), ...functionCallParts(calls)]);
        break;
      }
      case "tool": {
        const name = functionNames.get(message.tool_call_id);
        if (name === undefined) {
          throw new UpstreamError(
            "client_error",
            `A tool message answers tool_call_id "${message.tool_call_id}", which no earlier assistant message made`,
          );
        }
        push("user", [{
          functionResponse: { name, response: responseOf(textOf(message.content)) },
        }]);
        break;
      }
    }
  }
  // Gemini refuses a request without contents; a system-only prompt is then the user's turn.
  if (contents.length === 0) return { contents: [{ role: "user", parts: system }] };
  return system.length > 0 ? { contents, systemInstruction: { parts: system } } : { contents };
}

function generationConfig(req: ChatRequest): GeminiGenerationConfig | undefined {
  const config: GeminiGenerationConfig = {};
  if (req.temperature != null) config.temperature = req.temperature;
  if (req.top_p != null) config.topP = req.top_p;
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  if (req.stop != null) {
    const stops = typeof req.stop === "string" ? [req.stop] : req.stop;
    if (stops.length > 0) config.stopSequences = stops;
  }
  if (req.n != null) config.candidateCount = req.n;
  if (req.seed != null) config.seed = req.seed;
  if (req.presence_penalty != null) config.presencePenalty = req.presence_penalty;
  if (req.frequency_penalty != null) config.frequencyPenalty = req.frequency_penalty;
  const format = req.response_format;
  if (format?.type === "json_object" || format?.type === "json_schema") {
    config.responseMimeType = "application/json";
  }
  if (format?.type === "json_schema" && format.json_schema.schema) {
    config.responseJsonSchema = format.json_schema.schema;
  }
  return Object.keys(config).length > 0 ? config : undefined;
}

function toolConfig(choice: ToolChoice | undefined): GeminiRequest["toolConfig"] {
  if (choice === undefined) return undefined;
  if (choice === "none") return { functionCallingConfig: { mode: "NONE" } };
  if (choice === "auto") return { functionCallingConfig: { mode: "AUTO" } };
  if (choice === "required") return { functionCallingConfig: { mode: "ANY" } };
  return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.function.name] } };
}

/** Translates a canonical request into Gemini's request body. */
export function toGeminiRequest(req: ChatRequest): GeminiRequest {
  const body: GeminiRequest = conversation(req.messages);
  const config = generationConfig(req);
  if (config) body.generationConfig = config;
  if (req.tools && req.tools.length > 0) {
    body.tools = [{
      functionDeclarations: req.tools.map(({ function: f }) => ({
        name: f.name,
        ...(f.description ? { description: f.description } : {}),
        ...(f.parameters ? { parametersJsonSchema: f.parameters } : {}),
      })),
    }];
    const tc = toolConfig(req.tool_choice);
    if (tc) body.toolConfig = tc;
  }
  return body;
}

/**
 * The endpoint for a model. A plain id (`gemini-2.5-flash`) lives under `models/`; a resource
 * name with a collection (`models/x`, `tunedModels/y`) is used as given.
 */
export function geminiUrl(baseUrl: string, model: string, stream: boolean): string {
  const resource = model.includes("/") ? model : `models/${model}`;
  return stream
    ? `${baseUrl}/${resource}:streamGenerateContent?alt=sse`
    : `${baseUrl}/${resource}:generateContent`;
}
