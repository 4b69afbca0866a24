/**
 * Reads an OpenAI-format chat request (OpenAI, Mistral and OpenRouter all speak it) into the
 * provider-independent `SimInput` the engine plans from.
 */
import { z } from "zod";
import { ChatRequestSchema, contentText, type Message } from "../upstream/types.ts";
import { hash32, type SimInput } from "./engine.ts";

/** The request fields the simulators read; the rest is accepted and ignored. */
export const SimChatRequestSchema = ChatRequestSchema.extend({
  // Mistral's names for the seed and for "must call a tool".
  random_seed: z.number().int().nullish(),
  tool_choice: z.union([
    z.enum(["none", "auto", "required", "any"]),
    z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
  ]).optional(),
});
export type SimChatRequest = z.infer<typeof SimChatRequestSchema>;

function messageText(message: Message): string {
  let text = contentText(message.content);
  if (message.role === "assistant") {
    for (const call of message.tool_calls ?? []) text += ` ${call.function.arguments}`;
  }
  return text;
}

/** Everything the engine needs from an OpenAI-format request. */
export function chatInput(req: SimChatRequest): SimInput {
  const texts = req.messages.map(messageText);
  const toolsText = req.tools ? JSON.stringify(req.tools) : "";
  let lastUserText = "";
  let images = 0;
  for (const message of req.messages) {
    if (message.role !== "user") continue;
    lastUserText = contentText(message.content);
    if (Array.isArray(message.content)) {
      images += message.content.filter((part) => part.type === "image_url").length;
    }
  }
  const choice = req.tool_choice;
  const toolChoice: SimInput["toolChoice"] = choice === undefined || choice === "auto"
    ? "auto"
    : choice === "any"
    ? "required"
    : typeof choice === "string"
    ? choice
    : { name: choice.function.name };
  const prefixText = toolsText + texts.slice(0, -1).join("\n");
  return {
    model: req.model,
    promptText: [toolsText, ...texts].join("\n"),
    lastUserText,
    images,
    maxTokens: req.max_completion_tokens ?? req.max_tokens ?? undefined,
    tools: (req.tools ?? []).map((t) => ({
      name: t.function.name,
      parameters: t.function.parameters,
    })),
    toolChoice,
    afterToolResult: req.messages.at(-1)?.role === "tool",
    prefixKey: prefixText
      ? `${req.model}:${hash32(prefixText).toString(36)}:${prefixText.length}`
      : undefined,
    prefixText: prefixText || undefined,
  };
}
