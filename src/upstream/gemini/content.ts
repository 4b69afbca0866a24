/**
 * OpenAI content parts → Gemini parts. Inline data (data: URLs, `input_audio`, `file` with
 * `file_data`) becomes `inlineData`; an http(s) image URL becomes `fileData`, which Gemini fetches
 * itself. Anything Gemini cannot take is refused here rather than silently dropped.
 */
import { UpstreamError } from "../errors.ts";
import type { ContentPart, ImageContentPart, TextContentPart } from "../types.ts";
import type { GeminiPart } from "./wire.ts";

const MIME_BY_EXTENSION: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  heic: "image/heic",
  heif: "image/heif",
  pdf: "application/pdf",
  mp3: "audio/mp3",
  wav: "audio/wav",
  mp4: "video/mp4",
};

/** Guesses a MIME type from a URL's or file name's extension; undefined when unknown. */
export function mimeFromName(name: string): string | undefined {
  const path = name.split(/[?#]/, 1)[0];
  const dot = path.lastIndexOf(".");
  if (dot === -1 || dot < path.lastIndexOf("/")) return undefined;
  return MIME_BY_EXTENSION[path.slice(dot + 1).toLowerCase()];
}

/** Splits a `data:` URL into MIME type and base64 payload (re-encoding non-base64 payloads). */
export function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!match) return undefined;
  const mimeType = match[1] || "text/plain";
  if (/;base64$/i.test(match[2])) return { mimeType, data: match[3] };
  const bytes = new TextEncoder().encode(decodeURIComponent(match[3]));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return { mimeType, data: btoa(binary) };
}

function unsupported(what: string): UpstreamError {
  return new UpstreamError("client_error", `Gemini does not accept ${what}`);
}

function imagePart(part: ImageContentPart): GeminiPart {
  const url = part.image_url.url;
  const inline = url.startsWith("data:") ? parseDataUrl(url) : undefined;
  if (inline) return { inlineData: inline };
  if (/^https?:\/\//i.test(url) || /^gs:\/\//i.test(url)) {
    // fileData.mimeType is optional: without a recognizable extension, Gemini sniffs it.
    const mimeType = mimeFromName(url);
    return { fileData: mimeType ? { mimeType, fileUri: url } : { fileUri: url } };
  }
  throw unsupported(`an image_url that is neither a data: URL nor an http(s) URL`);
}

function audioPart(part: ContentPart): GeminiPart {
  const audio = (part as { input_audio?: { data?: unknown; format?: unknown } }).input_audio;
  if (typeof audio?.data !== "string" || typeof audio.format !== "string") {
    throw unsupported("an input_audio part without data and format");
  }
  return { inlineData: { mimeType: `audio/${audio.format}`, data: audio.data } };
}

function filePart(part: ContentPart): GeminiPart {
  const file = (part as { file?: { file_data?: unknown; filename?: unknown } }).file;
  if (typeof file?.file_data !== "string") {
    throw unsupported("a file part without file_data (OpenAI file ids do not exist there)");
  }
  const inline = parseDataUrl(file.file_data);
  if (inline) return { inlineData: inline };
  const mimeType = typeof file.filename === "string" ? mimeFromName(file.filename) : undefined;
  if (!mimeType) throw unsupported("a file part whose type cannot be told");
  return { inlineData: { mimeType, data: file.file_data } };
}

/** Converts a message's content (string or parts) into Gemini parts; empty text is dropped. */
export function contentParts(content: string | ContentPart[] | null | undefined): GeminiPart[] {
  if (content == null) return [];
  if (typeof content === "string") return content === "" ? [] : [{ text: content }];
  const parts: GeminiPart[] = [];
  for (const part of content) {
    if (part.type === "text") {
      const text = (part as TextContentPart).text;
      if (text !== "") parts.push({ text });
    } else if (part.type === "image_url") parts.push(imagePart(part as ImageContentPart));
    else if (part.type === "input_audio") parts.push(audioPart(part));
    else if (part.type === "file") parts.push(filePart(part));
    else throw unsupported(`content parts of type "${part.type}"`);
  }
  return parts;
}
