import assert from "node:assert/strict";
import { HttpResponseParser } from "./http_parser.ts";

const encoder = new TextEncoder();

/** Feeds `text` to a parser in pieces of `size` bytes, at times 1, 2, 3, … */
function parse(text: string, size: number): HttpResponseParser {
  const bytes = encoder.encode(text);
  const parser = new HttpResponseParser();
  for (let i = 0, t = 1; i < bytes.length && !parser.done; i += size, t++) {
    parser.feed(bytes.subarray(i, i + size), t);
  }
  return parser;
}

const CHUNKED = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n" +
  "Transfer-Encoding: chunked\r\n\r\n" +
  'f\r\ndata: {"a":1}\n\n\r\n' + "e\r\ndata: [DONE]\n\n\r\n" + "0\r\n\r\n";

Deno.test("http parser: a chunked stream split at every byte ends with its last chunk", () => {
  for (const size of [1, 2, 7, 1000]) {
    const parser = parse(CHUNKED, size);
    assert.equal(parser.done, true, `pieces of ${size}`);
    assert.equal(parser.status, 200);
    assert.equal(parser.keepAlive, true);
    assert.match(parser.tail, /data: \[DONE\]\n\n$/);
    assert.ok(parser.firstBodyByteAt <= parser.endedAt);
  }
});

Deno.test("http parser: the first body byte is timed after the head, not with it", () => {
  const parser = parse(CHUNKED, 80); // the head is 80 bytes: the body starts in the second read
  assert.equal(parser.firstBodyByteAt, 2);
});

Deno.test("http parser: a Content-Length body ends at its length, even with bytes after it", () => {
  const body = '{"id":"x"}';
  const parser = parse(
    `HTTP/1.1 503 Service Unavailable\r\nContent-Length: ${body.length}\r\n` +
      `Connection: close\r\n\r\n${body}`,
    4,
  );
  assert.equal(parser.done, true);
  assert.equal(parser.status, 503);
  assert.equal(parser.keepAlive, false);
  assert.equal(parser.tail, body);
});

Deno.test("http parser: a body without a length ends only when the connection closes", () => {
  const parser = parse("HTTP/1.1 200 OK\r\n\r\npartial", 100);
  assert.equal(parser.done, false);
  assert.equal(parser.endsAtClose(), true);
  assert.equal(parser.done, true);
  assert.equal(parser.tail, "partial");
});

Deno.test("HttpResponseParser: first content is the first non-empty content, even split across reads", () => {
  const parser = new HttpResponseParser();
  const enc = new TextEncoder();
  const head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
  const chunk = (data: string) => `${data.length.toString(16)}\r\n${data}\r\n`;
  const role = 'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n';
  const first = 'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n';
  parser.feed(enc.encode(head + chunk(role)), 1);
  assert.equal(parser.firstBodyByteAt, 1);
  assert.ok(Number.isNaN(parser.firstContentAt), "an empty content is not content");
  // The marker arrives in two reads, split inside `"content":"`.
  const text = chunk(first);
  const cut = text.indexOf('tent":"');
  parser.feed(enc.encode(text.slice(0, cut)), 2);
  assert.ok(Number.isNaN(parser.firstContentAt));
  parser.feed(enc.encode(text.slice(cut) + chunk("data: [DONE]\n\n") + "0\r\n\r\n"), 3);
  assert.equal(parser.firstContentAt, 3);
  assert.ok(parser.done);
});
