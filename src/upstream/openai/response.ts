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
