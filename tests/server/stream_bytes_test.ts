/**
 * Streams are read into one reused buffer (a BYOB reader): an event larger than that buffer, and
 * UTF-8 characters cut in half by the upstream's writes, must reach the client intact, byte for
 * byte, with usage accounted and `[DONE]` at the end.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startTestServer } from "./harness.ts";

const encoder = new TextEncoder();

/** Text with 1-, 2-, 3- and 4-byte UTF-8 characters, so split points land inside characters. */
function mixedText(chars: number): string {
  const alphabet = ["a", "é", "€", "😀", " ", "ж", "漢"];
  let text = "";
  for (let i = 0; text.length < chars; i++) text += alphabet[(i * 7 + (i >> 3)) % alphabet.length];
  return text;
}

/**
 * An OpenAI-compatible upstream whose stream carries `pieces` as content chunks, written in
 * slices of `writeBytes` bytes regardless of event or character boundaries.
 */
function slicingUpstream(pieces: string[], writeBytes: number): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    await req.body?.cancel();
    const event = (body: unknown) => `data: ${JSON.stringify(body)}\n\n`;
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      event({
        id: "chatcmpl-bytes",
        object: "chat.completion.chunk",
        created: 1,
        model: "bytes",
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
    const text = chunk({ role: "assistant", content: "" }) +
      pieces.map((content) => chunk({ content })).join("") +
      chunk({}, "stop") +
      event({
        id: "chatcmpl-bytes",
        object: "chat.completion.chunk",
        created: 1,
        model: "bytes",
        choices: [],
        usage: { prompt_tokens: 7, completion_tokens: 4321, total_tokens: 4328 },
      }) +
      "data: [DONE]\n\n";
    const bytes = encoder.encode(text);
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + writeBytes));
        offset += writeBytes;
        // Separate writes, so the router sees separate reads.
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
}

function policyFor(port: number): string {
  return `
name: bytes
version: 1
routes:
  bytes:
    via: direct
    provider: openai-compatible
    model: bytes
    base_url: http://127.0.0.1:${port}/v1
    price: { input: 1, output: 1 }
    context_tokens: 128000
default: { route: bytes }
`;
}

Deno.test("stream: events larger than the read buffer and characters split across reads arrive intact", async () => {
  // 40k characters of mixed widths is ~100 KB of UTF-8: several reads of the 16 KiB buffer.
  const pieces = [mixedText(40_000), "short", mixedText(3_001), "😀".repeat(5_000)];
  // Writes of 50,000 bytes: each fills the buffer, so one write takes several reads.
  const upstream = slicingUpstream(pieces, 50_000);
  try {
    await using server = await startTestServer({ policy: policyFor(upstream.addr.port) });
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "long answer please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const received: string[] = [];
    let usage: unknown;
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta?.content;
      if (content) received.push(content);
      if (chunk.usage) usage = chunk.usage;
    }
    assert.deepEqual(received, pieces);
    assert.deepEqual(usage, { prompt_tokens: 7, completion_tokens: 4321, total_tokens: 4328 });
  } finally {
    await upstream.shutdown();
  }
});

Deno.test("stream: one byte per upstream write still yields whole events and [DONE]", async () => {
  const pieces = ["naïve ", "café ", "😀 ", "漢字"];
  const upstream = slicingUpstream(pieces, 1);
  try {
    await using server = await startTestServer({ policy: policyFor(upstream.addr.port) });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "auto",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    assert.equal(response.status, 200);
    const text = await response.text();
    const data = text.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));
    assert.equal(data.at(-1), "[DONE]");
    const content = data.slice(0, -1).map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "")
      .join("");
    assert.equal(content, pieces.join(""));
    // The client did not ask for usage: the usage chunk Switchyard asked for is withheld.
    assert.ok(data.slice(0, -1).every((d) => JSON.parse(d).usage == null));
  } finally {
    await upstream.shutdown();
  }
});
