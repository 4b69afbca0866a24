/**
 * The client's own request bytes as the upstream's body, with only the model changed. For an
 * OpenAI-compatible upstream the validated request already is the wire body: re-serializing it
 * costs about a microsecond per KiB of prompt, and prompts with retrieved context are tens of
 * KiB. Forwarding the bytes also keeps what a JSON round trip would lose (integers past 2^53 in
 * fields Switchyard does not read, the client's own formatting).
 *
 * The one edit is the top-level `model` value. It is made only when it is certain: the text must
 * hold exactly one `"model"` key at any depth (the top-level one, which a valid request has), and
 * the string value found after it must decode to the request's model. Anything else answers
 * `undefined`, and the caller serializes the parsed request instead.
 */

const KEY = '"model"';

/** `raw` with its top-level `model` value replaced by `model`; undefined when not certain. */
export function withModel(raw: string, current: string, model: string): string | undefined {
  if (model === current) return raw;
  let valueStart = -1;
  for (let at = raw.indexOf(KEY); at >= 0; at = raw.indexOf(KEY, at + KEY.length)) {
    // A key is followed by a colon; the same seven characters elsewhere are a string value
    // ("model" as a role or a word), which is not a key and changes nothing.
    let i = skipSpace(raw, at + KEY.length);
    if (raw.charCodeAt(i) !== 58 /* : */) continue;
    if (valueStart >= 0) return undefined; // a second `model` key: nested, or a duplicate
    i = skipSpace(raw, i + 1);
    if (raw.charCodeAt(i) !== 34 /* " */) return undefined;
    valueStart = i;
  }
  if (valueStart < 0) return undefined;
  const valueEnd = stringEnd(raw, valueStart);
  if (valueEnd < 0) return undefined;
  // What the value decodes to must be the request's model: compared in place when written
  // without escapes (nearly always), else decoded.
  // (Same length as the model means no escape sequence, each being longer than its character.)
  const plain = valueEnd === valueStart + 1 + current.length && !current.includes("\\") &&
    raw.startsWith(current, valueStart + 1);
  if (!plain && safeParse(raw.slice(valueStart, valueEnd + 1)) !== current) return undefined;
  return raw.slice(0, valueStart) + JSON.stringify(model) + raw.slice(valueEnd + 1);
}

/** The index of the first character at or after `i` that is not JSON whitespace. */
function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i++;
  }
}

/** The index of the quote closing the JSON string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 34 /* " */) return i;
  }
  return -1;
}

function safeParse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}
