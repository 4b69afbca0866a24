/**
 * The Anthropic Messages API adapter.
 *
 * Base URL convention: a route's `baseUrl` includes the API version path, like OpenAI's, and the
 * request goes to `${baseUrl}/messages`. The default is `https://api.anthropic.com/v1`; a
 * simulator at origin `http://127.0.0.1:PORT` is reached with `baseUrl` = `${origin}/v1`. (The
 * official SDK's `baseURL` is the origin without `/v1`: keep the two apart when configuring.)
 *
 * Translation details live beside this file: request.ts (parameters, with the lossy mappings
 * documented there), messages.ts (system prompt, alternation, tool results, images),
 * response.ts, stream.ts and errors.ts.
 */
import type { Adapter } from "../adapter.ts";
import { classifyError } from "./errors.ts";
import { buildRequest } from "./request.ts";
import { translateResponse } from "./response.ts";
import { createTranslator, translateStream } from "./stream.ts";

/** Speaks the Messages API (`POST /v1/messages`, `x-api-key`, `anthropic-version`). */
export const anthropicAdapter: Adapter = {
  provider: "anthropic",
  genAiProviderName: "anthropic",
  defaultBaseUrl: "https://api.anthropic.com/v1",
  defaultApiKeyEnv: "ANTHROPIC_API_KEY",
  request: buildRequest,
  response: translateResponse,
  stream: translateStream,
  translator: createTranslator,
  error: classifyError,
};
