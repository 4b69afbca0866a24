/**
 * Gemini's wire format, as far as Switchyard speaks it: the request body we build (plain types)
 * and the response body we parse (zod). Field names follow the v1beta REST reference
 * (`GenerateContentRequest`, `GenerateContentResponse`).
 */
import { z } from "zod";

/** One part of a turn. Exactly one data field is set per part. */
export interface GeminiPart {
  text?: string;
  /** True on a part that carries the model's thinking summary (only with `includeThoughts`). */
  thought?: boolean;
  /** Opaque signature Gemini 3 needs back on the first function call of a model turn. */
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: { id?: string; name: string; args?: Record<string, unknown> };
  functionResponse?: { id?: string; name: string; response: Record<string, unknown> };
}

/** One turn of the conversation. Gemini knows only these two roles. */
export interface GeminiContent {
  role: "user" | "model";
  parts: GeminiPart[];
}

/** A tool the model may call. */
export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  /** A full JSON Schema (the `parameters` field only takes Google's OpenAPI subset). */
  parametersJsonSchema?: Record<string, unknown>;
}

/** Sampling, limits and output format. */
export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  /** A full JSON Schema (`responseSchema` only takes Google's OpenAPI subset). */
  responseJsonSchema?: Record<string, unknown>;
}

/** The body of `models/{model}:generateContent` and `:streamGenerateContent`. */
export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: { text: string }[] };
  generationConfig?: GeminiGenerationConfig;
  tools?: { functionDeclarations: GeminiFunctionDeclaration[] }[];
  toolConfig?: {
    functionCallingConfig: { mode: "AUTO" | "ANY" | "NONE"; allowedFunctionNames?: string[] };
  };
}

const PartSchema = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  functionCall: z.looseObject({
    id: z.string().optional(),
    name: z.string(),
    args: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
});
/** A part of a model answer, as far as we read it. */
export type ResponsePart = z.infer<typeof PartSchema>;

const CandidateSchema = z.looseObject({
  content: z.looseObject({
    role: z.string().optional(),
    parts: z.array(PartSchema).optional(),
  }).optional(),
  finishReason: z.string().optional(),
  index: z.number().int().optional(),
});
/** One of the model's answers (`candidateCount` > 1 gives several). */
export type Candidate = z.infer<typeof CandidateSchema>;

const UsageMetadataSchema = z.looseObject({
  promptTokenCount: z.number().optional(),
  candidatesTokenCount: z.number().optional(),
  thoughtsTokenCount: z.number().optional(),
  toolUsePromptTokenCount: z.number().optional(),
  cachedContentTokenCount: z.number().optional(),
  totalTokenCount: z.number().optional(),
});
/** Token counts for the request so far (streamed pieces carry running counts). */
export type UsageMetadata = z.infer<typeof UsageMetadataSchema>;

/**
 * A `GenerateContentResponse`: a whole answer, or one streamed piece of one. A body with neither
 * candidates nor prompt feedback is not a Gemini answer at all.
 */
export const GenerateContentResponseSchema = z.looseObject({
  candidates: z.array(CandidateSchema).optional(),
  promptFeedback: z.looseObject({
    blockReason: z.string().optional(),
    blockReasonMessage: z.string().optional(),
  }).optional(),
  usageMetadata: UsageMetadataSchema.optional(),
  modelVersion: z.string().optional(),
  responseId: z.string().optional(),
}).refine((r) => r.candidates !== undefined || r.promptFeedback !== undefined, {
  message: "Neither candidates nor promptFeedback in the response",
});
/** A parsed `GenerateContentResponse`. */
export type GenerateContentResponse = z.infer<typeof GenerateContentResponseSchema>;

/** Google's error envelope (`google.rpc.Status` in JSON). */
export const GoogleErrorSchema = z.looseObject({
  error: z.looseObject({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    details: z.array(z.looseObject({ "@type": z.string().optional() })).optional(),
  }),
});
/** The `error` object of Google's envelope. */
export type GoogleError = z.infer<typeof GoogleErrorSchema>["error"];
