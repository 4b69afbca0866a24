import assert from "node:assert/strict";
import { anthropicAdapter } from "../../../src/upstream/anthropic/index.ts";
import { toAnthropicBody } from "../../../src/upstream/anthropic/request.ts";
import { UpstreamError } from "../../../src/upstream/errors.ts";
import type { UpstreamTarget } from "../../../src/upstream/adapter.ts";
import type { ChatRequest, Message, Tool } from "../../../src/upstream/types.ts";

const TARGET: UpstreamTarget = {
  route: "claude",
  provider: "anthropic",
  model: "claude-sonnet-5-5",
  baseUrl: "https://api.anthropic.com/v1",
  apiKey: "sk-ant-test",
};

const TOOL: Tool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } } },
  },
};

function body(messages: Message[], extra: Partial<ChatRequest> = {}) {
  return toAnthropicBody({ model: "client-model", messages, ...extra }, TARGET.model);
}

Deno.test("anthropic request: posts to {baseUrl}/messages with key and version headers", () => {
  const request = anthropicAdapter.request(
    { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }], stream: true },
    TARGET,
    { includeUsage: true },
  );
  assert.equal(request.url, "https://api.anthropic.com/v1/messages");
  assert.equal(request.headers["x-api-key"], "sk-ant-test");
  assert.equal(request.headers["anthropic-version"], "2023-06-01");
  assert.equal(request.headers["content-type"], "application/json");
  assert.equal(anthropicAdapter.defaultBaseUrl, "https://api.anthropic.com/v1");
  const sent = JSON.parse(request.body);
  assert.equal(sent.model, "claude-sonnet-5-5");
  assert.equal(sent.stream, true);
  assert.equal(sent.stream_options, undefined);
});

Deno.test("anthropic request: system and developer messages become the top-level system", () => {
  const one = body([
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
  ]);
  assert.equal(one.system, "Be brief.");
  assert.deepEqual(one.messages, [{ role: "user", content: "Hi" }]);

  const several = body([
    { role: "developer", content: "Rule one." },
    { role: "user", content: "Hi" },
    { role: "system", content: [{ type: "text", text: "Rule two." }] },
    { role: "assistant", content: "Hello" },
  ]);
  assert.deepEqual(several.system, [
    { type: "text", text: "Rule one." },
    { type: "text", text: "Rule two." },
  ]);
  assert.deepEqual(several.messages.map((m) => m.role), ["user", "assistant"]);
});

Deno.test("anthropic request: consecutive same-role messages merge into one turn", () => {
  const { messages } = body([
    { role: "user", content: "First question." },
    { role: "user", content: [{ type: "text", text: "Second question." }] },
    { role: "assistant", content: "One answer." },
    { role: "assistant", content: "Another answer." },
    { role: "user", content: "Thanks" },
  ]);
  assert.deepEqual(messages, [
    {
      role: "user",
      content: [{ type: "text", text: "First question." }, {
        type: "text",
        text: "Second question.",
      }],
    },
    {
      role: "assistant",
      content: [{ type: "text", text: "One answer." }, { type: "text", text: "Another answer." }],
    },
    { role: "user", content: "Thanks" },
  ]);
});

Deno.test("anthropic request: tool calls become tool_use and tool messages one tool_result turn", () => {
  const { messages } = body([
    { role: "user", content: "Weather in Lisbon and Porto?" },
    {
      role: "assistant",
      content: "Checking both.",
      tool_calls: [
        {
          id: "call_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Lisbon"}' },
        },
        { id: "call_2", type: "function", function: { name: "get_weather", arguments: "" } },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: "21C" },
    { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "18C" }] },
    { role: "user", content: "Which is warmer?" },
  ]);
  assert.deepEqual(messages[1], {
    role: "assistant",
    content: [
      { type: "text", text: "Checking both." },
      { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Lisbon" } },
      { type: "tool_use", id: "call_2", name: "get_weather", input: {} },
    ],
  });
  assert.deepEqual(messages[2], {
    role: "user",
    content: [
      { type: "tool_result", tool_use_id: "call_1", content: "21C" },
      { type: "tool_result", tool_use_id: "call_2", content: [{ type: "text", text: "18C" }] },
      { type: "text", text: "Which is warmer?" },
    ],
  });
  assert.equal(messages.length, 3);
});

Deno.test("anthropic request: tool call arguments that are not a JSON object are refused", () => {
  const call = (args: string): Message[] => [
    { role: "user", content: "Go" },
    {
      role: "assistant",
      tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: args } }],
    },
  ];
  for (const args of ["{broken", "[1,2]", "42"]) {
    assert.throws(
      () => body(call(args)),
      (e) => e instanceof UpstreamError && e.kind === "client_error",
    );
  }
});

Deno.test("anthropic request: images become base64 or url image blocks", () => {
  const { messages } = body([{
    role: "user",
    content: [
      { type: "text", text: "Compare these" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "high" } },
    ],
  }]);
  assert.deepEqual(messages[0].content, [
    { type: "text", text: "Compare these" },
    { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
    { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
  ]);
});

Deno.test("anthropic request: inline PDFs become documents; other parts are refused", () => {
  const { messages } = body([{
    role: "user",
    content: [{
      type: "file",
      file: { filename: "spec.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
    }],
  }]);
  assert.deepEqual(messages[0].content, [{
    type: "document",
    source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" },
    title: "spec.pdf",
  }]);
  const refused = (content: Message) => () => body([content]);
  const isClientError = (e: unknown) => e instanceof UpstreamError && e.kind === "client_error";
  assert.throws(
    refused({
      role: "user",
      content: [{ type: "input_audio", input_audio: { data: "", format: "wav" } }],
    }),
    isClientError,
  );
  assert.throws(
    refused({ role: "user", content: [{ type: "image_url", image_url: { url: "file-abc123" } }] }),
    isClientError,
  );
  assert.throws(
    refused({ role: "user", content: [{ type: "file", file: { file_id: "file-abc" } }] }),
    isClientError,
  );
});

Deno.test("anthropic request: cache_control on a part is carried to its block", () => {
  const { system, messages } = body([
    {
      role: "system",
      content: [{ type: "text", text: "Long rules", cache_control: { type: "ephemeral" } }],
    },
    { role: "user", content: [{ type: "text", text: "Q", cache_control: { type: "ephemeral" } }] },
  ]);
  assert.deepEqual(system, [
    { type: "text", text: "Long rules", cache_control: { type: "ephemeral" } },
  ]);
  assert.deepEqual(messages[0].content, [
    { type: "text", text: "Q", cache_control: { type: "ephemeral" } },
  ]);
});

Deno.test("anthropic request: empty text is dropped and a prefill loses trailing space", () => {
  const { messages } = body([
    { role: "user", content: "Answer in JSON" },
    { role: "assistant", content: "" },
    { role: "user", content: [{ type: "text", text: "  " }, { type: "text", text: "Please" }] },
    { role: "assistant", content: "{ \n" },
  ]);
  assert.deepEqual(messages, [
    {
      role: "user",
      content: [{ type: "text", text: "Answer in JSON" }, { type: "text", text: "Please" }],
    },
    { role: "assistant", content: "{" },
  ]);
});

Deno.test("anthropic request: tool_choice and parallel_tool_calls map to Anthropic's", () => {
  const user: Message[] = [{ role: "user", content: "Go" }];
  const choice = (extra: Partial<ChatRequest>) =>
    body(user, { tools: [TOOL], ...extra }).tool_choice;
  assert.equal(choice({}), undefined);
  assert.deepEqual(choice({ tool_choice: "auto" }), { type: "auto" });
  assert.deepEqual(choice({ tool_choice: "none" }), { type: "none" });
  assert.deepEqual(choice({ tool_choice: "required" }), { type: "any" });
  assert.deepEqual(
    choice({ tool_choice: { type: "function", function: { name: "get_weather" } } }),
    { type: "tool", name: "get_weather" },
  );
  assert.deepEqual(choice({ parallel_tool_calls: false }), {
    type: "auto",
    disable_parallel_tool_use: true,
  });
  assert.deepEqual(choice({ tool_choice: "required", parallel_tool_calls: false }), {
    type: "any",
    disable_parallel_tool_use: true,
  });
  assert.deepEqual(choice({ tool_choice: "none", parallel_tool_calls: false }), { type: "none" });
  // Without tools, a tool choice means nothing and Anthropic would refuse it.
  assert.equal(body(user, { tool_choice: "required" }).tool_choice, undefined);
});

Deno.test("anthropic request: tools carry name, description, input_schema and strict", () => {
  const bare: Tool = { type: "function", function: { name: "ping", strict: true } };
  const { tools } = body([{ role: "user", content: "Go" }], { tools: [TOOL, bare] });
  assert.deepEqual(tools, [
    {
      name: "get_weather",
      description: "Weather for a city",
      input_schema: { type: "object", properties: { city: { type: "string" } } },
    },
    { name: "ping", input_schema: { type: "object", properties: {} }, strict: true },
  ]);
});

Deno.test("anthropic request: sampling, limits, stop, user and response_format are mapped", () => {
  const user: Message[] = [{ role: "user", content: "Go" }];
  assert.equal(body(user).max_tokens, 4096);
  assert.equal(body(user, { max_tokens: 300 }).max_tokens, 300);
  assert.equal(body(user, { max_tokens: 300, max_completion_tokens: 500 }).max_tokens, 500);
  assert.equal(body(user, { temperature: 1.6 }).temperature, 1);
  assert.equal(body(user, { temperature: 0.2 }).temperature, 0.2);
  const both = body(user, { temperature: 0.5, top_p: 0.9 });
  assert.deepEqual([both.temperature, both.top_p], [0.5, undefined]);
  assert.equal(body(user, { top_p: 0.9 }).top_p, 0.9);
  assert.deepEqual(body(user, { stop: "END" }).stop_sequences, ["END"]);
  assert.deepEqual(body(user, { stop: ["a", "b"] }).stop_sequences, ["a", "b"]);
  assert.deepEqual(body(user, { user: "u-42" }).metadata, { user_id: "u-42" });
  const schema = { type: "object", properties: { a: { type: "string" } } };
  assert.deepEqual(
    body(user, { response_format: { type: "json_schema", json_schema: { name: "x", schema } } })
      .output_config,
    { format: { type: "json_schema", schema } },
  );
  assert.equal(body(user, { response_format: { type: "json_object" } }).output_config, undefined);
  const dropped = body(user, { seed: 1, presence_penalty: 0.5, n: 1, metadata: { a: 1 } });
  assert.deepEqual(Object.keys(dropped).sort(), ["max_tokens", "messages", "model"]);
});

Deno.test("anthropic request: n > 1 is refused", () => {
  assert.throws(
    () => body([{ role: "user", content: "Go" }], { n: 2 }),
    (e) => e instanceof UpstreamError && e.kind === "client_error",
  );
});
