/**
 * The Gemini simulator's reading of a `GenerateContentRequest`: validated as strictly as Google's
 * proto-JSON front end does (an unknown field is a 400, not silently ignored, so an adapter that
 * misspells a field fails here as it would in production), then reduced to the engine's
 * provider-independent `SimInput`.
 */
import { z } from "zod";
import { hash32, type SimInput } from "../engine.ts";

const REQUEST_FIELDS = [
  "model",
  "contents",
  "systemInstruction",
  "generationConfig",
  "tools",
  "toolConfig",
  "safetySettings",
  "cachedContent",
  "serviceTier",
];
const GENERATION_CONFIG_FIELDS = [
  "stopSequences",
  "responseMimeType",
  "responseSchema",
  "responseJsonSchema",
  "responseModalities",
  "candidateCount",
  "maxOutputTokens",
  "temperature",
  "topP",
  "topK",
  "seed",
  "presencePenalty",
  "frequencyPenalty",
  "responseLogprobs",
  "logprobs",
  "enableEnhancedCivicAnswers",
  "speechConfig",
  "thinkingConfig",
  "imageConfig",
  "mediaResolution",
];
const PART_FIELDS = [
  "text",
  "inlineData",
  "fileData",
  "functionCall",
  "functionResponse",
  "executableCode",
  "codeExecutionResult",
  "thought",
  "thoughtSignature",
  "videoMetadata",
  "partMetadata",
  "mediaResolution",
];
const DECLARATION_FIELDS = [
  "name",
  "description",
  "behavior",
  "parameters",
  "parametersJsonSchema",
  "response",
  "responseJsonSchema",
];

const Part = z.looseObject({
  text: z.string().optional(),
  thoughtSignature: z.string().optional(),
  inlineData: z.looseObject({ mimeType: z.string(), data: z.string() }).optional(),
  fileData: z.looseObject({ mimeType: z.string().optional(), fileUri: z.string() }).optional(),
  functionCall: z.looseObject({ name: z.string(), args: z.unknown().optional() }).optional(),
  functionResponse: z.looseObject({ name: z.string(), response: z.unknown().optional() })
    .optional(),
});
type Part = z.infer<typeof Part>;
const Content = z.looseObject({ role: z.string().optional(), parts: z.array(Part) });
type Content = z.infer<typeof Content>;
const JsonSchema = z.record(z.string(), z.unknown());

const Body = z.looseObject({
  contents: z.array(Content),
  systemInstruction: z.looseObject({ parts: z.array(Part) }).optional(),
  generationConfig: z.looseObject({
    maxOutputTokens: z.number().int().positive().optional(),
    candidateCount: z.number().int().min(1).max(8).optional(),
  }).optional(),
  tools: z.array(z.looseObject({
    functionDeclarations: z.array(z.looseObject({
      name: z.string().min(1),
      parameters: JsonSchema.optional(),
      parametersJsonSchema: JsonSchema.optional(),
    })).optional(),
  })).optional(),
  toolConfig: z.looseObject({
    functionCallingConfig: z.looseObject({
      mode: z.enum(["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"]).optional(),
      allowedFunctionNames: z.array(z.string()).optional(),
    }).optional(),
  }).optional(),
});
type Body = z.infer<typeof Body>;

/** A request Google would refuse with 400 INVALID_ARGUMENT, and its message. */
export class InvalidArgument extends Error {
  override name = "InvalidArgument";
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function checkFields(value: unknown, allowed: string[], path: string): void {
  if (typeof value !== "object" || value === null) return;
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const at = path === "" ? "" : ` at '${path}'`;
      throw new InvalidArgument(
        `Invalid JSON payload received. Unknown name "${key}"${at}: Cannot find field.`,
      );
    }
  }
}

/** Rejects unknown fields where an adapter bug would put them. */
function checkKnownFields(json: Record<string, unknown>): void {
  checkFields(json, REQUEST_FIELDS, "");
  checkFields(json.generationConfig, GENERATION_CONFIG_FIELDS, "generation_config");
  const contents = Array.isArray(json.contents) ? json.contents : [];
  contents.forEach((content: { parts?: unknown }, i) => {
    if (!Array.isArray(content?.parts)) return;
    content.parts.forEach((part, j) =>
      checkFields(part, PART_FIELDS, `contents[${i}].parts[${j}]`)
    );
  });
  const tools = Array.isArray(json.tools) ? json.tools : [];
  tools.forEach((tool: { functionDeclarations?: unknown }, i) => {
    if (!Array.isArray(tool?.functionDeclarations)) return;
    tool.functionDeclarations.forEach((d, j) =>
      checkFields(d, DECLARATION_FIELDS, `tools[${i}].function_declarations[${j}]`)
    );
  });
}

/**
 * Gemini 3 and later refuse a replayed function call of the current turn (the model turns after
 * the last user text) whose first call lacks the thought signature it was issued with.
 */
function checkSignatures(model: string, contents: Content[]): void {
  if (!/^gemini-([3-9]|\d\d)/.test(model)) return;
  const lastText = contents.findLastIndex((c) =>
    c.role !== "model" && c.parts.some((p) => p.text !== undefined)
  );
  contents.slice(lastText + 1).forEach((content) => {
    if (content.role !== "model") return;
    const position = content.parts.findIndex((p) => p.functionCall !== undefined);
    const first = content.parts[position];
    if (first && typeof first.thoughtSignature !== "string") {
      throw new InvalidArgument(
        `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${first.functionCall?.name}\` , position ${
          position + 1
        }. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
      );
    }
  });
}

/** Parses and validates a request body for `model`, as Google's front end would. */
export function parseBody(text: string, model: string): Body {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidArgument(`Invalid JSON payload received. Unexpected token.`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InvalidArgument("Invalid JSON payload received. Expected an object.");
  }
  checkKnownFields(json as Record<string, unknown>);
  const parsed = Body.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map((p) => typeof p === "number" ? `[${p}]` : snake(String(p)))
      .join(".").replaceAll(".[", "[");
    if (issue.path[0] === "contents" && issue.path.length === 1) {
      throw new InvalidArgument("* GenerateContentRequest.contents: contents is not specified\n");
    }
    throw new InvalidArgument(`Invalid value at '${field}': ${issue.message}`);
  }
  const body = parsed.data;
  if (body.contents.length === 0) {
    throw new InvalidArgument("* GenerateContentRequest.contents: contents is not specified\n");
  }
  body.contents.forEach((content, i) => {
    if (content.role !== undefined && content.role !== "user" && content.role !== "model") {
      throw new InvalidArgument("Please use a valid role: user, model.");
    }
    if (content.parts.length === 0) {
      throw new InvalidArgument(
        `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`,
      );
    }
  });
  checkSignatures(model, body.contents);
  return body;
}

/** The text a part contributes to the prompt (tool calls and results count too). */
function partText(part: Part): string {
  if (part.text !== undefined) return part.text;
  if (part.functionCall) {
    return `${part.functionCall.name} ${JSON.stringify(part.functionCall.args ?? {})}`;
  }
  if (part.functionResponse) {
    return `${part.functionResponse.name} ${JSON.stringify(part.functionResponse.response ?? {})}`;
  }
  return "";
}

const textOf = (parts: Part[]) => parts.map(partText).filter((t) => t !== "").join("\n");

const isImage = (part: Part) =>
  part.inlineData?.mimeType.startsWith("image/") === true ||
  (part.fileData !== undefined && (part.fileData.mimeType ?? "image/").startsWith("image/"));

/** Reduces a validated request to what the engine plans from. */
export function simInput(model: string, body: Body): SimInput & { candidates: number } {
  const system = body.systemInstruction?.parts ?? [];
  const contents = body.contents;
  const last = contents[contents.length - 1];
  const lastUser = [...contents].reverse().find((c: Content) =>
    c.role !== "model" && c.parts.some((p) => p.text !== undefined)
  );
  const calling = body.toolConfig?.functionCallingConfig;
  const allowed = calling?.mode === "ANY" ? calling.allowedFunctionNames ?? [] : [];
  const tools = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? [])
    .filter((d) => allowed.length === 0 || allowed.includes(d.name))
    .map((d) => ({ name: d.name, parameters: d.parametersJsonSchema ?? d.parameters }));
  const prefix = contents.slice(0, -1);
  const prefixText = [textOf(system), ...prefix.map((c) => textOf(c.parts))].join("\n");
  return {
    model,
    promptText: [textOf(system), ...contents.map((c) => textOf(c.parts))].join("\n"),
    lastUserText: lastUser ? lastUser.parts.map((p) => p.text ?? "").join(" ") : "",
    images: [...system, ...contents.flatMap((c) => c.parts)].filter(isImage).length,
    maxTokens: body.generationConfig?.maxOutputTokens,
    tools,
    toolChoice: calling?.mode === "NONE"
      ? "none"
      : calling?.mode === "ANY"
      ? allowed.length === 1 ? { name: allowed[0] } : "required"
      : "auto",
    afterToolResult: last.parts.some((p) => p.functionResponse !== undefined),
    prefixKey: `${model}|${prefixText.length}|${hash32(prefixText).toString(36)}`,
    prefixText,
    candidates: body.generationConfig?.candidateCount ?? 1,
  };
}
