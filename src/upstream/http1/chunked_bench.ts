/**
 * The chunked decoder on what a stream's reads carry: one OpenAI chunk per read (a provider
 * flushing every token), and a burst of twenty in one read.
 */
import { ChunkedDecoder } from "./chunked.ts";

const encoder = new TextEncoder();
const event = (i: number) =>
  `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1795603674,` +
  `"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"tok${i} "},` +
  `"logprobs":null,"finish_reason":null}]}\n\n`;
const chunk = (text: string) => `${encoder.encode(text).length.toString(16)}\r\n${text}\r\n`;

const ONE = encoder.encode(chunk(event(0)));
const BURST = encoder.encode(Array.from({ length: 20 }, (_, i) => chunk(event(i))).join(""));
const scratch = new Uint8Array(BURST.length);

Deno.bench("chunked: one event per read", () => {
  const decoder = new ChunkedDecoder();
  scratch.set(ONE);
  decoder.decode(scratch, 0, ONE.length);
});

Deno.bench("chunked: twenty events in one read", () => {
  const decoder = new ChunkedDecoder();
  scratch.set(BURST);
  decoder.decode(scratch, 0, BURST.length);
});
