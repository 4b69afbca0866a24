/**
 * The Gemini simulator speaks the real wire format: Google's own client (`@google/genai`) talks
 * to it without complaint, and raw HTTP sees Google's framing, auth answers and validation.
 */
import assert from "node:assert/strict";
import { ApiError, GoogleGenAI } from "@google/genai";
import { startSimulator } from "../../src/sim/server.ts";
import { createGeminiSimulator } from "../../src/sim/gemini.ts";
import type { SimulatorOptions } from "../../src/sim/engine.ts";

const KEY = "sim-key";
const MODEL = "gemini-2.5-flash";
const FAST: SimulatorOptions = {
  latency: { ttft_ms: 5, tokens_per_s: 2000, jitter: 0 },
  apiKey: KEY,
  seed: 1,
};

/** The SDK pointed at the simulator: `baseUrl` is the origin, the SDK adds `/v1beta`. */
function client(origin: string, apiKey = KEY): GoogleGenAI {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: origin } });
}

const WEATHER = {
  name: "get_weather",
  description: "Current weather for a city",
  parametersJsonSchema: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  },
};

Deno.test("gemini sim: the official SDK parses a generateContent answer", async () => {
  await using sim = await startSimulator(createGeminiSimulator, FAST);
  const response = await client(sim.origin).models.generateContent({
    model: MODEL,
    contents: "Say hello to the SDK",
    config: { systemInstruction: "Be brief.", maxOutputTokens: 200 },
  });
  assert.match(response.text ?? "", /hello to the SDK/);
  assert.equal(response.candidates?.[0].finishReason, "STOP");
  assert.equal(response.modelVersion, MODEL);
  assert.ok(response.responseId);
  assert.ok((response.usageMetadata?.promptTokenCount ?? 0) > 0);
  assert.equal(sim.seen.at(-1)?.headers["x-goog-api-key"], KEY);
});

Deno.test("gemini sim: the SDK's stream adds up to the whole answer and ends with usage", async () => {
  await using sim = await startSimulator(createGeminiSimulator, FAST);
  const ai = client(sim.origin);
  const request = { model: MODEL, contents: "Stream something to the SDK" };
  const whole = await ai.models.generateContent(request);
  let text = "";
  const pieces = [];
  for await (const piece of await ai.models.generateContentStream(request)) {
    pieces.push(piece);
    text += piece.text ?? "";
  }
  assert.ok(pieces.length >= 3, `expected several pieces, got ${pieces.length}`);
  assert.equal(text, whole.text);
  const last = pieces.at(-1)!;
  assert.equal(last.candidates?.[0].finishReason, "STOP");
  assert.equal(last.usageMetadata?.candidatesTokenCount, whole.usageMetadata?.candidatesTokenCount);
  assert.ok(pieces.slice(0, -1).every((p) => p.candidates?.[0].finishReason === undefined));
  assert.match(sim.seen.at(-1)?.path ?? "", /:streamGenerateContent\?alt=sse$/);
});

Deno.test("gemini sim: the SDK reads a function call and sends its result back", async () => {
  await using sim = await startSimulator(createGeminiSimulator, FAST);
  const ai = client(sim.origin);
  const config = { tools: [{ functionDeclarations: [WEATHER] }] };
  const ask = { role: "user", parts: [{ text: "Weather in Lisbon?" }] };
  const first = await ai.models.generateContent({ model: MODEL, contents: [ask], config });
  const call = first.functionCalls?.[0];
  assert.equal(call?.name, "get_weather");
  assert.equal(typeof call?.args?.city, "string");
  assert.ok(first.candidates?.[0].content?.parts?.[0].thoughtSignature, "the call is signed");

  const second = await ai.models.generateContent({
    model: MODEL,
    config,
    contents: [
      ask,
      first.candidates![0].content!,
      { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { c: 21 } } }] },
    ],
  });
  assert.equal(second.functionCalls, undefined);
  assert.ok((second.text ?? "").length > 0);
});

Deno.test("gemini sim: the SDK raises ApiError 429 for the rate_limit fault", async () => {
  await using sim = await startSimulator(createGeminiSimulator, {
    ...FAST,
    fault: { mode: "rate_limit", retry_after_s: 2 },
  });
  const error = await client(sim.origin).models.generateContent({ model: MODEL, contents: "Hi" })
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof ApiError, `expected ApiError, got ${error}`);
  assert.equal(error.status, 429);
  assert.match(error.message, /RESOURCE_EXHAUSTED/);
});

Deno.test("gemini sim: the SDK lists the configured models", async () => {
  await using sim = await startSimulator(createGeminiSimulator, {
    ...FAST,
    models: { "gemini-sim-custom": {} },
  });
  const names: string[] = [];
  for await (const model of await client(sim.origin).models.list()) names.push(model.name ?? "");
  assert.ok(names.includes("models/gemini-2.5-flash"));
  assert.ok(names.includes("models/gemini-sim-custom"));
});

Deno.test("gemini sim: a missing key is 403 and a wrong one 400 API_KEY_INVALID", async () => {
  await using sim = await startSimulator(createGeminiSimulator, FAST);
  const url = `${sim.origin}/v1beta/models/${MODEL}:generateContent`;
  const body = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Hi" }] }] });
  const missing = await fetch(url, { method: "POST", body });
  assert.equal(missing.status, 403);
  assert.equal((await missing.json()).error.status, "PERMISSION_DENIED");
  const wrong = await fetch(`${url}?key=nope`, { method: "POST", body });
  assert.equal(wrong.status, 400);
  const error = (await wrong.json()).error;
  assert.equal(error.status, "INVALID_ARGUMENT");
  assert.equal(error.details[0].reason, "API_KEY_INVALID");
  const byQuery = await fetch(`${url}?key=${KEY}`, { method: "POST", body });
  assert.equal(byQuery.status, 200);
  await byQuery.body?.cancel();
});

Deno.test("gemini sim: without alt=sse the stream is one JSON array of responses", async () => {
  await using sim = await startSimulator(createGeminiSimulator, FAST);
  const response = await fetch(`${sim.origin}/v1beta/models/${MODEL}:streamGenerateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": KEY },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "An array please" }] }] }),
  });
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  const pieces = JSON.parse(await response.text());
  assert.ok(Array.isArray(pieces) && pieces.length >= 2);
  assert.equal(pieces.at(-1).candidates[0].finishReason, "STOP");
  assert.ok(pieces.at(-1).usageMetadata.totalTokenCount > 0);
});

Deno.test("gemini sim: an unknown field is refused as Google's front end does", async () => {
  await using sim = await startSimulator(createGeminiSimulator, FAST);
  const response = await fetch(`${sim.origin}/v1beta/models/${MODEL}:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": KEY },
    body: JSON.stringify({
      contents: [{ role: "user", parts: [{ text: "Hi" }] }],
      generationConfig: { maxTokens: 5 },
    }),
  });
  assert.equal(response.status, 400);
  const { error } = await response.json();
  assert.equal(error.status, "INVALID_ARGUMENT");
  assert.match(error.message, /Unknown name "maxTokens" at 'generation_config'/);
});

Deno.test("gemini sim: a role other than user or model is refused", async () => {
  await using sim = await startSimulator(createGeminiSimulator, FAST);
  const response = await fetch(`${sim.origin}/v1beta/models/${MODEL}:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": KEY },
    body: JSON.stringify({ contents: [{ role: "assistant", parts: [{ text: "Hi" }] }] }),
  });
  assert.equal(response.status, 400);
  assert.match((await response.json()).error.message, /valid role: user, model/);
});

Deno.test("gemini sim: Gemini 3 refuses a replayed function call without its signature", async () => {
  await using sim = await startSimulator(createGeminiSimulator, FAST);
  const replay = (part: Record<string, unknown>) =>
    fetch(`${sim.origin}/v1beta/models/gemini-3-flash-preview:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": KEY },
      body: JSON.stringify({
        contents: [
          { role: "user", parts: [{ text: "Weather in Lisbon?" }] },
          { role: "model", parts: [part] },
          {
            role: "user",
            parts: [{ functionResponse: { name: "get_weather", response: { c: 21 } } }],
          },
        ],
      }),
    });
  const call = { functionCall: { name: "get_weather", args: { city: "Lisbon" } } };
  const unsigned = await replay(call);
  assert.equal(unsigned.status, 400);
  assert.match((await unsigned.json()).error.message, /missing a thought_signature/);
  const signed = await replay({ ...call, thoughtSignature: "c2ln" });
  assert.equal(signed.status, 200);
  await signed.body?.cancel();
});
