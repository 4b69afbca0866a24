/** Reading a chat request: JSON, then the OpenAI shape, with errors that name the field. */
import { z } from "zod";
import { type ChatRequest, ChatRequestSchema } from "../upstream/types.ts";
import { invalidRequest } from "./errors.ts";
import { commonChatRequest } from "./request_fast.ts";

/** Per-request identifiers the app assigned before the handler ran. */
export interface RequestIds {
  requestId: string;
  traceId: string;
}

/** Parses a JSON body, naming the problem when it is not JSON. */
export function parseJson(text: string): unknown {
  if (text.trim() === "") throw invalidRequest("The request body is empty", null, "invalid_json");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidRequest(
      `The request body is not valid JSON: ${error instanceof Error ? error.message : error}`,
      null,
      "invalid_json",
    );
  }
}

/**
 * Validates a chat request, naming the first invalid field. The common shape is checked by hand
 * (request_fast.ts); zod decides everything else and words every error.
 */
export function parseChatRequest(body: unknown): ChatRequest {
  const common = commonChatRequest(body);
  if (common) return common;
  const parsed = ChatRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = mostSpecific(parsed.error.issues);
  const param = issue.path.map(String).join(".") || null;
  const message = issue.code === "invalid_type" && issue.message.endsWith("undefined")
    ? `Missing required parameter: '${param}'`
    : `Invalid '${param ?? "body"}': ${issue.message}`;
  throw invalidRequest(
    message,
    param,
    issue.code === "invalid_type" ? "invalid_type" : "invalid_value",
  );
}

/** A chat request read from its body text. */
export interface ReadChatRequest {
  request: ChatRequest;
  /**
   * The body text itself, when the request is exactly what it parses to: the hand check answers
   * with the parsed object, zod with a normalized copy. An OpenAI-compatible upstream can then take
   * the client's bytes as they are (see Adapter.request).
   */
  raw?: string;
}

/** Parses and validates a chat request body (errors as `parseJson` and `parseChatRequest`). */
export function readChatRequest(text: string): ReadChatRequest {
  const json = parseJson(text);
  const request = parseChatRequest(json);
  return request === json ? { request, raw: text } : { request };
}

/** The deepest issue (a union's failure otherwise names only its root). */
function mostSpecific(issues: z.core.$ZodIssue[]): z.core.$ZodIssue {
  let best = issues[0];
  const visit = (issue: z.core.$ZodIssue, prefix: PropertyKey[]) => {
    const path = [...prefix, ...issue.path];
    if (path.length > best.path.length) best = { ...issue, path };
    if (issue.code === "invalid_union") {
      for (const branch of issue.errors) for (const sub of branch) visit(sub, path);
    }
  };
  for (const issue of issues) visit(issue, []);
  return best;
}

/**
 * What keeps a split sticky: the OpenAI `user`, else the session header, else the request id —
 * so a conversation stays on one arm and keeps its provider-side prompt cache.
 */
export function stickyKeyOf(body: ChatRequest, request: Request, ids: RequestIds): string {
  return body.user ?? request.headers.get("x-switchyard-session") ?? ids.requestId;
}
