/**
 * The upstream client's HTTP/1.1 codec: the chunked decoder against random read splits, and the
 * response-head rules that decide framing and connection reuse.
 */
import assert from "node:assert/strict";
import { ChunkedDecoder } from "../../../src/upstream/http1/chunked.ts";
import {
  HttpProtocolError,
  parseResponseHead,
  requestHead,
} from "../../../src/upstream/http1/head.ts";
import { random as seeded } from "../../../src/seeded.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Chunk-encodes `pieces`, with size-line extensions and trailers sprinkled in. */
function chunkedBody(pieces: string[], random: () => number): string {
  let body = "";
  for (const piece of pieces) {
    const size = encoder.encode(piece).length.toString(16);
    const cased = random() < 0.5 ? size.toUpperCase() : size;
    const extension = random() < 0.2 ? ';name="v"' : "";
    body += `${cased}${extension}\r\n${piece}\r\n`;
  }
  body += "0\r\n";
  if (random() < 0.3) body += "x-trailer: 1\r\n";
  return body + "\r\n";
}

/** Feeds `bytes` to a decoder in random slices of a buffer (as socket reads would land). */
function decodeInReads(bytes: Uint8Array, random: () => number, maxRead: number) {
  const decoderState = new ChunkedDecoder();
  const out: number[] = [];
  let offset = 0;
  let extra = 0;
  while (offset < bytes.length) {
    const size = 1 + Math.floor(random() * maxRead);
    const read = bytes.slice(offset, offset + size);
    offset += read.length;
    // Reads land at some position of a larger buffer, as after a response head.
    const at = Math.floor(random() * 8);
    const buffer = new Uint8Array(at + read.length);
    buffer.set(read, at);
    const result = decoderState.decode(buffer, at, at + read.length);
    out.push(...buffer.subarray(at, result.end));
    extra += result.extra;
    if (decoderState.done) break;
  }
  return { data: decoder.decode(new Uint8Array(out)), done: decoderState.done, offset, extra };
}

Deno.test("chunked: any split of the reads yields the body exactly, done at the terminator", () => {
  const random = seeded(7);
  const alphabet = ["a", "é", 'data: {"x":1}\n\n', "€", "😀", "\r\n", "0"];
  for (let round = 0; round < 2_000; round++) {
    const pieces = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
      let text = "";
      const n = 1 + Math.floor(random() * 40);
      for (let i = 0; i < n; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      return text;
    });
    const bytes = encoder.encode(chunkedBody(pieces, random));
    const result = decodeInReads(bytes, random, 1 + Math.floor(random() * 64));
    assert.equal(result.data, pieces.join(""), `round ${round}`);
    assert.ok(result.done, `round ${round}: done`);
    assert.equal(result.offset, bytes.length, `round ${round}: every byte consumed`);
    assert.equal(result.extra, 0);
  }
});

Deno.test("chunked: bytes past the terminator are reported, not taken as data", () => {
  const bytes = encoder.encode("3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n");
  const chunked = new ChunkedDecoder();
  const result = chunked.decode(bytes, 0, bytes.length);
  assert.equal(decoder.decode(bytes.subarray(0, result.end)), "abc");
  assert.ok(chunked.done);
  assert.equal(result.extra, "HTTP/1.1 200 OK\r\n".length);
});

Deno.test("chunked: malformed framing is a protocol error", () => {
  for (
    const bad of [
      "zz\r\nabc\r\n",
      "3\r\nabcX\r\n",
      "3\nabc\r\n",
      "\r\n",
      "fffffffffffff\r\n",
      "3\r\nabc\r\n0\r\n\n",
    ]
  ) {
    const bytes = encoder.encode(bad);
    assert.throws(
      () => new ChunkedDecoder().decode(bytes, 0, bytes.length),
      HttpProtocolError,
      JSON.stringify(bad),
    );
  }
});

Deno.test("head: framing and reuse follow RFC 9112", () => {
  const head = (text: string) => parseResponseHead(text);
  let h = head("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12");
  assert.equal(h.status, 200);
  assert.equal(h.statusText, "OK");
  assert.deepEqual(h.framing, { kind: "length", length: 12 });
  assert.equal(h.keepAlive, true);
  assert.deepEqual(h.fields[0], ["content-type", "application/json"]);

  h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked");
  assert.deepEqual(h.framing, { kind: "chunked" });
  assert.equal(h.keepAlive, true);

  // Both: transfer-encoding wins, and the connection is not trusted again.
  h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5");
  assert.deepEqual(h.framing, { kind: "chunked" });
  assert.equal(h.keepAlive, false);

  h = head("HTTP/1.1 200 OK\r\nContent-Type: text/plain");
  assert.deepEqual(h.framing, { kind: "close" });
  assert.equal(h.keepAlive, false);

  h = head("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2");
  assert.equal(h.keepAlive, false);
  h = head("HTTP/1.0 200 OK\r\nContent-Length: 2");
  assert.equal(h.keepAlive, false);
  h = head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2");
  assert.equal(h.keepAlive, true);

  for (const status of [204, 304]) {
    assert.deepEqual(head(`HTTP/1.1 ${status} X\r\nContent-Length: 10`).framing, { kind: "none" });
  }
  assert.deepEqual(head("HTTP/1.1 200 OK\r\nContent-Length: 0").framing, { kind: "none" });
  assert.deepEqual(head("HTTP/1.1 200 OK\r\nContent-Length: 7, 7").framing, {
    kind: "length",
    length: 7,
  });
  assert.equal(
    head("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 1").status,
    429,
  );
  assert.equal(
    head("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 1").contentEncoding,
    "gzip",
  );
  assert.equal(head("HTTP/1.1 200\r\nContent-Length: 1").statusText, "");
  // Every field, in order, when asked for (error handling reads retry-after and friends).
  assert.deepEqual(
    head(
      "HTTP/1.1 429 Too Many\r\nRetry-After: 2\r\nX-RateLimit-Remaining:  0 \r\nContent-Length: 1",
    )
      .fields,
    [["retry-after", "2"], ["x-ratelimit-remaining", "0"], ["content-length", "1"]],
  );
});

Deno.test("head: a response that breaks the rules is a protocol error", () => {
  for (
    const bad of [
      "HTTP/2 200 OK",
      "ICY 200 OK",
      "HTTP/1.1 20 OK",
      "HTTP/1.1 200 OK\r\nno colon here",
      "HTTP/1.1 200 OK\r\n: empty name",
      "HTTP/1.1 200 OK\r\nContent-Length: 5, 6",
      "HTTP/1.1 200 OK\r\nContent-Length: -1",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked",
      "HTTP/1.1 200 OK\r\nContent-Length : 5",
      "HTTP/1.1 200 OK\r\nX-Other\t: 5",
    ]
  ) {
    assert.throws(() => parseResponseHead(bad), HttpProtocolError, JSON.stringify(bad));
  }
});

Deno.test("request head: names and values that could split the head are refused", () => {
  const text = requestHead("POST", "/v1/chat/completions", "api.example.com", {
    "content-type": "application/json",
    authorization: "Bearer k",
  }, 42);
  assert.equal(
    text,
    "POST /v1/chat/completions HTTP/1.1\r\nhost: api.example.com\r\n" +
      "content-type: application/json\r\nauthorization: Bearer k\r\naccept-encoding: identity\r\n" +
      "content-length: 42\r\n\r\n",
  );
  assert.throws(
    () => requestHead("POST", "/", "h", { "x-request-id": "a\r\nx-evil: 1" }, 0),
    HttpProtocolError,
  );
  assert.throws(() => requestHead("POST", "/", "h", { "bad name": "v" }, 0), HttpProtocolError);
  assert.throws(() => requestHead("POST", "/", "h", { "x-a": "nul\0" }, 0), HttpProtocolError);
});
