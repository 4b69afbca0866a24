import assert from "node:assert/strict";
import { readBody } from "../../src/server/body.ts";
import { ApiError } from "../../src/server/errors.ts";

/** A request whose `body` getter is counted (it makes a stream the GC keeps; see body.ts). */
function watched(body: string | ReadableStream<Uint8Array>, headers: Record<string, string>) {
  const request = new Request("http://127.0.0.1/v1/chat/completions", {
    method: "POST",
    body,
    headers,
  });
  let bodyReads = 0;
  const proxy = new Proxy(request, {
    get(target, key) {
      if (key === "body") bodyReads++;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { request: proxy, bodyReads: () => bodyReads };
}

const chunked = (...parts: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
      controller.close();
    },
  });

Deno.test("readBody: a body with a declared length is read without touching request.body", async () => {
  const text = '{"model":"auto","messages":[{"role":"user","content":"hé"}]}';
  const length = String(new TextEncoder().encode(text).length);
  const { request, bodyReads } = watched(text, { "content-length": length });
  assert.equal(await readBody(request, 1024), text);
  assert.equal(bodyReads(), 0);
});

Deno.test("readBody: a chunked body is counted as it arrives and refused past the limit", async () => {
  const ok = watched(chunked('{"a":', '"b"}'), {});
  assert.equal(await readBody(ok.request, 1024), '{"a":"b"}');
  assert.ok(ok.bodyReads() > 0);

  const big = watched(chunked("x".repeat(600), "y".repeat(600)), {});
  await assert.rejects(
    readBody(big.request, 1000),
    (e: unknown) => e instanceof ApiError && e.status === 413 && /1000 bytes/.test(e.message),
  );
});

Deno.test("readBody: a declared length over the limit is refused before reading", async () => {
  const { request, bodyReads } = watched("x".repeat(50), { "content-length": "5000" });
  await assert.rejects(
    readBody(request, 1000),
    (e: unknown) => e instanceof ApiError && e.status === 413,
  );
  assert.equal(bodyReads(), 0);
});
