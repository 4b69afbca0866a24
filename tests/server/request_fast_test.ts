import assert from "node:assert/strict";
import { commonChatRequest } from "../../src/server/request_fast.ts";
import { parseChatRequest, readChatRequest } from "../../src/server/request.ts";
import { ChatRequestSchema } from "../../src/upstream/types.ts";
import { random } from "../../src/seeded.ts";

/** Values of every JSON kind, valid and invalid for one field or another. */
const ANY: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  2,
  2.5,
  16,
  2 ** 53,
  1e21,
  "",
  "x",
  "auto",
  [],
  ["a", "b"],
  [1],
  {},
  { include_usage: true },
  { include_usage: "yes" },
  { a: 1 },
  JSON.parse('{"__proto__": {"polluted": true}}'),
];

/** Per field, values that are mostly valid, so generated bodies often pass. */
const LIKELY: Record<string, unknown[]> = {
  stream: [true, false, null],
  stream_options: [null, { include_usage: true }, { include_usage: false }, {}, { extra: 1 }],
  max_tokens: [null, 1, 16, 4096],
  max_completion_tokens: [null, 1, 256],
  temperature: [null, 0, 0.7, 2],
  top_p: [null, 0, 0.9, 1],
  n: [null, 1, 3],
  stop: [null, "\n", ["a", "b"], []],
  seed: [null, 0, -5, 42],
  presence_penalty: [null, 0, -1.5, 2],
  frequency_penalty: [null, 0.5],
  parallel_tool_calls: [true, false],
  user: ["u-1", ""],
  metadata: [null, {}, { tags: ["a"] }, { team: "x" }],
  tools: [[{ type: "function", function: { name: "f", parameters: { type: "object" } } }]],
  tool_choice: ["auto", "none", { type: "function", function: { name: "f" } }],
  response_format: [{ type: "text" }, { type: "json_object" }],
  x_unknown: [1, "v", { nested: true }],
};

const ROLES = [
  "system",
  "developer",
  "user",
  "user",
  "user",
  "assistant",
  "tool",
  "bot",
  undefined,
];

function generator(seed: number) {
  const next = random(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)];
  const chance = (p: number) => next() < p;
  const value = (field: string) => chance(0.9) ? pick(LIKELY[field]) : pick(ANY);

  const message = (): unknown => {
    if (chance(0.03)) return pick(ANY);
    const m: Record<string, unknown> = {};
    const role = pick(ROLES);
    if (role !== undefined) m.role = role;
    const content = chance(0.85) ? pick(["hello", "", "a longer prompt with some words"]) : pick([
      null,
      [{ type: "text", text: "hi" }],
      [{ type: "image_url", image_url: { url: "https://x/y.png" } }],
      [{ type: "text" }],
      ...ANY,
    ]);
    if (!chance(0.05)) m.content = content;
    if (chance(0.15)) m.name = pick(["n", 1, null]);
    if (chance(0.1)) m.refusal = pick([null, "no", 3]);
    if (chance(0.08)) {
      m.tool_calls = [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }];
    }
    if (role === "tool" ? chance(0.85) : chance(0.05)) m.tool_call_id = pick(["c1", 7]);
    if (chance(0.1)) m.extra = { anything: true };
    return m;
  };

  return (): unknown => {
    if (chance(0.02)) return pick(ANY);
    const body: Record<string, unknown> = {};
    if (!chance(0.03)) body.model = chance(0.95) ? pick(["gpt-4o-mini", "auto"]) : pick(ANY);
    if (!chance(0.03)) {
      body.messages = chance(0.95)
        ? Array.from({ length: 1 + Math.floor(next() * 4) }, message)
        : pick([[], ...ANY]);
    }
    for (const field of Object.keys(LIKELY)) if (chance(0.2)) body[field] = value(field);
    return body;
  };
}

Deno.test("fast request check: never accepts what zod rejects, and accepts exactly zod's value", () => {
  const generate = generator(20261125);
  let fastAccepted = 0;
  let zodAccepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const body = generate();
    const fast = commonChatRequest(body);
    const zod = ChatRequestSchema.safeParse(body);
    if (zod.success) zodAccepted++;
    if (fast === undefined) continue;
    fastAccepted++;
    const shown = JSON.stringify(body);
    assert.ok(zod.success, `the fast check accepted a body zod rejects: ${shown}`);
    assert.equal(fast, body, "the fast check must hand back the parsed body itself");
    assert.deepStrictEqual(fast, zod.data, `zod's value differs for ${shown}`);
  }
  // The comparison means something only if both paths saw many valid bodies.
  assert.ok(zodAccepted > 2_000, `only ${zodAccepted} generated bodies were valid`);
  assert.ok(
    fastAccepted > zodAccepted / 2,
    `the fast check took ${fastAccepted} of ${zodAccepted} valid bodies`,
  );
});

Deno.test("fast request check: takes the common shapes as they are", () => {
  const common = [
    { model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello." }], max_tokens: 16 },
    {
      model: "auto",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "What is 2+2?", name: "ada" },
        { role: "assistant", content: null, refusal: null },
        { role: "tool", content: "4", tool_call_id: "call_1" },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      stop: ["\n\n"],
      user: "u-42",
      metadata: { tags: ["support"] },
      vendor_extension: { keep: "me" },
    },
  ];
  for (const body of common) assert.equal(commonChatRequest(body), body);
});

Deno.test("fast request check: leaves rarer shapes and every invalid field to zod's messages", () => {
  const base = { model: "m", messages: [{ role: "user", content: "hi" }] };
  const declined = [
    { ...base, tools: [{ type: "function", function: { name: "f" } }] },
    { ...base, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] },
    { ...base, temperature: 3 },
    { ...base, max_tokens: 0 },
    { ...base, stream: "yes" },
    { ...base, messages: [] },
    { ...base, model: "" },
    { messages: base.messages },
  ];
  for (const body of declined) {
    assert.equal(commonChatRequest(body), undefined, JSON.stringify(body));
  }
  // What the client sees is still zod's precise message.
  assert.throws(
    () => parseChatRequest({ ...base, temperature: 3 }),
    (e: Error) => e.message.startsWith("Invalid 'temperature'"),
  );
  assert.throws(
    () => parseChatRequest({ messages: base.messages }),
    /Missing required parameter: 'model'/,
  );
});

Deno.test("readChatRequest: the body text comes with the request only when it is the request as is", () => {
  const common = '{"model":"auto", "messages":[{"role":"user","content":"hi"}]}';
  assert.deepEqual(readChatRequest(common), { request: JSON.parse(common), raw: common });
  // Content parts go to zod, whose answer is a copy: the text no longer is the request.
  const parts =
    '{"model":"auto","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}';
  const read = readChatRequest(parts);
  assert.equal(read.raw, undefined);
  assert.equal(read.request.model, "auto");
});
