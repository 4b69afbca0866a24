/**
 * Renders plans and errors in the OpenAI Chat Completions wire format, in the two dialects the
 * simulators speak: OpenAI's own, and Mistral's (usage on the finishing chunk instead of a
 * separate `choices: []` chunk, whole tool calls in one chunk, `tool_calls: null`, flat errors).
 */
import type { Plan } from "./engine.ts";
import { hash32 } from "./engine.ts";

/** The wire differences between OpenAI-format providers. */
export interface ChatDialect {
  /** Prefix of the routes, e.g. `/v1`. */
  readonly pathPrefix: string;
  /** `include_usage`: OpenAI's opt-in final usage chunk; `finish`: Mistral's usage on the last chunk. */
  readonly streamUsage: "include_usage" | "finish";
  /** Tool call arguments streamed in fragments (OpenAI) or whole (Mistral). */
  readonly toolCallFragments: boolean;
  /** Request fields the provider rejects with 422 (Mistral forbids extra inputs). */
  readonly forbiddenFields: readonly string[];
  newId(seed: string): string;
  /** Extra fields on every response and chunk (OpenAI's `system_fingerprint`). */
  readonly extra: Record<string, unknown>;
  error(kind: SimErrorKind, detail: string): { status: number; body: unknown };
  /** Models `GET /models` lists when the options name none. */
  readonly models: readonly string[];
}

export type SimErrorKind =
  | "auth"
  | "rate_limit"
  | "server"
  | "context_length"
  | "bad_request"
  | "not_found"
  | "forbidden_field";

/** Usage in OpenAI's shape. */
export function wireUsage(plan: Plan): Record<string, unknown> {
  const { input, output, cached } = plan.usage;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** The whole answer, as a non-streaming `chat.completion`. */
export function completionBody(
  dialect: ChatDialect,
  id: string,
  model: string,
  plan: Plan,
): Record<string, unknown> {
  const toolCalls = plan.toolCall
    ? [{
      id: plan.toolCall.id,
      type: "function",
      function: { name: plan.toolCall.name, arguments: plan.toolCall.arguments },
    }]
    : dialect.streamUsage === "finish"
    ? null
    : undefined;
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: plan.toolCall
          ? (dialect.streamUsage === "finish" ? "" : null)
          : plan.tokens.join(""),
        ...(dialect.streamUsage === "finish" ? {} : { refusal: null, annotations: [] }),
        ...(toolCalls === undefined ? {} : { tool_calls: toolCalls }),
      },
      ...(dialect.streamUsage === "finish" ? {} : { logprobs: null }),
      finish_reason: plan.finish,
    }],
    usage: wireUsage(plan),
    ...dialect.extra,
  };
}

/** Builds the chunks of one stream, sharing id, model and creation time. */
export class ChunkWriter {
  readonly #head: Record<string, unknown>;
  readonly #usageNull: boolean;
  constructor(
    readonly dialect: ChatDialect,
    id: string,
    model: string,
    /** The client asked for `stream_options.include_usage`. */
    readonly includeUsage: boolean,
  ) {
    this.#head = {
      id,
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model,
      ...dialect.extra,
    };
    this.#usageNull = includeUsage && dialect.streamUsage === "include_usage";
  }

  /** One chunk with a single choice delta. */
  delta(delta: Record<string, unknown>, finish: string | null = null): string {
    const choice: Record<string, unknown> = { index: 0, delta, finish_reason: finish };
    if (this.dialect.streamUsage === "include_usage") choice.logprobs = null;
    return JSON.stringify({
      ...this.#head,
      choices: [choice],
      ...(this.#usageNull ? { usage: null } : {}),
    });
  }

  /** The role chunk OpenAI sends first. */
  role(): string {
    return this.delta(
      this.dialect.streamUsage === "include_usage"
        ? { role: "assistant", content: "", refusal: null }
        : { role: "assistant", content: "" },
    );
  }

  /** The finishing chunk; in the `finish` dialect it carries usage. */
  finish(plan: Plan): string {
    const choice: Record<string, unknown> = {
      index: 0,
      delta: this.dialect.streamUsage === "finish" ? { content: "" } : {},
      finish_reason: plan.finish,
    };
    if (this.dialect.streamUsage === "finish") {
      return JSON.stringify({ ...this.#head, choices: [choice], usage: wireUsage(plan) });
    }
    choice.logprobs = null;
    return JSON.stringify({
      ...this.#head,
      choices: [choice],
      ...(this.#usageNull ? { usage: null } : {}),
    });
  }

  /** OpenAI's usage-only chunk, or nothing when the client did not ask or the dialect differs. */
  usage(plan: Plan): string | undefined {
    if (!this.#usageNull) return undefined;
    return JSON.stringify({ ...this.#head, choices: [], usage: wireUsage(plan) });
  }
}

/** Splits tool call arguments into the fragments OpenAI streams (a few characters each). */
export function argumentFragments(args: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < args.length;) {
    const size = 3 + (hash32(args + i) % 6);
    pieces.push(args.slice(i, i + size));
    i += size;
  }
  return pieces;
}
