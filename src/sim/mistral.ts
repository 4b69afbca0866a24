/**
 * The simulated Mistral Chat Completions API, in Mistral's dialect of the OpenAI format: usage on
 * the finishing chunk (no `stream_options`), whole tool calls in one chunk, `tool_calls: null`,
 * flat `{object:"error",…}` errors, and a 422 for request fields Mistral does not accept.
 * Base URL: `${origin}/v1`.
 */
import type { SimFactory } from "./server.ts";
import { hash32 } from "./engine.ts";
import { createChatSimulator } from "./chat_simulator.ts";
import type { ChatDialect } from "./openai_format.ts";

function hex(seed: string, length: number): string {
  let out = "";
  for (let i = 0; out.length < length; i++) {
    out += hash32(`${seed}#${i}`).toString(16).padStart(8, "0");
  }
  return out.slice(0, length);
}

function mistralError(message: unknown, type: string, code: string | null) {
  return { object: "error", message, type, param: null, code };
}

/** Mistral's dialect of the wire format. */
export const mistralDialect: ChatDialect = {
  pathPrefix: "/v1",
  streamUsage: "finish",
  toolCallFragments: false,
  forbiddenFields: [
    "stream_options",
    "max_completion_tokens",
    "seed",
    "user",
    "store",
    "logit_bias",
  ],
  newId: (seed) => hex(seed, 32),
  extra: {},
  models: ["mistral-small-latest", "mistral-medium-latest", "mistral-large-latest"],
  error(kind, detail) {
    switch (kind) {
      case "auth":
        return { status: 401, body: { message: "Unauthorized", request_id: hex(detail, 32) } };
      case "rate_limit":
        return {
          status: 429,
          body: mistralError("Requests rate limit exceeded", "rate_limited", "1300"),
        };
      case "context_length":
        return {
          status: 400,
          body: mistralError(
            "Prompt contains 40960 tokens and 0 draft tokens, too large for model with 32768" +
              " maximum context length",
            "invalid_request_error",
            "3051",
          ),
        };
      case "not_found":
        return { status: 404, body: { detail: "Not Found" } };
      case "forbidden_field":
        return {
          status: 422,
          body: mistralError(
            {
              detail: [{
                type: "extra_forbidden",
                loc: ["body", detail],
                msg: "Extra inputs are not permitted",
              }],
            },
            "invalid_request_message_error",
            null,
          ),
        };
      case "bad_request":
        return { status: 400, body: mistralError(detail, "invalid_request_error", null) };
      case "server":
        return {
          status: 500,
          body: mistralError("Internal server error", "internal_server_error", "1000"),
        };
    }
  },
};

/** The Mistral simulator's factory, for `startSimulator`. */
export const createMistralSimulator: SimFactory = createChatSimulator(mistralDialect);
