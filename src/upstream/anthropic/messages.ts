/**
 * The conversation, translated: OpenAI's flat list of system, user, assistant and tool messages
 * becomes Anthropic's top-level `system` plus alternating user/assistant turns of content blocks.
 *
 * Lossy on purpose, in these places:
 * - system and developer messages are hoisted to `system` in order, wherever they stood. Newer
 *   models (Opus 4.8 on) also take `role: "system"` turns mid-conversation, but older ones
 *   refuse them, and the adapter does not know which model a route names;
 * - `name` on a message has no Anthropic equivalent and is dropped;
 * - empty or whitespace-only text is dropped (Anthropic rejects empty text blocks), and so is a
 *   turn left with no blocks;
 * - a final assistant message (a prefill) loses its trailing whitespace, which Anthropic rejects.
 *
 * A `cache_control` on an OpenAI text or image part (the convention OpenRouter uses) is carried to
 * the block, so clients can place prompt-cache breakpoints.
 */
import { UpstreamError } from "../errors.ts";
import type { ContentPart, Message, TextContentPart, ToolCall } from "../types.ts";

export interface TextBlock {
  type: "text";
  text: string;
  cache_control?: Record<string, unknown>;
}
export type ImageSource =
  | { type: "base64"; media_type: string; data: string }
  | { type: "url"; url: string };
export interface ImageBlock {
  type: "image";
  source: ImageSource;
  cache_control?: Record<string, unknown>;
}
export interface DocumentBlock {
  type: "document";
  source: { type: "base64"; media_type: "application/pdf"; data: string };
  title?: string;
}
export interface ToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: Record<string, unknown>;
}
export interface ToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content: string | TextBlock[];
}
export type ContentBlock = TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock;

/** One Anthropic turn. */
export interface AnthropicMessage {
  role: "user" | "assistant";
  content: string | ContentBlock[];
}

/** The `system` and `messages` fields of a Messages API request. */
export interface Conversation {
  system?: string | TextBlock[];
  messages: AnthropicMessage[];
}

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s;

function rejected(message: string): UpstreamError {
  return new UpstreamError("client_error", message);
}

function cacheControlOf(part: object): Record<string, unknown> | undefined {
  const value = (part as { cache_control?: unknown }).cache_control;
  return value !== null && typeof value === "object" ? value as Record<string, unknown> : undefined;
}

function textBlock(text: string, part?: object): TextBlock | undefined {
  if (text.trim() === "") return undefined;
  const cache = part && cacheControlOf(part);
  return cache ? { type: "text", text, cache_control: cache } : { type: "text", text };
}

function imageBlock(url: string, part: object): ImageBlock {
  const data = DATA_URL.exec(url);
  let source: ImageSource;
  if (data) source = { type: "base64", media_type: data[1], data: data[2] };
  else if (/^https?:\/\//i.test(url)) source = { type: "url", url };
  else throw rejected("Anthropic accepts images only as data: URLs or http(s) URLs");
  const cache = cacheControlOf(part);
  return cache ? { type: "image", source, cache_control: cache } : { type: "image", source };
}

/** OpenAI's `file` part: only inline PDFs have an Anthropic equivalent (a document block). */
function documentBlock(part: ContentPart): DocumentBlock {
  const file = (part as { file?: { file_data?: unknown; filename?: unknown } }).file;
  const data = typeof file?.file_data === "string" ? DATA_URL.exec(file.file_data) : null;
  if (!data || data[1] !== "application/pdf") {
    throw rejected("Anthropic accepts file parts only as inline PDF data (file_data)");
  }
  const block: DocumentBlock = {
    type: "document",
    source: { type: "base64", media_type: "application/pdf", data: data[2] },
  };
  if (typeof file?.filename === "string") block.title = file.filename;
  return block;
}

function partBlocks(content: string | ContentPart[] | null | undefined): ContentBlock[] {
  if (content == null) return [];
  if (typeof content === "string") return [textBlock(content)].filter((b) => b !== undefined);
  const blocks: ContentBlock[] = [];
  for (const part of content) {
    if (part.type === "text") {
      const block = textBlock((part as TextContentPart).text, part);
      if (block) blocks.push(block);
    } else if (part.type === "image_url") {
      blocks.push(imageBlock((part as { image_url: { url: string } }).image_url.url, part));
    } else if (part.type === "file") {
      blocks.push(documentBlock(part));
    } else {
      throw rejected(`Anthropic does not accept ${part.type} content parts`);
    }
  }
  return blocks;
}

function toolUseBlock(call: ToolCall): ToolUseBlock {
  const text = call.function.arguments.trim();
  let input: unknown = {};
  try {
    if (text !== "") input = JSON.parse(text);
  } catch {
    input = undefined;
  }
  // Anthropic needs the input as an object; guessing at broken arguments would rewrite history.
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw rejected(`Tool call ${call.id} has arguments that are not a JSON object`);
  }
  return {
    type: "tool_use",
    id: call.id,
    name: call.function.name,
    input: input as Record<string, unknown>,
  };
}

function toolResultBlock(message: Extract<Message, { role: "tool" }>): ToolResultBlock {
  const content = typeof message.content === "string"
    ? message.content
    : message.content.map((part): TextBlock => ({ type: "text", text: part.text }))
      .filter((b) => b.text !== "");
  return { type: "tool_result", tool_use_id: message.tool_call_id, content };
}

function systemBlocks(message: Extract<Message, { role: "system" | "developer" }>): TextBlock[] {
  return partBlocks(message.content) as TextBlock[];
}

/** Anthropic rejects a final assistant turn that ends in whitespace. */
function trimPrefill(turns: { role: string; blocks: ContentBlock[] }[]): void {
  const last = turns.at(-1);
  if (last?.role !== "assistant") return;
  const block = last.blocks.at(-1);
  if (block?.type !== "text") return;
  block.text = block.text.trimEnd();
  if (block.text === "") last.blocks.pop();
  if (last.blocks.length === 0) turns.pop();
}

/** Splits out the system prompt and merges the rest into alternating turns. */
export function toConversation(messages: Message[]): Conversation {
  const system: TextBlock[] = [];
  const turns: { role: "user" | "assistant"; blocks: ContentBlock[] }[] = [];
  const push = (role: "user" | "assistant", blocks: ContentBlock[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    // Anthropic requires alternation: consecutive same-role messages become one turn.
    if (last?.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };
  for (const message of messages) {
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...systemBlocks(message));
        break;
      case "user":
        push("user", partBlocks(message.content));
        break;
      case "assistant":
        push("assistant", [
          ...partBlocks(message.content),
          ...(message.tool_calls ?? []).map(toolUseBlock),
        ]);
        break;
      case "tool":
        push("user", [toolResultBlock(message)]);
        break;
    }
  }
  trimPrefill(turns);
  const out: Conversation = {
    messages: turns.map(({ role, blocks }) => ({
      role,
      // A lone plain text block is sent as a string, as most clients write it.
      content: blocks.length === 1 && blocks[0].type === "text" && !blocks[0].cache_control
        ? blocks[0].text
        : blocks,
    })),
  };
  if (system.length === 1 && !system[0].cache_control) out.system = system[0].text;
  else if (system.length > 0) out.system = system;
  return out;
}
