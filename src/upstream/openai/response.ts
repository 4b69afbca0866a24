/**
 * OpenAI-compatible `chat.completion` body → canonical `Completion`. When the upstream's bytes
 * already are the canonical response (OpenAI's always are), they are handed on as `raw` so the
 * server need not re-serialize them.
 */
import type { Completion } from "../adapter.ts";
import { UpstreamError } from "../errors.ts";
import type { ChatResponse, FinishReason, ToolCall } from "../types.ts";
import { errorInBody } from "./errors.ts";
import {
  canonicalFinish,
  contentString,
  normalizeWireUsage,
  type WireResponse,
  WireResponseSchema,
  type WireToolCall,
} from "./wire.ts";

/** Translates a 2xx body; throws `error_in_body` or `malformed` as an `UpstreamError`. */
export function readResponse(body: string): Completion {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new UpstreamError("malformed", "The upstream's body is not JSON", { status: 200, cause });
  }
  const inBody = errorInBody(json);
  if (inBody) throw inBody;
  // Most answers already are canonical: checked by hand, they are used as parsed — no copy.
  if (isCanonical(json)) {
    return {
      response: json,
      usage: json.usage ? normalizeWireUsage(json.usage) : undefined,
      raw: body,
      servedBy: typeof json.provider === "string" ? json.provider : undefined,
    };
  }
  const parsed = WireResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new UpstreamError("malformed", "The upstream's body is not a chat completion", {
      status: 200,
      cause: parsed.error,
    });
  }
  const wire = parsed.data;
  const { response, changed } = canonicalResponse(wire);
  return {
    response,
    usage: wire.usage ? normalizeWireUsage(wire.usage) : undefined,
    raw: changed ? undefined : body,
    servedBy: wire.provider,
  };
}

const FINISH = new Set(["stop", "length", "tool_calls", "content_filter"]);

/**
 * True when a parsed body is exactly what a client should receive: an OpenAI `chat.completion`
 * whose choices hold assistant messages with string (or null) content, well-formed tool calls
 * and a standard finish reason, and whose usage counts are numbers.
 */
function isCanonical(json: unknown): json is ChatResponse & { usage?: WireResponse["usage"] } {
  if (json === null || typeof json !== "object") return false;
  const r = json as Record<string, unknown>;
  if (
    r.object !== "chat.completion" || typeof r.id !== "string" || typeof r.model !== "string" ||
    typeof r.created !== "number" || !Array.isArray(r.choices)
  ) return false;
  if (r.usage != null) {
    const u = r.usage as Record<string, unknown>;
    if (typeof u.prompt_tokens !== "number" || typeof u.completion_tokens !== "number") {
      return false;
    }
  }
  for (const choice of r.choices as Record<string, unknown>[]) {
    if (choice === null || typeof choice !== "object" || typeof choice.index !== "number") {
      return false;
    }
    if (choice.finish_reason !== null && !FINISH.has(choice.finish_reason as string)) return false;
    const m = choice.message as Record<string, unknown> | null;
    if (m === null || typeof m !== "object" || m.role !== "assistant") return false;
    if (m.content !== null && typeof m.content !== "string") return false;
    if (m.tool_calls !== undefined) {
      if (!Array.isArray(m.tool_calls)) return false;
      for (const call of m.tool_calls as Record<string, unknown>[]) {
        const fn = call?.function as Record<string, unknown> | undefined;
        if (
          typeof call?.id !== "string" || call.type !== "function" ||
          typeof fn?.name !== "string" || typeof fn.arguments !== "string"
        ) return false;
      }
    }
  }
  return true;
}

/** The canonical response, and whether it differs from the wire bytes. */
function canonicalResponse(wire: WireResponse): { response: ChatResponse; changed: boolean } {
  let changed = wire.object !== "chat.completion" || wire.created === undefined;
  const choices = wire.choices.map((choice) => {
    const content = contentString(choice.message.content);
    const finish = choice.finish_reason === null ? null : canonicalFinish(choice.finish_reason);
    const toolCalls = choice.message.tool_calls?.map((call, i) => toolCall(call, i));
    const { tool_calls: _dropped, ...message } = choice.message;
    if (
      content !== (choice.message.content ?? null) || finish !== choice.finish_reason ||
      choice.message.tool_calls === null ||
      choice.message.role !== "assistant" ||
      toolCalls?.some((call, i) => call !== choice.message.tool_calls![i])
    ) changed = true;
    return {
      ...choice,
      message: {
        ...message,
        role: "assistant" as const,
        content,
        ...(toolCalls ? { tool_calls: toolCalls } : {}),
      },
      finish_reason: finish as FinishReason | null,
    };
  });
  const response = {
    ...wire,
    object: "chat.completion",
    created: wire.created ?? Math.floor(Date.now() / 1000),
    choices,
  } as ChatResponse;
  return { response, changed };
}

/** A tool call in OpenAI's shape; the same object when it already is. */
function toolCall(call: WireToolCall, index: number): ToolCall {
  const args = call.function.arguments;
  if (call.id && call.type === "function" && typeof args === "string" && call.function.name) {
    return call as ToolCall;
  }
  return {
    ...call,
    id: call.id ?? `call_${index}`,
    type: "function",
    function: {
      ...call.function,
      name: call.function.name ?? "",
      arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}),
    },
  };
}
