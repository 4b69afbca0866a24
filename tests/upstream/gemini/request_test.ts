/** Request translation edge cases: OpenAI Chat Completions → Gemini `GenerateContentRequest`. */
import assert from "node:assert/strict";
import { geminiAdapter } from "../../../src/upstream/gemini/index.ts";
import { SKIP_SIGNATURE, toGeminiRequest } from "../../../src/upstream/gemini/request.ts";
import type { UpstreamTarget } from "../../../src/upstream/adapter.ts";
import { UpstreamError } from "../../../src/upstream/errors.ts";
import type { ChatRequest, Message } from "../../../src/upstream/types.ts";

const TARGET: UpstreamTarget = {
  route: "test",
  provider: "gemini",
  model: "gemini-2.5-flash",
  baseUrl: "https://generativelanguage.googleapis.com/v1beta",
  apiKey: "k-123",
};

const ask = (messages: Message[], extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: "client-model",
  messages,
  ...extra,
});

Deno.test("gemini request: system and developer messages join systemInstruction in order", () => {
  const body = toGeminiRequest(ask([
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
    { role: "developer", content: [{ type: "text", text: "Answer in English." }] },
    { role: "user", content: "Again" },
  ]));
  assert.deepEqual(body.systemInstruction, {
    parts: [{ text: "Be brief." }, { text: "Answer in English." }],
  });
  assert.deepEqual(body.contents, [{ role: "user", parts: [{ text: "Hi" }, { text: "Again" }] }]);
});

Deno.test("gemini request: assistant becomes model and same-role turns are merged", () => {
  const body = toGeminiRequest(ask([
    { role: "user", content: "One" },
    { role: "user", content: [{ type: "text", text: "Two" }] },
    { role: "assistant", content: "Three" },
    { role: "assistant", content: [{ type: "text", text: "Four" }] },
    { role: "assistant", content: null },
    { role: "user", content: "Five" },
  ]));
  assert.deepEqual(body.contents, [
    { role: "user", parts: [{ text: "One" }, { text: "Two" }] },
    { role: "model", parts: [{ text: "Three" }, { text: "Four" }] },
    { role: "user", parts: [{ text: "Five" }] },
  ]);
});

Deno.test("gemini request: a system-only prompt is sent as the user's turn", () => {
  const body = toGeminiRequest(ask([{ role: "system", content: "Summarize the rules." }]));
  assert.deepEqual(body.contents, [{ role: "user", parts: [{ text: "Summarize the rules." }] }]);
  assert.equal(body.systemInstruction, undefined);
});

Deno.test("gemini request: tool calls and results round trip with names looked up by id", () => {
  const body = toGeminiRequest(ask([
    { role: "user", content: "Weather in Lisbon and Porto?" },
    {
      role: "assistant",
      content: "Checking both.",
      tool_calls: [
        {
          id: "call_a",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Lisbon"}' },
          extra_content: { google: { thought_signature: "c2lnLWE=" } },
        },
        { id: "call_b", type: "function", function: { name: "get_time", arguments: "" } },
      ],
    },
    // Results may come back in any order; each is named after the call it answers.
    { role: "tool", tool_call_id: "call_b", content: "10:42" },
    { role: "tool", tool_call_id: "call_a", content: '{"temperature_c":21}' },
  ]));
  assert.deepEqual(body.contents.slice(1), [
    {
      role: "model",
      parts: [
        { text: "Checking both." },
        {
          functionCall: { name: "get_weather", args: { city: "Lisbon" } },
          thoughtSignature: "c2lnLWE=",
        },
        { functionCall: { name: "get_time", args: {} } },
      ],
    },
    {
      role: "user",
      parts: [
        { functionResponse: { name: "get_time", response: { result: "10:42" } } },
        { functionResponse: { name: "get_weather", response: { temperature_c: 21 } } },
      ],
    },
  ]);
});

Deno.test("gemini request: a replayed call without a signature gets Google's placeholder", () => {
  const body = toGeminiRequest(ask([
    { role: "user", content: "Go" },
    {
      role: "assistant",
      tool_calls: [
        { id: "x1", type: "function", function: { name: "a", arguments: "[1,2]" } },
        { id: "x2", type: "function", function: { name: "b", arguments: "not json" } },
      ],
    },
    { role: "tool", tool_call_id: "x1", content: "[3]" },
    { role: "tool", tool_call_id: "x2", content: [{ type: "text", text: "ok" }] },
  ]));
  const [first, second] = body.contents[1].parts;
  assert.equal(first.thoughtSignature, SKIP_SIGNATURE);
  assert.equal(second.thoughtSignature, undefined, "parallel calls share the first's signature");
  assert.deepEqual(first.functionCall?.args, { arguments: "[1,2]" });
  assert.deepEqual(second.functionCall?.args, { arguments: "not json" });
  assert.deepEqual(body.contents[2].parts.map((p) => p.functionResponse?.response), [
    { result: [3] },
    { result: "ok" },
  ]);
});

Deno.test("gemini request: a tool result for an unknown call id is refused", () => {
  assert.throws(
    () => toGeminiRequest(ask([{ role: "tool", tool_call_id: "ghost", content: "x" }])),
    (e) => e instanceof UpstreamError && e.kind === "client_error" && /ghost/.test(e.message),
  );
});

Deno.test("gemini request: images become inlineData or fileData", () => {
  const body = toGeminiRequest(ask([{
    role: "user",
    content: [
      { type: "text", text: "Compare" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      { type: "image_url", image_url: { url: "https://example.com/cat.JPG?size=large" } },
      { type: "image_url", image_url: { url: "https://example.com/render" } },
      { type: "image_url", image_url: { url: "data:image/svg+xml,%3Csvg%2F%3E" } },
    ],
  }]));
  assert.deepEqual(body.contents[0].parts, [
    { text: "Compare" },
    { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
    { fileData: { mimeType: "image/jpeg", fileUri: "https://example.com/cat.JPG?size=large" } },
    { fileData: { fileUri: "https://example.com/render" } },
    { inlineData: { mimeType: "image/svg+xml", data: btoa("<svg/>") } },
  ]);
});

Deno.test("gemini request: audio and file parts are inlined; unknown part types are refused", () => {
  const body = toGeminiRequest(ask([{
    role: "user",
    content: [
      { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
      {
        type: "file",
        file: { file_data: "data:application/pdf;base64,JVBERi0=", filename: "a.pdf" },
      },
    ],
  }]));
  assert.deepEqual(body.contents[0].parts, [
    { inlineData: { mimeType: "audio/wav", data: "UklGRg==" } },
    { inlineData: { mimeType: "application/pdf", data: "JVBERi0=" } },
  ]);
  assert.throws(
    () => toGeminiRequest(ask([{ role: "user", content: [{ type: "video_url" }] }])),
    (e) => e instanceof UpstreamError && e.kind === "client_error",
  );
});

Deno.test("gemini request: tools become functionDeclarations with a JSON Schema", () => {
  const parameters = {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  };
  const body = toGeminiRequest(ask([{ role: "user", content: "Hi" }], {
    tools: [
      { type: "function", function: { name: "get_weather", description: "Weather", parameters } },
      { type: "function", function: { name: "ping" } },
    ],
  }));
  assert.deepEqual(body.tools, [{
    functionDeclarations: [
      { name: "get_weather", description: "Weather", parametersJsonSchema: parameters },
      { name: "ping" },
    ],
  }]);
  assert.equal(body.toolConfig, undefined, "no tool_choice leaves Gemini's default (AUTO)");
});

Deno.test("gemini request: tool_choice maps to functionCallingConfig", () => {
  const tools = [{ type: "function" as const, function: { name: "get_weather" } }];
  const config = (tool_choice: ChatRequest["tool_choice"]) =>
    toGeminiRequest(ask([{ role: "user", content: "Hi" }], { tools, tool_choice }))
      .toolConfig?.functionCallingConfig;
  assert.deepEqual(config("none"), { mode: "NONE" });
  assert.deepEqual(config("auto"), { mode: "AUTO" });
  assert.deepEqual(config("required"), { mode: "ANY" });
  assert.deepEqual(config({ type: "function", function: { name: "get_weather" } }), {
    mode: "ANY",
    allowedFunctionNames: ["get_weather"],
  });
});

Deno.test("gemini request: response_format json_schema sets the MIME type and JSON Schema", () => {
  const schema = { type: "object", properties: { answer: { type: "string" } } };
  const strict = toGeminiRequest(ask([{ role: "user", content: "Hi" }], {
    response_format: { type: "json_schema", json_schema: { name: "answer", schema } },
  }));
  assert.deepEqual(strict.generationConfig, {
    responseMimeType: "application/json",
    responseJsonSchema: schema,
  });
  const loose = toGeminiRequest(ask([{ role: "user", content: "Hi" }], {
    response_format: { type: "json_object" },
  }));
  assert.deepEqual(loose.generationConfig, { responseMimeType: "application/json" });
});

Deno.test("gemini request: sampling parameters map to generationConfig", () => {
  const body = toGeminiRequest(ask([{ role: "user", content: "Hi" }], {
    temperature: 0.3,
    top_p: 0.9,
    max_tokens: 50,
    max_completion_tokens: 80,
    stop: "END",
    n: 2,
    seed: 42,
    presence_penalty: 0.5,
  }));
  assert.deepEqual(body.generationConfig, {
    temperature: 0.3,
    topP: 0.9,
    maxOutputTokens: 80,
    stopSequences: ["END"],
    candidateCount: 2,
    seed: 42,
    presencePenalty: 0.5,
  });
});

Deno.test("gemini request: request() builds the endpoint URL and sends the key in a header", () => {
  const req = ask([{ role: "user", content: "Hi" }]);
  const whole = geminiAdapter.request(req, TARGET, { includeUsage: true });
  assert.equal(
    whole.url,
    "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
  );
  assert.equal(whole.headers["x-goog-api-key"], "k-123");
  const streamed = geminiAdapter.request({ ...req, stream: true }, TARGET, { includeUsage: true });
  assert.match(streamed.url, /models\/gemini-2\.5-flash:streamGenerateContent\?alt=sse$/);
  const tuned = geminiAdapter.request(req, { ...TARGET, model: "tunedModels/mine" }, {
    includeUsage: false,
  });
  assert.match(tuned.url, /\/v1beta\/tunedModels\/mine:generateContent$/);
  assert.doesNotMatch(whole.body, /client-model/);
});
