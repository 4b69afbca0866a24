/**
 * Reading a response head: the head an OpenAI completion comes with (twenty-odd fields, measured
 * from the official API's documented headers), and the mock's four.
 */
import { parseResponseHead } from "./head.ts";

const OPENAI_HEAD = [
  "HTTP/1.1 200 OK",
  "Date: Wed, 25 Nov 2026 11:00:00 GMT",
  "Content-Type: application/json",
  "Transfer-Encoding: chunked",
  "Connection: keep-alive",
  "access-control-expose-headers: X-Request-ID",
  "openai-organization: user-abc123",
  "openai-processing-ms: 412",
  "openai-project: proj_abc123",
  "openai-version: 2020-10-01",
  "x-envoy-upstream-service-time: 415",
  "x-ratelimit-limit-requests: 10000",
  "x-ratelimit-limit-tokens: 2000000",
  "x-ratelimit-remaining-requests: 9999",
  "x-ratelimit-remaining-tokens: 1999980",
  "x-ratelimit-reset-requests: 6ms",
  "x-ratelimit-reset-tokens: 0s",
  "x-request-id: req_0123456789abcdef0123456789abcdef",
  "strict-transport-security: max-age=31536000; includeSubDomains; preload",
  "cf-cache-status: DYNAMIC",
  "X-Content-Type-Options: nosniff",
  "Server: cloudflare",
  "CF-RAY: 8f1234567890abcd-AMS",
  'alt-svc: h3=":443"; ma=86400',
].join("\r\n");

const MOCK_HEAD =
  "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 340\r\ndate: Wed, 25 Nov 2026 10:47:54 GMT";

Deno.bench("response head: an OpenAI answer's 23 fields", () => {
  parseResponseHead(OPENAI_HEAD);
});

Deno.bench("response head: the bench mock's 3 fields", () => {
  parseResponseHead(MOCK_HEAD);
});
