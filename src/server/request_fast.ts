/**
 * A hand-written check of the common chat request shape, tried before zod. It answers only "this
 * body certainly satisfies `ChatRequestSchema`" (and returns it as parsed: zod would return an
 * equal copy) or "not sure" (`undefined`): every request it is not sure of — any content parts,
 * tools, tool choice or response format, any value out of range or of another type — goes to zod,
 * which accepts it or names the invalid field. So the error messages stay zod's, and this path
 * can only be faster, never looser: a differential test runs generated bodies through both.
 *
 * Why: zod walks the whole schema generically and copies the body. On a warm CPU that is under a
 * microsecond, but at low request rates, where every request runs on a cold CPU, it cost ~16 µs
 * of the request's latency; this walk is a few branches over the fields actually present.
 */
import type { ChatRequest } from "../upstream/types.ts";

type Json = Record<string, unknown>;

/**
 * A JSON object that zod would copy to an equal object. JSON.parse makes a `"__proto__"` key an
 * own property, which zod's copy turns into a prototype instead: such objects are zod's to handle.
 */
const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !Object.hasOwn(v, "__proto__");
const isString = (v: unknown): v is string => typeof v === "string";
const optionalString = (v: unknown) => v === undefined || typeof v === "string";
/** `z.number()`: JSON numbers are always finite, but a caller might pass anything. */
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInteger = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

/** Top-level fields with a rule; any other key is passed on unchecked (the schema is loose). */
const TOP_LEVEL = new Map<string, (v: unknown) => boolean>(Object.entries(
  {
    model: (v) => isString(v) && v.length > 0,
    messages: (v) => Array.isArray(v) && v.length > 0 && v.every(isCommonMessage),
    stream: (v) => v === null || typeof v === "boolean",
    stream_options: (v) =>
      v === null || (isObject(v) && (v.include_usage === undefined ||
        typeof v.include_usage === "boolean")),
    max_tokens: (v) => v === null || (isInteger(v) && v > 0),
    max_completion_tokens: (v) => v === null || (isInteger(v) && v > 0),
    temperature: (v) => v === null || (isNumber(v) && v >= 0 && v <= 2),
    top_p: (v) => v === null || (isNumber(v) && v >= 0 && v <= 1),
    n: (v) => v === null || (isInteger(v) && v >= 1),
    stop: (v) => v === null || isString(v) || (Array.isArray(v) && v.every(isString)),
    seed: (v) => v === null || isInteger(v),
    presence_penalty: (v) => v === null || isNumber(v),
    frequency_penalty: (v) => v === null || isNumber(v),
    parallel_tool_calls: (v) => typeof v === "boolean",
    user: isString,
    metadata: (v) => v === null || isObject(v),
    // Rarer shapes with nested schemas: always zod's.
    tools: () => false,
    tool_choice: () => false,
    response_format: () => false,
  } satisfies Record<string, (v: unknown) => boolean>,
));

/** A message with plain string content (or an assistant turn without tool calls). */
function isCommonMessage(m: unknown): boolean {
  if (!isObject(m)) return false;
  switch (m.role) {
    case "system":
    case "developer":
    case "user":
      return isString(m.content) && optionalString(m.name);
    case "assistant":
      return (m.content === undefined || m.content === null || isString(m.content)) &&
        m.tool_calls === undefined &&
        (m.refusal === undefined || m.refusal === null || isString(m.refusal)) &&
        optionalString(m.name);
    case "tool":
      return isString(m.content) && isString(m.tool_call_id);
    default:
      return false;
  }
}

/**
 * The body as a `ChatRequest` when it certainly is one in the common shape; `undefined` when zod
 * must decide. Never throws.
 */
export function commonChatRequest(body: unknown): ChatRequest | undefined {
  if (!isObject(body) || Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  if (body.model === undefined || body.messages === undefined) return undefined;
  for (const key in body) {
    const rule = TOP_LEVEL.get(key);
    if (rule === undefined) continue;
    const value = body[key];
    // An own `undefined` never comes from JSON; leave such bodies to zod.
    if (value === undefined || !rule(value)) return undefined;
  }
  return body as ChatRequest;
}
