/** Token estimation over ~20 KiB of each kind of text the calibration corpus has. */
import { estimateTokens } from "./tokens.ts";

const corpus = (file: string) =>
  Deno.readTextFileSync(new URL(`../../tests/fixtures/tokens/${file}`, import.meta.url));
/** Repeated to about 20,000 characters, and round-tripped through JSON as a request body is. */
const sized = (text: string) =>
  JSON.parse(JSON.stringify(text.repeat(Math.ceil(20_000 / text.length)).slice(0, 20_000)));

for (
  const [kind, file] of [
    ["prose", "prose-en.txt"],
    ["code", "code-typescript.txt"],
    ["JSON", "json-pretty.txt"],
    ["CJK", "cjk.txt"],
  ]
) {
  const text: string = sized(corpus(file));
  Deno.bench(`estimateTokens: 20,000 characters of ${kind}`, { group: "tokens" }, () => {
    estimateTokens(text);
  });
}
Deno.bench("estimateTokens: a 24-character message", { group: "tokens" }, () => {
  estimateTokens("Say hello in five words.");
});
