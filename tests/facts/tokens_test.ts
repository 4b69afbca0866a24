import assert from "node:assert/strict";
import { encode, encodeChat } from "gpt-tokenizer/model/gpt-4o";
import { buildFacts } from "../../src/facts/facts.ts";
import { estimateTokens } from "../../src/facts/tokens.ts";

const DIR = new URL("../fixtures/tokens/", import.meta.url);
const read = (name: string) => Deno.readTextFileSync(new URL(name, DIR));

/** Corpus files grouped by kind of text. */
const KINDS: Record<string, string[]> = {
  prose: ["prose-en.txt", "prose-mixed.txt"],
  code: ["code-typescript.txt", "code-typescript-2.txt"],
  json: ["json-schema.txt", "json-pretty.txt"],
  cjk: ["cjk.txt"],
};

function longChat() {
  const paragraphs = read("prose-en.txt").split("\n\n");
  const messages: { role: "system" | "user" | "assistant"; content: string }[] = [
    { role: "system", content: "You are a careful assistant. Answer briefly." },
  ];
  for (let i = 0; i < 16; i++) {
    const base = paragraphs[i % paragraphs.length];
    messages.push({
      role: i % 2 ? "assistant" : "user",
      content: i % 3 === 0 ? `${base} Can you explain that in more detail?` : base,
    });
  }
  return messages;
}

Deno.test("estimateTokens() is within ±25% of o200k for each kind of text", () => {
  for (const [kind, files] of Object.entries(KINDS)) {
    let actual = 0;
    let estimate = 0;
    for (const file of files) {
      const text = read(file);
      actual += encode(text).length;
      estimate += estimateTokens(text);
    }
    const ratio = estimate / actual;
    assert.ok(ratio >= 0.75 && ratio <= 1.25, `${kind}: estimate/actual = ${ratio.toFixed(3)}`);
  }
});

Deno.test("prompt.tokens of a long multi-turn chat is within ±25% of o200k's chat count", () => {
  const messages = longChat();
  const actual = encodeChat(messages).length;
  const facts = buildFacts({ model: "auto", messages }, { routes: {} });
  const ratio = facts.prompt.tokens / actual;
  assert.ok(ratio >= 0.75 && ratio <= 1.25, `chat: estimate/actual = ${ratio.toFixed(3)}`);
});

Deno.test("estimateTokens() is within ±15% of o200k over the whole corpus", () => {
  let actual = 0;
  let estimate = 0;
  for (const file of Object.values(KINDS).flat()) {
    const text = read(file);
    actual += encode(text).length;
    estimate += estimateTokens(text);
  }
  const messages = longChat();
  actual += encodeChat(messages).length;
  estimate += buildFacts({ model: "auto", messages }, { routes: {} }).prompt.tokens;
  const ratio = estimate / actual;
  assert.ok(ratio >= 0.85 && ratio <= 1.15, `overall: estimate/actual = ${ratio.toFixed(3)}`);
});

Deno.test("estimateTokens() counts nothing for empty text and grows with the text", () => {
  assert.equal(estimateTokens(""), 0);
  const one = estimateTokens("hello world");
  assert.ok(one >= 2 && one <= 3);
  assert.ok(estimateTokens("hello world ".repeat(100)) > 150);
  assert.ok(estimateTokens("😀😀") >= 2, "surrogate pairs are counted");
});

Deno.test("estimateTokens(): texts past its reused buffer count the same, and lone surrogates count", () => {
  // A piece that starts with a letter and ends with a newline closes every run it opens, so
  // repeating it repeats its count: 300,000 characters take a buffer of their own.
  const piece = `${read("prose-mixed.txt").trim()}\n`;
  const copies = Math.ceil(300_000 / piece.length);
  assert.ok(piece.length * copies * 3 > 256 * 1024);
  assert.equal(estimateTokens(piece.repeat(copies)), copies * estimateTokens(piece));
  // An emoji (a surrogate pair) is about two tokens; a lone surrogate, not valid UTF-16, is
  // read as U+FFFD: one other character.
  assert.equal(estimateTokens("😀"), 2);
  assert.equal(estimateTokens("\ud800"), 1);
  assert.equal(estimateTokens("a\ud800b"), 3);
});
