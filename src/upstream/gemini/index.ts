/**
 * The Google Gemini adapter (Gemini Developer API, `generativelanguage.googleapis.com`).
 *
 * Base URL convention: a route's `base_url` includes the API version, without a trailing slash
 * (default `https://generativelanguage.googleapis.com/v1beta`). Requests go to
 * `${baseUrl}/models/${model}:generateContent` and, streaming,
 * `${baseUrl}/models/${model}:streamGenerateContent?alt=sse`. A model given as a resource name
 * (`models/x`, `tunedModels/y`) is appended as is. The key travels in `x-goog-api-key`.
 *
 * Mapping decisions where OpenAI and Gemini do not line up:
 * - System and developer messages all join `systemInstruction`, in order, wherever they appear.
 *   A conversation with only system messages is sent as one user turn (Gemini needs contents).
 * - Assistant → `model`; tool results → `functionResponse` parts in a user turn, named by looking
 *   up the function of the tool call id they answer; consecutive same-role turns are merged.
 *   Tool arguments that are not a JSON object are sent as `{"arguments": "<text>"}`; a tool result
 *   that is a JSON object is the `response`, anything else is `{"result": …}`.
 * - Tool parameters and `json_schema` response formats are full JSON Schema, so they go to
 *   `parametersJsonSchema` and `responseJsonSchema` (the older `parameters`/`responseSchema`
 *   only take Google's OpenAPI subset).
 * - Gemini 3 issues a thought signature with each function call and wants it back. It is handed
 *   to clients as `tool_calls[].extra_content.google.thought_signature` (where Google's own
 *   OpenAI layer puts it) and read back from there; a replayed call without one gets Google's
 *   documented placeholder `skip_thought_signature_validator`.
 * - Tool call ids: Gemini's `functionCall.id` when it sends one, else a fresh `call_…` id.
 * - Usage: completion tokens = `candidatesTokenCount + thoughtsTokenCount` (thinking is billed as
 *   output; also reported as reasoning tokens); prompt tokens = `promptTokenCount` (which counts
 *   cached tokens) + `toolUsePromptTokenCount`; cached tokens = `cachedContentTokenCount`.
 * - A prompt Gemini blocks (`promptFeedback.blockReason`, no candidates) arrives as HTTP 200 and
 *   is translated as such: one empty choice with finish reason `content_filter`, not an error.
 * - Streams end without a terminator; see stream.ts for how a complete stream is told from a cut
 *   one (every candidate must have sent its `finishReason`).
 */
import type { Adapter } from "../adapter.ts";
import { geminiError } from "./errors.ts";
import { geminiUrl, toGeminiRequest } from "./request.ts";
import { translateResponse } from "./response.ts";
import { createTranslator, translateStream } from "./stream.ts";

/** Speaks Gemini's `generateContent` / `streamGenerateContent` wire format. */
export const geminiAdapter: Adapter = {
  provider: "gemini",
  genAiProviderName: "gcp.gemini",
  defaultBaseUrl: "https://generativelanguage.googleapis.com/v1beta",
  defaultApiKeyEnv: "GEMINI_API_KEY",
  request(req, target) {
    return {
      url: geminiUrl(target.baseUrl, target.model, req.stream === true),
      headers: { "content-type": "application/json", "x-goog-api-key": target.apiKey },
      body: JSON.stringify(toGeminiRequest(req)),
    };
  },
  response: translateResponse,
  stream: translateStream,
  translator: createTranslator,
  error: geminiError,
};
