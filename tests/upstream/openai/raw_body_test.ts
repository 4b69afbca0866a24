import assert from "node:assert/strict";
import { withModel } from "../../../src/upstream/openai/raw_body.ts";

Deno.test("withModel: only the top-level model value changes, byte for byte", () => {
  const raw = '{ "model" :\n"fast",\t"messages":[{"role":"user","content":"model: \\"model\\""}]}';
  assert.equal(
    withModel(raw, "fast", "gpt-4o-mini"),
    '{ "model" :\n"gpt-4o-mini",\t"messages":[{"role":"user","content":"model: \\"model\\""}]}',
  );
  // The same model: the very same text.
  assert.equal(withModel(raw, "fast", "fast"), raw);
  // "model" as a string value (Gemini's role name, a word) is not a key.
  assert.equal(
    withModel('{"messages":[{"role":"model","content":"model"}],"model":"a"}', "a", "b"),
    '{"messages":[{"role":"model","content":"model"}],"model":"b"}',
  );
  // Escapes in the value are decoded before comparing; the new value is written escaped.
  assert.equal(withModel('{"model":"f\\u0061st"}', "fast", 'a"b'), '{"model":"a\\"b"}');
});

Deno.test("withModel: not certain which value is the top-level model → undefined", () => {
  // A nested `model` key (tool schemas and metadata can have one).
  const nested = '{"model":"a","metadata":{"model":"x"},"messages":[]}';
  assert.equal(withModel(nested, "a", "b"), undefined);
  // A duplicate key: JSON.parse keeps the last, a forwarded body must not guess.
  assert.equal(withModel('{"model":"x","model":"a"}', "a", "b"), undefined);
  // The value found is not the request's model.
  assert.equal(withModel('{"model":"x"}', "a", "b"), undefined);
  // No model key at all, or not a string.
  assert.equal(withModel('{"messages":[]}', "a", "b"), undefined);
  assert.equal(withModel('{"model":7}', "a", "b"), undefined);
});

/** Random JSON-ish request bodies, with traps: nested model keys, escapes, odd whitespace. */
function* generatedBodies(count: number): Generator<string> {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const space = () => pick(["", " ", "\n", "\t", "  \r\n"]);
  const word = () =>
    pick(["model", "fast", "gpt-4o", 'say \\"model\\"', "\\u006dodel", "é🙂", "a\\\\", "model:"]);
  const value = (depth: number): string => {
    const r = rand();
    if (depth > 2 || r < 0.4) return `"${word()}"`;
    if (r < 0.55) return String(Math.floor(rand() * 1e6));
    if (r < 0.6) return "12345678901234567890";
    if (r < 0.8) return `[${space()}${value(depth + 1)}${space()}]`;
    const key = rand() < 0.15 ? "model" : pick(["role", "content", "x", "properties"]);
    return `{${space()}"${key}"${space()}:${space()}${value(depth + 1)}${space()}}`;
  };
  for (let i = 0; i < count; i++) {
    const fields = [`"model"${space()}:${space()}"${pick(["fast", "f\\u0061st", "auto"])}"`];
    for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) {
      fields.push(`"${pick(["messages", "tools", "metadata", "user", "model"])}":${value(0)}`);
    }
    // Shuffle so the top-level model key is anywhere.
    fields.sort(() => rand() - 0.5);
    yield `{${space()}${fields.join(`,${space()}`)}${space()}}`;
  }
}

Deno.test("withModel: on 5,000 generated bodies, it changes exactly what a JSON round trip would", () => {
  let spliced = 0;
  for (const raw of generatedBodies(5_000)) {
    const parsed = JSON.parse(raw);
    const out = withModel(raw, parsed.model, "target-model");
    if (out === undefined) continue;
    spliced++;
    assert.deepEqual(JSON.parse(out), { ...parsed, model: "target-model" }, raw);
    // Everything around the value is the client's own text.
    const at = out.indexOf('"target-model"');
    assert.equal(out.slice(0, at), raw.slice(0, at), raw);
  }
  // The generator mostly makes bodies whose model key is unambiguous.
  assert.ok(spliced > 1_000, `only ${spliced} spliced`);
});
