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
  /** Header fields in arrival order, names lower-cased. */
  fields: [string, string][];
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
  return `${head}content-length: ${contentLength}\r\n\r\n`;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;

/**
 * Parses a response head: `text` is everything before the blank line that ends it (latin-1, one
 * character per byte). 1xx heads are returned as they are; the caller skips them.
 */
export function parseResponseHead(text: string): ResponseHead {
  const lines = text.split("\r\n");
  const statusLine = STATUS_LINE.exec(lines[0]);
  if (!statusLine) {
    throw new HttpProtocolError(`Not an HTTP/1.x status line: ${JSON.stringify(lines[0])}`);
  }
  const minor = statusLine[1];
  const status = Number(statusLine[2]);
  const fields: [string, string][] = [];
  let contentLength: number | undefined;
  let chunked = false;
  let transferEncoding = false;
  let connection = "";
  let contentEncoding: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) throw new HttpProtocolError(`Malformed header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) throw new HttpProtocolError(`Malformed header name: ${name}`);
    const value = line.slice(colon + 1).trim();
    fields.push([name, value]);
    if (name === "content-length") {
      // Repeated or comma-listed values are allowed only when they agree (§6.3 item 5).
      for (const part of value.split(",")) {
        const trimmed = part.trim();
        if (!/^\d+$/.test(trimmed)) throw new HttpProtocolError(`Bad content-length: ${value}`);
        const length = Number(trimmed);
        if (contentLength !== undefined && contentLength !== length) {
          throw new HttpProtocolError(`Conflicting content-length values: ${value}`);
        }
        contentLength = length;
      }
    } else if (name === "transfer-encoding") {
      transferEncoding = true;
      const codings = value.toLowerCase().split(",").map((c) => c.trim());
      chunked = codings.at(-1) === "chunked";
      if (codings.some((c) => c !== "chunked" && c !== "identity")) {
        throw new HttpProtocolError(`Unsupported transfer-encoding: ${value}`);
      }
    } else if (name === "connection") {
      connection += `${value.toLowerCase()},`;
    } else if (name === "content-encoding") {
      const coding = value.toLowerCase();
      if (coding !== "identity") contentEncoding = coding;
    }
  }
  const closes = /(^|,)\s*close\s*(,|$)/.test(connection);
  let keepAlive = minor === "1" ? !closes : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
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
  return {
    status,
    statusText: statusLine[3] ?? "",
    fields,
    framing,
    keepAlive,
    contentEncoding,
  };
}
