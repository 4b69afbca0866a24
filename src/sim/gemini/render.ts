/**
 * The Gemini simulator's output side: a plan rendered as Gemini's `GenerateContentResponse`
 * objects (whole, or one per streamed piece) and Google's error envelope.
 */
import { hash32, type Plan } from "../engine.ts";

/** Everything every response object of one answer shares. */
export interface Answer {
  model: string;
  responseId: string;
  candidates: number;
  plan: Plan;
}

const FINISH: Record<Plan["finish"], string> = {
  stop: "STOP",
  length: "MAX_TOKENS",
  tool_calls: "STOP",
};

/** A response id in the shape Google uses (22 url-safe characters). */
export function newResponseId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, "").slice(0, 22);
}

function usageMetadata(answer: Answer, outputSoFar: number, final: boolean) {
  const { input, cached } = answer.plan.usage;
  const candidates = outputSoFar * answer.candidates;
  return {
    promptTokenCount: input,
    candidatesTokenCount: candidates,
    totalTokenCount: input + candidates,
    ...(final && cached > 0 ? { cachedContentTokenCount: cached } : {}),
    ...(final
      ? {
        promptTokensDetails: [{ modality: "TEXT", tokenCount: input }],
        ...(cached > 0 ? { cacheTokensDetails: [{ modality: "TEXT", tokenCount: cached }] } : {}),
      }
      : {}),
  };
}

/** The model's parts for a whole answer: its text, or a function call with its signature. */
function answerParts(plan: Plan): Record<string, unknown>[] {
  if (plan.toolCall) {
    return [{
      functionCall: { name: plan.toolCall.name, args: JSON.parse(plan.toolCall.arguments) },
      // Gemini 3 signs function calls; clients must send the signature back with the call.
      thoughtSignature: btoa(`sim-signature-${hash32(plan.toolCall.arguments).toString(16)}`),
    }];
  }
  return [{ text: plan.tokens.join("") }];
}

function envelope(answer: Answer, candidates: unknown[], usage: Record<string, unknown>) {
  return {
    candidates,
    usageMetadata: usage,
    modelVersion: answer.model,
    responseId: answer.responseId,
  };
}

function candidatesOf(answer: Answer, parts: unknown[], finish?: string): unknown[] {
  return Array.from({ length: answer.candidates }, (_, index) => ({
    content: { parts, role: "model" },
    ...(finish ? { finishReason: finish } : {}),
    index,
  }));
}

/** The whole answer, as `generateContent` returns it. */
export function wholeResponse(answer: Answer): Record<string, unknown> {
  return envelope(
    answer,
    candidatesOf(answer, answerParts(answer.plan), FINISH[answer.plan.finish]),
    usageMetadata(answer, answer.plan.usage.output, true),
  );
}

/** One streamed text piece; usage so far rides along, as Gemini's own stream does. */
export function pieceResponse(answer: Answer, text: string, outputSoFar: number) {
  return envelope(
    answer,
    candidatesOf(answer, [{ text }]),
    usageMetadata(answer, outputSoFar, false),
  );
}

/** The last streamed object: finish reason and the final usage (and the call, for tools). */
export function finalResponse(answer: Answer) {
  const parts = answer.plan.toolCall ? answerParts(answer.plan) : [{ text: "" }];
  return envelope(
    answer,
    candidatesOf(answer, parts, FINISH[answer.plan.finish]),
    usageMetadata(answer, answer.plan.usage.output, true),
  );
}

/** Google's error envelope (`google.rpc.Status`). */
export function errorObject(
  code: number,
  status: string,
  message: string,
  details?: unknown[],
): Record<string, unknown> {
  return { error: { code, message, status, ...(details ? { details } : {}) } };
}

/** An error response with Google's envelope and headers. */
export function errorResponse(
  code: number,
  status: string,
  message: string,
  options: { details?: unknown[]; headers?: Record<string, string> } = {},
): Response {
  return new Response(
    JSON.stringify(errorObject(code, status, message, options.details), null, 2),
    {
      status: code,
      headers: { "content-type": "application/json; charset=UTF-8", ...options.headers },
    },
  );
}

/**
 * How streamed objects are framed: SSE `data:` events (`alt=sse`, with Google's CRLF line ends)
 * or, by default, the elements of one JSON array sent piece by piece.
 */
export interface Framing {
  contentType: string;
  item(json: unknown, first: boolean): string;
  end(sentAny: boolean): string;
}

/** `alt=sse`: one `data:` event per object. */
export const SSE_FRAMING: Framing = {
  contentType: "text/event-stream",
  item: (json) => `data: ${JSON.stringify(json)}\r\n\r\n`,
  end: () => "",
};

/** No `alt`: the objects as the elements of one JSON array, streamed. */
export const ARRAY_FRAMING: Framing = {
  contentType: "application/json; charset=UTF-8",
  item: (json, first) => `${first ? "[" : "\n,\r\n"}${JSON.stringify(json, null, 2)}`,
  end: (sentAny) => sentAny ? "\n]" : "[]",
};
