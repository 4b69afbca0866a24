/**
 * The simulated OpenAI Chat Completions API: `POST /v1/chat/completions` (JSON and SSE, with
 * `stream_options.include_usage`, `usage: null` on chunks and the final `choices: []` usage
 * chunk, tool calls streamed as id + name then argument fragments, cached prompt tokens) and
 * `GET /v1/models`, with OpenAI's error shapes. Base URL: `${origin}/v1`.
 */
import type { SimFactory } from "./server.ts";
import { hash32 } from "./engine.ts";
import { createChatSimulator } from "./chat_simulator.ts";
import type { ChatDialect } from "./openai_format.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A deterministic run of `length` letters and digits derived from `seed`. */
export function idChars(seed: string, length: number): string {
  let out = "";
  for (let i = 0; out.length < length; i++) {
    let h = hash32(`${seed}#${i}`);
    for (let j = 0; j < 5 && out.length < length; j++) {
      out += ALPHABET[h % ALPHABET.length];
      h = Math.floor(h / ALPHABET.length);
    }
  }
  return out;
}

function openaiError(
  type: string,
  message: string,
  code: string | null,
  param: string | null = null,
) {
  return { error: { message, type, param, code } };
}

/** OpenAI's dialect of the wire format. */
export const openaiDialect: ChatDialect = {
  pathPrefix: "/v1",
  streamUsage: "include_usage",
  toolCallFragments: true,
  forbiddenFields: [],
  newId: (seed) => `chatcmpl-${idChars(seed, 29)}`,
  extra: { service_tier: "default", system_fingerprint: "fp_5a1c2e3d4b" },
  models: ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-5-mini"],
  error(kind, detail) {
    switch (kind) {
      case "auth":
        return {
          status: 401,
          body: openaiError(
            "invalid_request_error",
            `Incorrect API key provided: ${detail.replace(/^Bearer\s+/i, "").slice(0, 6)}****.`,
            "invalid_api_key",
          ),
        };
      case "rate_limit":
        return {
          status: 429,
          body: openaiError(
            "requests",
            `Rate limit reached for ${detail} on requests per min (RPM). Please try again later.`,
            "rate_limit_exceeded",
          ),
        };
      case "context_length":
        return {
          status: 400,
          body: openaiError(
            "invalid_request_error",
            "This model's maximum context length is 128000 tokens. However, your messages resulted" +
              " in 131072 tokens. Please reduce the length of the messages.",
            "context_length_exceeded",
            "messages",
          ),
        };
      case "not_found":
        return {
          status: 404,
          body: openaiError("invalid_request_error", `Invalid URL (${detail})`, null),
        };
      case "bad_request":
      case "forbidden_field":
        return {
          status: 400,
          body: openaiError("invalid_request_error", detail, null),
        };
      case "server":
        return {
          status: 500,
          body: openaiError(
            "server_error",
            "The server had an error while processing your request. Sorry about that!",
            null,
          ),
        };
    }
  },
};

/** The OpenAI simulator's factory, for `startSimulator`. */
export const createOpenAISimulator: SimFactory = createChatSimulator(openaiDialect);
