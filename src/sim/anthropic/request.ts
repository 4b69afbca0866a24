/**
 * What the Anthropic simulator accepts: the Messages API request body, validated as strictly as
 * the real API validates it (unknown top-level fields, empty text blocks, unpaired tool_use and
 * tool_result blocks, out-of-range sampling parameters are all 400s), so an adapter that sends
 * something Anthropic would refuse fails against the simulator too.
 */
import { z } from "zod";
import { hash32, type SimInput } from "../engine.ts";
import { estimateTokens } from "../../facts/tokens.ts";

const CacheControl = z.looseObject({ type: z.literal("ephemeral") }).nullish();
const Text = z.looseObject({
  type: z.literal("text"),
  text: z.string(),
  cache_control: CacheControl,
});
const Image = z.looseObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [
    z.looseObject({
      type: z.literal("base64"),
      media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]),
      data: z.string().min(1),
    }),
    z.looseObject({ type: z.literal("url"), url: z.url() }),
  ]),
  cache_control: CacheControl,
});
const Document = z.looseObject({
  type: z.literal("document"),
  source: z.looseObject({ type: z.string() }),
});
const ToolUse = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
const ToolResult = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.discriminatedUnion("type", [Text, Image]))]).optional(),
  is_error: z.boolean().optional(),
});
const Block = z.discriminatedUnion("type", [Text, Image, Document, ToolUse, ToolResult]);
type Block = z.infer<typeof Block>;

// `system` turns inside `messages` are accepted (newer models take mid-conversation instructions).
const Message = z.looseObject({
  role: z.enum(["user", "assistant", "system"]),
  content: z.union([z.string(), z.array(Block)]),
});

/** The request body; unknown top-level fields are refused, as the real API refuses them. */
export const MessagesRequestSchema = z.strictObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(Message).min(1),
  system: z.union([z.string(), z.array(Text)]).optional(),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.strictObject({ user_id: z.string().nullish() }).optional(),
  tools: z.array(z.looseObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/),
    description: z.string().optional(),
    input_schema: z.looseObject({ type: z.literal("object") }),
    strict: z.boolean().optional(),
  })).optional(),
  tool_choice: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
    z.strictObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
    z.strictObject({
      type: z.literal("tool"),
      name: z.string(),
      disable_parallel_tool_use: z.boolean().optional(),
    }),
    z.strictObject({ type: z.literal("none") }),
  ]).optional(),
  output_config: z.looseObject({
    format: z.strictObject({
      type: z.literal("json_schema"),
      schema: z.record(z.string(), z.unknown()),
    })
      .nullish(),
  }).optional(),
  // Accepted and ignored: features the simulator does not model.
  thinking: z.unknown().optional(),
  service_tier: z.unknown().optional(),
  cache_control: z.unknown().optional(),
  container: z.unknown().optional(),
  inference_geo: z.unknown().optional(),
});
export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;

/** Formats a zod failure the way the Messages API words validation errors. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue.path.join(".") || "body";
  if (issue.code === "unrecognized_keys") {
    return `${issue.keys[0]}: Extra inputs are not permitted`;
  }
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
    return `${path}: Field required`;
  }
  return `${path}: ${issue.message}`;
}

function blocksOf(message: { content: string | Block[] }): Block[] {
  return typeof message.content === "string"
    ? [{ type: "text", text: message.content }]
    : message.content;
}

/** API versions the simulator answers, as the real API does. */
export const API_VERSIONS = ["2023-01-01", "2023-06-01", "2026-10-21"] as const;
export type ApiVersion = typeof API_VERSIONS[number];

/**
 * Checks the rules a schema cannot express; returns the API's message for the first broken one.
 * Version 2026-10-21 removed the sampling parameters and document blocks in assistant turns.
 */
export function checkConversation(body: MessagesRequest, version: ApiVersion): string | undefined {
  if (version === "2026-10-21") {
    const sampling = (["temperature", "top_p", "top_k"] as const).find((k) =>
      body[k] !== undefined
    );
    if (sampling) return `${sampling}: Extra inputs are not permitted`;
    const i = body.messages.findIndex((m) =>
      m.role === "assistant" && blocksOf(m).some((b) => b.type === "document")
    );
    if (i !== -1) return `messages.${i}: document blocks are not allowed in assistant messages`;
  }
  if (body.temperature !== undefined && body.top_p !== undefined) {
    return "`temperature` and `top_p` cannot both be specified for this model. Please use only one.";
  }
  if (body.tool_choice && !body.tools?.length) {
    return "tool_choice may only be specified while providing tools";
  }
  const { messages } = body;
  for (const [i, message] of messages.entries()) {
    const blocks = blocksOf(message);
    const final = i === messages.length - 1 && message.role === "assistant";
    if (blocks.length === 0 && !final) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    if (blocks.some((b) => b.type === "text" && b.text.trim() === "") && !final) {
      return "messages: text content blocks must be non-empty";
    }
    const last = blocks.at(-1);
    if (final && last?.type === "text" && /\s$/.test(last.text)) {
      return "messages: final assistant content cannot end with trailing whitespace";
    }
    const uses = blocks.flatMap((b) => b.type === "tool_use" ? [b.id] : []);
    const next = messages[i + 1];
    if (uses.length > 0 && next) {
      const answered = new Set(
        blocksOf(next).flatMap((b) => b.type === "tool_result" ? [b.tool_use_id] : []),
      );
      const missing = uses.filter((id) => !answered.has(id));
      if (next.role !== "user" || missing.length > 0) {
        return `messages.${
          i + 1
        }: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${
          (missing.length ? missing : uses).join(", ")
        }. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
      }
    }
    const previous = i > 0 ? blocksOf(messages[i - 1]) : [];
    const known = new Set(previous.flatMap((b) => b.type === "tool_use" ? [b.id] : []));
    for (const [j, block] of blocks.entries()) {
      if (block.type === "tool_result" && !known.has(block.tool_use_id)) {
        return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${block.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
  }
  return undefined;
}

function blockText(block: Block): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "tool_use":
      return `${block.name} ${JSON.stringify(block.input)}`;
    case "tool_result":
      return typeof block.content === "string"
        ? block.content
        : (block.content ?? []).map((b) => b.type === "text" ? b.text : "").join("\n");
    default:
      return "";
  }
}

function conversationText(messages: MessagesRequest["messages"]): string {
  return messages.map((m) => blocksOf(m).map(blockText).join("\n")).join("\n");
}

/** What the engine needs to plan an answer, read from a validated request. */
export function simInput(body: MessagesRequest): SimInput {
  const system = typeof body.system === "string"
    ? body.system
    : (body.system ?? []).map((b) => b.text).join("\n");
  const tools = body.tools ?? [];
  const toolText = tools.length > 0 ? JSON.stringify(tools) : "";
  const history = body.messages.slice(0, -1);
  const lastBlocks = blocksOf(body.messages.at(-1)!);
  const lastUser = body.messages.findLast((m) =>
    m.role === "user" && blocksOf(m).some((b) => b.type === "text")
  );
  const choice = body.tool_choice;
  const prefixText = [toolText, system, conversationText(history)].filter(Boolean).join("\n");
  const prefixJson = JSON.stringify([tools, body.system ?? null, history]);
  return {
    model: body.model,
    promptText: [prefixText, conversationText(body.messages.slice(-1))].join("\n"),
    lastUserText: lastUser
      ? blocksOf(lastUser).flatMap((b) => b.type === "text" ? [b.text] : []).join("\n")
      : "",
    images: body.messages.reduce(
      (n, m) =>
        n + blocksOf(m).reduce(
          (k, b) =>
            k + (b.type === "image" ? 1 : 0) +
            (b.type === "tool_result" && Array.isArray(b.content)
              ? b.content.filter((c) => c.type === "image").length
              : 0),
          0,
        ),
      0,
    ),
    maxTokens: body.max_tokens,
    tools: tools.map((t) => ({ name: t.name, parameters: t.input_schema })),
    toolChoice: choice?.type === "any"
      ? "required"
      : choice?.type === "tool"
      ? { name: choice.name }
      : choice?.type === "none"
      ? "none"
      : "auto",
    afterToolResult: lastBlocks.some((b) => b.type === "tool_result"),
    prefixKey: `${body.model}:${hash32(prefixJson).toString(36)}:${prefixJson.length}`,
    prefixText,
  };
}

/** Tokens in the cacheable prefix, for reporting cache writes. */
export function prefixTokens(input: SimInput): number {
  return input.prefixText ? estimateTokens(input.prefixText) : 0;
}
