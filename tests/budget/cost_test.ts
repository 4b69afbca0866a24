import assert from "node:assert/strict";
import { costOf, estimateRequestCost, usdToNano } from "../../src/budget/cost.ts";
import type { NormalizedUsage } from "../../src/upstream/types.ts";

const PRICE = { input: 3, cached_input: 0.3, cache_write: 3.75, output: 15 };
const usage = (u: Partial<NormalizedUsage>): NormalizedUsage => ({
  input_tokens: 0,
  output_tokens: 0,
  cached_input_tokens: 0,
  cache_write_tokens: 0,
  reasoning_tokens: 0,
  ...u,
});

Deno.test("costOf() prices cached input and cache writes at their own prices", () => {
  // 10 000 prompt tokens: 6 000 read from the cache, 1 000 written to it, 3 000 plain.
  const cost = costOf(
    usage({
      input_tokens: 10_000,
      cached_input_tokens: 6_000,
      cache_write_tokens: 1_000,
      output_tokens: 500,
    }),
    PRICE,
  );
  // 3000 × 3 + 6000 × 0.3 + 1000 × 3.75 + 500 × 15 = 9000 + 1800 + 3750 + 7500 micro-USD.
  assert.deepEqual(cost, { usd: 0.02205, nanoUsd: 22_050_000, source: "computed" });
});

Deno.test("costOf() prefers the gateway's reported cost, even when it is zero", () => {
  const reported = costOf(usage({ input_tokens: 1_000, reported_cost_usd: 0.00042 }), PRICE);
  assert.deepEqual(reported, { usd: 0.00042, nanoUsd: 420_000, source: "reported" });
  assert.equal(costOf(usage({ input_tokens: 1_000, reported_cost_usd: 0 }), PRICE).nanoUsd, 0);
  assert.equal(
    costOf(usage({ input_tokens: 1_000, reported_cost_usd: Number.NaN }), PRICE).source,
    "computed",
  );
});

Deno.test("costOf() is exact in nano-dollars where floating point would drift", () => {
  const cheap = { input: 0.1, cached_input: 0.1, cache_write: 0.1, output: 0.2 };
  let nano = 0;
  let float = 0;
  for (let i = 0; i < 1_000; i++) {
    const cost = costOf(usage({ input_tokens: 1, output_tokens: 1 }), cheap);
    nano += cost.nanoUsd;
    float += cost.usd;
  }
  assert.equal(nano, 300_000, "1000 × (0.1 + 0.2) µUSD = 0.0003 USD exactly");
  assert.notEqual(float, 0.0003, "the same sum in floating-point dollars drifts");
  // A fractional nano-dollar is rounded once per request, half up.
  const sub = { input: 0.0375, cached_input: 0.0375, cache_write: 0.0375, output: 0 };
  assert.equal(costOf(usage({ input_tokens: 1 }), sub).nanoUsd, 38, "37.5 rounds to 38");
  assert.equal(costOf(usage({ input_tokens: 2 }), sub).nanoUsd, 75);
});

Deno.test("costOf() never bills negative uncached input", () => {
  const odd = usage({ input_tokens: 100, cached_input_tokens: 150 });
  assert.equal(costOf(odd, PRICE).nanoUsd, 45_000, "only the 150 cached tokens at 0.3");
});

Deno.test("estimateRequestCost() assumes 512 output tokens when max_tokens is unset", () => {
  assert.deepEqual(estimateRequestCost({ promptTokens: 1_000 }, PRICE), {
    usd: 0.01068,
    nanoUsd: 10_680_000,
  });
  assert.equal(estimateRequestCost({ promptTokens: 1_000, maxTokens: 100 }, PRICE).usd, 0.0045);
});

Deno.test("usdToNano() refuses amounts that are not costs", () => {
  assert.equal(usdToNano(1.5), 1_500_000_000);
  assert.throws(() => usdToNano(-1), RangeError);
  assert.throws(() => usdToNano(Number.POSITIVE_INFINITY), RangeError);
});
