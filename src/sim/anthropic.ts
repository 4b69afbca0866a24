/**
 * A simulated Anthropic Messages API at `POST /v1/messages`: the real headers (the key in
 * `x-api-key` or, as SDKs since API version 2026-10-21 send it, `Authorization: Bearer`; a
 * required `anthropic-version`), the real validation errors (see anthropic/request.ts), whole
 * messages and named-event streams, prompt-cache usage (cache writes on a first long prefix,
 * reads on its repeats), stop sequences, and every engine fault mode in Anthropic's own shapes:
 *
 * | fault              | what the client sees                                                   |
 * |--------------------|------------------------------------------------------------------------|
 * | `error`            | 529 `overloaded_error` or 500 `api_error` (even odds)                  |
 * | `rate_limit`       | 429 `rate_limit_error` with `retry-after` and rate-limit headers       |
 * | `timeout`          | no answer until the client gives up                                    |
 * | `reset`            | the connection drops before any response                               |
 * | `mid_stream_cut`   | `after_chunks` content deltas, then the connection drops               |
 * | `mid_stream_stall` | `after_chunks` content deltas, then silence on an open connection      |
 * | `malformed`        | 200 with an HTML body (a stream: an event whose data is not JSON)      |
 * | `error_in_200`     | 200 with an error envelope (a stream: an `error` event first thing)    |
 * | `sse_error`        | `after_chunks` deltas, then `event: error` (`overloaded_error`)        |
 * | `context_length`   | 400 `invalid_request_error` "prompt is too long: N tokens > M maximum" |
 *
 * A non-streaming request under a mid-stream fault gets half its body before the cut or stall;
 * under `sse_error` it gets the 529 the overload would have caused.
 */
import { faultApplies, generationTime, plan, settingsFor, sleep } from "./engine.ts";
import { RESET_CONNECTION, type SimFactory, type SimState } from "./server.ts";
import {
  API_VERSIONS,
  type ApiVersion,
  checkConversation,
  describeIssue,
  type MessagesRequest,
  MessagesRequestSchema,
  prefixTokens,
  simInput,
} from "./anthropic/request.ts";
import { renderMessage, streamEvents, toAnswer } from "./anthropic/render.ts";
import {
  brokenBody,
  errorResponse,
  invalid,
  newId,
  replacingFault,
  sseResponse,
} from "./anthropic/faults.ts";

/** The context window the simulated models have, in tokens. */
export const ANTHROPIC_CONTEXT_WINDOW = 200_000;
/** The smallest prefix Anthropic caches, in tokens. */
const MIN_CACHEABLE = 1024;

/** Checks route, key, version and body; returns the request or the error the API would send. */
async function admit(request: Request, state: SimState): Promise<MessagesRequest | Response> {
  if (new URL(request.url).pathname !== "/v1/messages") {
    return errorResponse(404, { type: "not_found_error", message: "Not found" });
  }
  if (request.method !== "POST") {
    return errorResponse(405, { type: "invalid_request_error", message: "Method not allowed" });
  }
  // `x-api-key` wins when both headers are present, as on the real API.
  const key = request.headers.get("x-api-key") ??
    request.headers.get("authorization")?.replace(/^Bearer\s+/i, "");
  if (state.options.apiKey && key !== state.options.apiKey) {
    const message = key === undefined ? "x-api-key header is required" : "invalid x-api-key";
    return errorResponse(401, { type: "authentication_error", message });
  }
  const version = request.headers.get("anthropic-version");
  if (!version) return invalid("anthropic-version: header is required");
  if (!(API_VERSIONS as readonly string[]).includes(version)) {
    return invalid(`anthropic-version: invalid version ${version}`);
  }
  let json: unknown;
  try {
    json = await request.json();
  } catch {
    return invalid("There was an issue with your request body: it is not valid JSON");
  }
  const parsed = MessagesRequestSchema.safeParse(json);
  if (!parsed.success) return invalid(describeIssue(parsed.error));
  const problem = checkConversation(parsed.data, version as ApiVersion);
  return problem ? invalid(problem) : parsed.data;
}

/** Builds the simulated Messages API over the shared simulator state. */
export const createAnthropicSimulator: SimFactory = (state) => async (request, signal) => {
  const body = await admit(request, state);
  if (body instanceof Response) return body;
  const { options } = state;
  const { latency, fault } = settingsFor(options, body.model);
  const faulted = faultApplies(fault, state.rand) ? fault : undefined;
  const streaming = body.stream === true;
  const replaced = faulted && replacingFault(faulted, streaming, state.rand, signal);
  if (replaced) return replaced;

  const input = simInput(body);
  const answerPlan = plan(input, options, state.cache);
  const promptTokens = faulted?.mode === "context_length"
    ? Math.max(answerPlan.usage.input, ANTHROPIC_CONTEXT_WINDOW + 1)
    : answerPlan.usage.input;
  if (promptTokens > ANTHROPIC_CONTEXT_WINDOW) {
    return invalid(
      `prompt is too long: ${promptTokens} tokens > ${ANTHROPIC_CONTEXT_WINDOW} maximum`,
    );
  }
  const prefix = prefixTokens(input);
  const answer = toAnswer(answerPlan, {
    id: newId("msg"),
    model: body.model,
    stopSequences: body.stop_sequences ?? [],
    cacheWrite: prefix >= MIN_CACHEABLE ? prefix : 0,
  });
  const headers = { "request-id": newId("req") };

  if (streaming) {
    const events = streamEvents(answer, latency, state.rand, signal);
    return sseResponse(events, faulted, signal, headers);
  }
  if (!await sleep(generationTime(answerPlan, latency, state.rand), signal)) {
    return RESET_CONNECTION;
  }
  const text = JSON.stringify(renderMessage(answer));
  const jsonHeaders = { ...headers, "content-type": "application/json" };
  if (faulted?.mode === "mid_stream_cut" || faulted?.mode === "mid_stream_stall") {
    return new Response(brokenBody(text, faulted, signal), { headers: jsonHeaders });
  }
  return new Response(text, { headers: jsonHeaders });
};
