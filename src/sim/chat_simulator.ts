/**
 * The simulator for OpenAI-format providers (OpenAI, Mistral): `POST {prefix}/chat/completions`
 * and `GET {prefix}/models`, every fault mode, real pacing. A dialect supplies the differences.
 */
import { encodeSse, SSE_DONE } from "../upstream/sse.ts";
import {
  faultApplies,
  type FaultMode,
  generationTime,
  pace,
  type Plan,
  plan,
  settingsFor,
  sleep,
} from "./engine.ts";
import type { LatencyProfile } from "./providers.ts";
import { isAuthorized, never, RESET_CONNECTION, type SimFactory, type SimState } from "./server.ts";
import { chatInput, type SimChatRequest, SimChatRequestSchema } from "./chat_input.ts";
import {
  argumentFragments,
  type ChatDialect,
  ChunkWriter,
  completionBody,
  type SimErrorKind,
} from "./openai_format.ts";
import { CUT, SSE_HEADERS, streamBody } from "./stream_body.ts";

/** Builds the simulator for one OpenAI-format dialect. */
export function createChatSimulator(dialect: ChatDialect): SimFactory {
  return (state) => async (request, signal) => {
    const path = new URL(request.url).pathname;
    const fail = (kind: SimErrorKind, detail = "", headers: Record<string, string> = {}) => {
      const { status, body } = dialect.error(kind, detail);
      return Response.json(body, { status, headers });
    };
    if (!isAuthorized(request, state.options.apiKey, { header: "authorization" })) {
      return fail("auth", request.headers.get("authorization") ?? "");
    }
    if (request.method === "GET" && path === `${dialect.pathPrefix}/models`) {
      return Response.json(modelList(dialect, state));
    }
    if (request.method !== "POST" || path !== `${dialect.pathPrefix}/chat/completions`) {
      return fail("not_found", path);
    }
    let json: Record<string, unknown>;
    try {
      json = await request.json();
    } catch {
      return fail("bad_request", "We could not parse the JSON body of your request.");
    }
    const forbidden = dialect.forbiddenFields.find((field) => field in json);
    if (forbidden) return fail("forbidden_field", forbidden);
    const parsed = SimChatRequestSchema.safeParse(json);
    if (!parsed.success) return fail("bad_request", parsed.error.issues[0]?.message ?? "Invalid");
    return await answer(dialect, state, parsed.data, signal, fail);
  };
}

async function answer(
  dialect: ChatDialect,
  state: SimState,
  req: SimChatRequest,
  signal: AbortSignal,
  fail: (kind: SimErrorKind, detail?: string, headers?: Record<string, string>) => Response,
): Promise<Response | typeof RESET_CONNECTION> {
  const { latency, fault } = settingsFor(state.options, req.model);
  const mode: FaultMode = faultApplies(fault, state.rand) ? fault.mode : "none";
  const streaming = req.stream === true;
  switch (mode) {
    case "reset":
      return RESET_CONNECTION;
    case "timeout":
      return never(signal);
    case "error":
      return fail("server");
    case "rate_limit":
      return fail("rate_limit", req.model, { "retry-after": String(fault.retry_after_s ?? 1) });
    case "context_length":
      return fail("context_length", req.model);
    case "malformed":
      if (!streaming) {
        return new Response("<html><body><h1>502 Bad Gateway</h1></body></html>", {
          headers: { "content-type": "text/html" },
        });
      }
      break;
    case "error_in_200":
      if (!streaming) return Response.json(dialect.error("server", "").body);
      break;
    case "sse_error":
      if (!streaming) return fail("server");
      break;
  }
  const planned = plan(chatInput(req), state.options, state.cache);
  const id = dialect.newId(`${req.model}|${Date.now()}|${state.rand()}`);
  if (!streaming) {
    const done = await sleep(generationTime(planned, latency, state.rand), signal);
    // A non-streaming request cannot be cut mid-body: the connection drops before the answer.
    if (!done || mode === "mid_stream_cut") return RESET_CONNECTION;
    if (mode === "mid_stream_stall") return never(signal);
    return Response.json(completionBody(dialect, id, req.model, planned));
  }
  const writer = new ChunkWriter(
    dialect,
    id,
    req.model,
    req.stream_options?.include_usage === true,
  );
  const afterChunks = mode === "error_in_200" || mode === "malformed" ? 0 : fault.after_chunks ?? 2;
  const events = chunks(writer, planned, latency, state.rand, signal);
  return new Response(streamBody(withFault(events, mode, afterChunks, dialect, signal)), {
    headers: SSE_HEADERS,
  });
}

/** One SSE event of an answer; `end` marks the finishing chunk. */
interface SimEvent {
  data: Uint8Array;
  content: boolean;
  end?: boolean;
}

/** The answer's events, paced: role, content (or tool call) deltas, finish, usage, `[DONE]`. */
async function* chunks(
  writer: ChunkWriter,
  planned: Plan,
  latency: LatencyProfile,
  rand: () => number,
  signal: AbortSignal,
): AsyncGenerator<SimEvent> {
  const call = planned.toolCall;
  const pieces = call
    ? (writer.dialect.toolCallFragments ? argumentFragments(call.arguments) : [call.arguments])
    : planned.tokens;
  let first = true;
  for await (const piece of pace(pieces, latency, rand, signal)) {
    if (!call) {
      if (first) yield { data: encodeSse(writer.role()), content: false };
      yield { data: encodeSse(writer.delta({ content: piece })), content: true };
    } else if (!writer.dialect.toolCallFragments) {
      yield { data: encodeSse(writer.role()), content: false };
      const whole = { id: call.id, function: { name: call.name, arguments: piece }, index: 0 };
      yield { data: encodeSse(writer.delta({ tool_calls: [whole] })), content: true };
    } else {
      if (first) {
        const head = {
          index: 0,
          id: call.id,
          type: "function",
          function: { name: call.name, arguments: "" },
        };
        const delta = { role: "assistant", content: null, tool_calls: [head], refusal: null };
        yield { data: encodeSse(writer.delta(delta)), content: true };
      }
      const fragment = { index: 0, function: { arguments: piece } };
      yield { data: encodeSse(writer.delta({ tool_calls: [fragment] })), content: true };
    }
    first = false;
  }
  if (signal.aborted) return;
  yield { data: encodeSse(writer.finish(planned)), content: false, end: true };
  const usage = writer.usage(planned);
  if (usage) yield { data: encodeSse(usage), content: false };
  yield { data: SSE_DONE, content: false };
}

/** Passes events through until `afterChunks` content events went out, then misbehaves. */
async function* withFault(
  events: AsyncGenerator<SimEvent>,
  mode: FaultMode,
  afterChunks: number,
  dialect: ChatDialect,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array | typeof CUT> {
  const midStream = ["mid_stream_cut", "mid_stream_stall", "sse_error", "error_in_200", "malformed"]
    .includes(mode);
  let sent = 0;
  const misbehave = async function* () {
    if (mode === "mid_stream_cut") yield CUT;
    else if (mode === "mid_stream_stall") await never(signal);
    else if (mode === "malformed") yield encodeSse("<html>upstream connect error</html>");
    else yield encodeSse(JSON.stringify(dialect.error("server", "").body));
  };
  try {
    for await (const event of events) {
      // A short answer misbehaves before its end even if it has fewer content events.
      if (midStream && (event.end || (event.content && sent === afterChunks))) {
        yield* misbehave();
        return;
      }
      yield event.data;
      if (event.content) sent++;
    }
  } finally {
    await events.return(undefined);
  }
}

function modelList(dialect: ChatDialect, state: SimState): unknown {
  const ids = new Set([...dialect.models, ...Object.keys(state.options.models ?? {})]);
  return {
    object: "list",
    data: [...ids].map((id) => ({
      id,
      object: "model",
      created: 1_715_367_049,
      owned_by: "system",
    })),
  };
}
