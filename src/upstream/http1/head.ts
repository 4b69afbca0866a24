/**
 * HTTP/1.1 message heads for the upstream client: the request head it writes, and the response
 * head it reads (RFC 9112): status line, header fields, and how the body is framed.
 */

/** A response that breaks HTTP/1.1's rules, or a request that cannot be written. */
export class HttpProtocolError extends Error {
  override name = "HttpProtocolError";
}

/** How the response body is delimited (RFC 9112 §6.3). */
export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

export interface ResponseHead {
  status: number;
  statusText: string;
  /** Header fields in arrival order, names lower-cased (built on first read). */
  readonly fields: [string, string][];
  framing: BodyFraming;
  /** Whether the connection may carry another request once this body is read. */
  keepAlive: boolean;
  /** `content-encoding`, when the body is not sent as is. */
  contentEncoding?: string;
}

/** Header names and values that cannot smuggle a line break or a NUL into the head. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[^\r\n\0]*$/;

/**
 * The request head. Names and values are checked as `fetch` checks them, so a value that came
 * from a client (an `x-request-id`) cannot split the head.
 */
export function requestHead(
  method: string,
  target: string,
  authority: string,
  headers: Record<string, string>,
  contentLength: number,
): string {
  let head = `${method} ${target} HTTP/1.1\r\nhost: ${authority}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (!TOKEN.test(name)) throw new HttpProtocolError(`Invalid header name: ${name}`);
    if (!FIELD_VALUE.test(value)) throw new HttpProtocolError(`Invalid value for header ${name}`);
    head += `${name}: ${value}\r\n`;
  }
  // Without accept-encoding any coding would be acceptable (RFC 9110 §12.5.3); ask for none.
  return `${head}accept-encoding: identity\r\ncontent-length: ${contentLength}\r\n\r\n`;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const DIGITS = /^\d+$/;

/**
 * Parses a response head: `text` is everything before the blank line that ends it. 1xx heads are
 * returned as they are; the caller skips them.
 *
 * Only the fields that frame the body or govern the connection are read here, by a scan that
 * looks at a line's name only when it can be one of them; the full field list is built on
 * demand (only error handling reads it). A provider's answer carries twenty-odd fields.
 */
export function parseResponseHead(text: string): ResponseHead {
  let lineEnd = text.indexOf("\r\n");
  if (lineEnd < 0) lineEnd = text.length;
  const statusLine = STATUS_LINE.exec(text.slice(0, lineEnd));
  if (!statusLine) {
    throw new HttpProtocolError(
      `Not an HTTP/1.x status line: ${JSON.stringify(text.slice(0, Math.min(lineEnd, 80)))}`,
    );
  }
  const minor = statusLine[1];
  const status = Number(statusLine[2]);
  let contentLength: number | undefined;
  let chunked = false;
  let transferEncoding = false;
  let connection = "";
  let contentEncoding: string | undefined;
  for (let start = lineEnd + 2; start < text.length;) {
    let end = text.indexOf("\r\n", start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(":", start);
    if (colon <= start || colon > end) {
      throw new HttpProtocolError(
        `Malformed header line: ${JSON.stringify(text.slice(start, end))}`,
      );
    }
    const last = text.charCodeAt(colon - 1);
    if (last === 0x20 || last === 0x09) {
      // Whitespace before the colon is how responses get smuggled (RFC 9112 §5.1): refuse it.
      throw new HttpProtocolError(
        `Whitespace before a header's colon: ${text.slice(start, colon)}`,
      );
    }
    // Every field read below starts with c or t (either case); the rest are skipped unread.
    const first = text.charCodeAt(start) | 0x20;
    if (first === 0x63 || first === 0x74) {
      const name = text.slice(start, colon).toLowerCase();
      if (name === "content-length") {
        const value = text.slice(colon + 1, end).trim();
        // Repeated or comma-listed values are allowed only when they agree (§6.3 item 5).
        for (const part of value.split(",")) {
          const trimmed = part.trim();
          if (!DIGITS.test(trimmed)) throw new HttpProtocolError(`Bad content-length: ${value}`);
          const length = Number(trimmed);
          if (contentLength !== undefined && contentLength !== length) {
            throw new HttpProtocolError(`Conflicting content-length values: ${value}`);
          }
          contentLength = length;
        }
      } else if (name === "transfer-encoding") {
        const value = text.slice(colon + 1, end).trim();
        transferEncoding = true;
        const codings = value.toLowerCase().split(",").map((c) => c.trim());
        chunked = codings.at(-1) === "chunked";
        if (codings.some((c) => c !== "chunked" && c !== "identity")) {
          throw new HttpProtocolError(`Unsupported transfer-encoding: ${value}`);
        }
      } else if (name === "connection") {
        connection += `${text.slice(colon + 1, end).trim().toLowerCase()},`;
      } else if (name === "content-encoding") {
        const coding = text.slice(colon + 1, end).trim().toLowerCase();
        if (coding !== "identity") contentEncoding = coding;
      }
    }
    start = end + 2;
  }
  let keepAlive = minor === "1"
    ? !/(^|,)\s*close\s*(,|$)/.test(connection)
    : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
  let framing: BodyFraming;
  if ((status >= 100 && status < 200) || status === 204 || status === 304) {
    framing = { kind: "none" };
  } else if (transferEncoding) {
    // Transfer-Encoding wins over Content-Length; a message with both must not be reused (§6.3).
    framing = chunked ? { kind: "chunked" } : { kind: "close" };
    if (!chunked || contentLength !== undefined) keepAlive = false;
  } else if (contentLength !== undefined) {
    framing = contentLength === 0 ? { kind: "none" } : { kind: "length", length: contentLength };
  } else {
    framing = { kind: "close" };
    keepAlive = false;
  }
  return new ParsedHead(
    text,
    lineEnd,
    status,
    statusLine[3] ?? "",
    framing,
    keepAlive,
    contentEncoding,
  );
}

/** A parsed head whose field list is read from the head's text on first use. */
class ParsedHead implements ResponseHead {
  #fields: [string, string][] | undefined;
  constructor(
    readonly text: string,
    readonly statusLineEnd: number,
    readonly status: number,
    readonly statusText: string,
    readonly framing: BodyFraming,
    readonly keepAlive: boolean,
    readonly contentEncoding: string | undefined,
  ) {}

  get fields(): [string, string][] {
    if (this.#fields) return this.#fields;
    const fields: [string, string][] = [];
    const text = this.text;
    for (let start = this.statusLineEnd + 2; start < text.length;) {
      let end = text.indexOf("\r\n", start);
      if (end < 0) end = text.length;
      const colon = text.indexOf(":", start);
      const name = text.slice(start, colon).toLowerCase();
      // A name Headers would refuse is dropped here rather than failing an error's handling.
      if (TOKEN.test(name)) fields.push([name, text.slice(colon + 1, end).trim()]);
      start = end + 2;
    }
    return this.#fields = fields;
  }
}
