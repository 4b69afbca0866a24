/**
 * The client's request bytes reach an OpenAI-compatible upstream as they were sent, with only the
 * model written in: nothing a JSON round trip would lose (big integers, formatting) is lost, and
 * a body the server had to normalize is serialized from what it validated instead.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";

/** An upstream that records each request body as text and answers a completion. */
function recordingUpstream() {
  const bodies: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    bodies.push(await req.text());
    return Response.json({
      id: "chatcmpl-rec",
      object: "chat.completion",
      created: 1,
      model: "upstream-model",
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    });
  });
  return { server, bodies };
}

const policy = (port: number) => `
name: forward
version: 1
routes:
  local:
    via: direct
    provider: openai-compatible
    model: upstream-model
    base_url: http://127.0.0.1:${port}/v1
    price: { input: 1, output: 1 }
    context_tokens: 128000
default: { route: local }
`;

Deno.test("server: the client's body is forwarded byte for byte, with the route's model", async () => {
  const upstream = recordingUpstream();
  try {
    await using server = await startTestServer({ policy: policy(upstream.server.addr.port) });
    const send = (body: string) =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }).then(async (r) => ({ status: r.status, text: await r.text() }));

    // An integer past 2^53 in a field Switchyard does not know, the client's own formatting, and
    // "model" inside the prompt.
    const plain =
      '{\n  "model": "auto",\n  "vendor_option": 12345678901234567890,\n  "messages": [' +
      '{"role": "user", "content": "which \\"model\\" are you?"}]\n}';
    const first = await send(plain);
    assert.equal(first.status, 200, first.text);
    assert.equal(upstream.bodies.at(-1), plain.replace('"auto"', '"upstream-model"'));

    // Content parts go through zod, which normalizes: the validated request is serialized.
    const parts = JSON.stringify({
      model: "auto",
      messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
    });
    const second = await send(parts);
    assert.equal(second.status, 200, second.text);
    const sent = JSON.parse(upstream.bodies.at(-1)!);
    assert.equal(sent.model, "upstream-model");
    assert.deepEqual(sent.messages, [{ role: "user", content: [{ type: "text", text: "hi" }] }]);
  } finally {
    await upstream.server.shutdown();
  }
});
