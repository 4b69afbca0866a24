/**
 * A simulated Gemini Developer API speaking the real wire format:
 * - `POST /v1beta/models/{model}:generateContent` → one `GenerateContentResponse`;
 * - `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` → `data:` events, each a whole
 *   response with the next piece, the last carrying `finishReason` and the final usage; without
 *   `alt=sse` the same objects stream as one JSON array, as Google's endpoint does;
 * - `GET /v1beta/models` and `GET /v1beta/models/{model}`.
 *
 * When `options.apiKey` is set the key must come in `x-goog-api-key` (or the `key` query
 * parameter): a missing key is 403 PERMISSION_DENIED, a wrong one 400 INVALID_ARGUMENT with
 * reason API_KEY_INVALID, as Google answers. Every engine fault mode is rendered the way Gemini
 * fails (see `earlyFault` and `streamAnswer`).
 */
import { estimateTokens } from "../facts/tokens.ts";
import {
  faultApplies,
  type FaultSpec,
  generationTime,
  pace,
  plan,
  settingsFor,
  sleep,
} from "./engine.ts";
import type { LatencyProfile } from "./providers.ts";
import { never, RESET_CONNECTION, type SimFactory, type SimState } from "./server.ts";
import { InvalidArgument, parseBody, simInput } from "./gemini/input.ts";
import { getModel, listModels } from "./gemini/models.ts";
import {
  type Answer,
  ARRAY_FRAMING,
  errorObject,
  errorResponse,
  finalResponse,
  type Framing,
  newResponseId,
  pieceResponse,
  SSE_FRAMING,
  wholeResponse,
} from "./gemini/render.ts";

type Reply = Response | typeof RESET_CONNECTION;

const INTERNAL_MESSAGE =
  "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting";
const OVERLOADED_MESSAGE = "The model is overloaded. Please try again later.";
const ROUTE = /^\/(v1beta|v1)\/models(?:\/([^/:]+)(?::(generateContent|streamGenerateContent))?)?$/;

/** Google's answers to a missing or wrong key, or undefined when the key is right. */
function checkKey(request: Request, url: URL, expected: string | undefined): Response | undefined {
  if (!expected) return undefined;
  const presented = request.headers.get("x-goog-api-key") ?? url.searchParams.get("key");
  if (!presented) {
    return errorResponse(
      403,
      "PERMISSION_DENIED",
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    );
  }
  if (presented === expected) return undefined;
  const message = "API key not valid. Please pass a valid API key.";
  return errorResponse(400, "INVALID_ARGUMENT", message, {
    details: [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_INVALID",
        domain: "googleapis.com",
        metadata: { service: "generativelanguage.googleapis.com" },
      },
      { "@type": "type.googleapis.com/google.rpc.LocalizedMessage", locale: "en-US", message },
    ],
  });
}

/** Faults that answer before any generation: the same for streaming and whole requests. */
async function earlyFault(
  fault: FaultSpec,
  promptText: string,
  state: SimState,
  signal: AbortSignal,
): Promise<Reply | undefined> {
  switch (fault.mode) {
    case "reset":
      return RESET_CONNECTION;
    case "timeout":
      return await never(signal);
    case "error":
      return state.rand() < 0.5
        ? errorResponse(503, "UNAVAILABLE", OVERLOADED_MESSAGE)
        : errorResponse(500, "INTERNAL", INTERNAL_MESSAGE);
    case "rate_limit": {
      const seconds = fault.retry_after_s ?? 1;
      return errorResponse(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
        {
          headers: { "retry-after": String(seconds) },
          details: [{
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            retryDelay: `${seconds}s`,
          }],
        },
      );
    }
    case "context_length": {
      const tokens = estimateTokens(promptText);
      return errorResponse(
        400,
        "INVALID_ARGUMENT",
        `The input token count (${tokens}) exceeds the maximum number of tokens allowed (${
          Math.max(0, tokens - 1)
        }).`,
      );
    }
  }
  return undefined;
}

const JSON_HEADERS = { "content-type": "application/json; charset=UTF-8" };

/** Body bytes that are sent, then (per fault) cut off or left hanging. */
function brokenBody(
  text: string,
  mode: "mid_stream_cut" | "mid_stream_stall",
  signal: AbortSignal,
) {
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(new TextEncoder().encode(text.slice(0, Math.floor(text.length / 2))));
      if (mode === "mid_stream_stall") await never(signal);
      controller.error(new Error("Simulated connection loss"));
    },
  });
}

/** A whole (`generateContent`) answer after the generation time, faults applied. */
async function wholeAnswer(
  answer: Answer,
  latency: LatencyProfile,
  fault: FaultSpec | undefined,
  state: SimState,
  signal: AbortSignal,
): Promise<Reply> {
  if (!await sleep(generationTime(answer.plan, latency, state.rand), signal)) {
    return RESET_CONNECTION;
  }
  const text = JSON.stringify(wholeResponse(answer), null, 2);
  switch (fault?.mode) {
    case "malformed":
      // A 200 that is JSON but not a GenerateContentResponse (Vertex's predict shape).
      return new Response(JSON.stringify({ predictions: [{ content: "?" }] }), {
        headers: JSON_HEADERS,
      });
    case "error_in_200":
    case "sse_error":
      return new Response(JSON.stringify(errorObject(500, "INTERNAL", INTERNAL_MESSAGE)), {
        headers: JSON_HEADERS,
      });
    case "mid_stream_cut":
    case "mid_stream_stall":
      return new Response(brokenBody(text, fault.mode, signal), { headers: JSON_HEADERS });
  }
  return new Response(text, { headers: JSON_HEADERS });
}

/** A streamed answer, paced by the latency profile, with mid-stream faults injected. */
function streamAnswer(
  answer: Answer,
  latency: LatencyProfile,
  fault: FaultSpec | undefined,
  framing: Framing,
  state: SimState,
  signal: AbortSignal,
): Response {
  const encoder = new TextEncoder();
  const after = fault?.after_chunks ?? 2;
  const run = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    let first = true;
    const send = (json: unknown) => {
      controller.enqueue(encoder.encode(framing.item(json, first)));
      first = false;
    };
    const end = () => {
      controller.enqueue(encoder.encode(framing.end(!first)));
      controller.close();
    };
    if (fault?.mode === "error_in_200") {
      send(errorObject(500, "INTERNAL", INTERNAL_MESSAGE));
      return end();
    }
    if (fault?.mode === "malformed") {
      // An object cut short inside its framing: not JSON, so not Gemini's format.
      const junk = `{"candidates": [{"content": {"parts": [{"te`;
      controller.enqueue(
        encoder.encode(framing === SSE_FRAMING ? `data: ${junk}\r\n\r\n` : `[${junk}`),
      );
      return controller.close();
    }
    /** Applies a mid-stream fault once `after` content events went out; true when it ended. */
    const midStreamFault = async (sent: number) => {
      if (sent < after) return false;
      switch (fault?.mode) {
        case "mid_stream_cut":
          controller.error(new Error("Simulated connection loss"));
          return true;
        case "mid_stream_stall":
          await never(signal);
          controller.error(new Error("Client went away"));
          return true;
        case "sse_error":
          send(errorObject(500, "INTERNAL", INTERNAL_MESSAGE));
          end();
          return true;
      }
      return false;
    };
    const { tokens } = answer.plan;
    let sent = 0;
    let consumed = 0;
    for await (const piece of pace(tokens, latency, state.rand, signal)) {
      if (await midStreamFault(sent)) return;
      // Count the tokens this piece holds, so usage so far is exact.
      for (let len = 0; len < piece.length && consumed < tokens.length;) {
        len += tokens[consumed++].length;
      }
      send(pieceResponse(answer, piece, consumed));
      sent++;
    }
    if (signal.aborted) return controller.error(new Error("Client went away"));
    if (fault && await midStreamFault(Math.max(sent, after))) return;
    send(finalResponse(answer));
    end();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      run(controller).catch((error) => controller.error(error));
    },
  });
  return new Response(body, {
    headers: { "content-type": framing.contentType, "cache-control": "no-cache" },
  });
}

/** The Gemini simulator. */
export const createGeminiSimulator: SimFactory = (state) => async (request, signal) => {
  const url = new URL(request.url);
  const route = ROUTE.exec(url.pathname);
  const method = route?.[3] ? "POST" : "GET";
  if (!route || request.method !== method) {
    return errorResponse(404, "NOT_FOUND", `The requested URL ${url.pathname} was not found.`);
  }
  const denied = checkKey(request, url, state.options.apiKey);
  if (denied) return denied;
  const model = decodeURIComponent(route[2] ?? "");
  if (!route[2]) return listModels(state.options);
  if (!route[3]) return getModel(state.options, model);

  let input: ReturnType<typeof simInput>;
  try {
    input = simInput(model, parseBody(await request.text(), model));
  } catch (error) {
    if (error instanceof InvalidArgument) {
      return errorResponse(400, "INVALID_ARGUMENT", error.message);
    }
    throw error;
  }
  const { latency, fault } = settingsFor(state.options, model);
  const faulty = faultApplies(fault, state.rand) ? fault : undefined;
  if (faulty) {
    const early = await earlyFault(faulty, input.promptText, state, signal);
    if (early) return early;
  }
  const answer: Answer = {
    model,
    responseId: newResponseId(),
    candidates: input.candidates,
    plan: plan(input, state.options, state.cache),
  };
  if (route[3] === "generateContent") {
    return wholeAnswer(answer, latency, faulty, state, signal);
  }
  const framing = url.searchParams.get("alt") === "sse" ? SSE_FRAMING : ARRAY_FRAMING;
  return streamAnswer(answer, latency, faulty, framing, state, signal);
};
