/**
 * The arithmetic of `policy diff`: one observation per request (where the base and the head policy
 * send it, and its token counts), folded into the flip matrix, per-rule changes, the estimated
 * cost delta and the latency delta. Kept apart from where observations come from (a replayed log,
 * test cases, or shadow decisions), so each source is a few lines and the numbers are tested once.
 */
import { DEFAULT_EXPECTED_OUTPUT_TOKENS } from "../facts/cost.ts";
import type { Facts } from "../facts/facts.ts";
import type { DecisionRecord, LoggedAttempt } from "../log/record.ts";
import type { DiffReport, Flip } from "./diff_types.ts";

/** USD per million tokens. */
export interface Price {
  input: number;
  cached_input: number;
  output: number;
}

/** Where one policy sends a request. */
export interface Side {
  rule: string | null;
  route: string;
  via: "direct" | "gateway";
  /** The route's price under this policy; undefined when unknown (shadow logs only). */
  price?: Price;
}

/** Token counts used for a request's cost, and where each came from. */
export interface Tokens {
  input: number;
  cached: number;
  output: number;
  inputFrom: "usage" | "prompt_estimate";
  outputFrom: "usage" | "max_tokens" | "default";
}

/** One request, decided by both policies. */
export interface Observation {
  id: string;
  tags: string[];
  base: Side;
  head: Side;
  tokens: Tokens;
  /** The route that served the request, whose prompt cache the cached tokens were read from. */
  servedBy?: string;
}

/** Token counts for a request: logged usage when there is some, the request's facts otherwise. */
export function tokensOf(facts: Facts, usage?: DecisionRecord["usage"]): Tokens {
  const maxTokens = facts.request.max_tokens;
  return {
    input: usage?.input_tokens ?? facts.prompt.tokens,
    cached: usage?.cached_input_tokens ?? 0,
    output: usage?.output_tokens ?? maxTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS,
    inputFrom: usage ? "usage" : "prompt_estimate",
    outputFrom: usage ? "usage" : maxTokens !== undefined ? "max_tokens" : "default",
  };
}

/**
 * USD for a request on a route. Cached tokens get the cached price only on the route that served
 * (and so cached) them: another provider or model has no copy of the prompt and bills it in full.
 */
export function requestCost(price: Price, tokens: Tokens, servedHere: boolean): number {
  const cached = servedHere ? Math.min(tokens.cached, tokens.input) : 0;
  return ((tokens.input - cached) * price.input + cached * price.cached_input +
    tokens.output * price.output) / 1_000_000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Which flips `--fail-on-flip` cares about: any, or those touching given routes or tags. */
export function flipSelected(o: Observation, selectors: string[]): boolean {
  if (o.base.route === o.head.route) return false;
  if (selectors.length === 0) return true;
  return selectors.some((s) =>
    s.startsWith("tag:")
      ? o.tags.includes(s.slice(4).toLowerCase())
      : o.base.route === s || o.head.route === s
  );
}

const MAX_EXAMPLES = 3;

/** Accumulates observations and logged attempts; `report()` turns them into the diff's numbers. */
export class DiffTally {
  readonly #pairs = new Map<string, Flip & { baseCost: number; headCost: number }>();
  readonly #rules = new Map<string | null, { base: number; head: number }>();
  readonly #latency = new Map<string, { latency: number[]; ttft: number[] }>();
  readonly #failOn?: string[];
  #requests = 0;
  #unpriced = 0;
  #matched = 0;
  #cost = { base: 0, head: 0 };
  #tokens = {
    input: { usage: 0, prompt_estimate: 0 },
    output: { usage: 0, max_tokens: 0, default: 0 },
  };

  /** `ruleOrder` lists rules (base's, then head's new ones) so the table reads in policy order. */
  constructor(ruleOrder: string[], failOnFlip?: string[]) {
    for (const rule of ruleOrder) this.#rules.set(rule, { base: 0, head: 0 });
    this.#rules.set(null, { base: 0, head: 0 });
    this.#failOn = failOnFlip;
  }

  /** Latency samples from a logged request: successful attempts only. */
  addAttempts(attempts: LoggedAttempt[]): void {
    for (const a of attempts) {
      if (a.outcome !== "ok") continue;
      let stats = this.#latency.get(a.route);
      if (!stats) this.#latency.set(a.route, stats = { latency: [], ttft: [] });
      stats.latency.push(a.latency_ms);
      if (a.ttft_ms !== undefined) stats.ttft.push(a.ttft_ms);
    }
  }

  add(o: Observation): void {
    this.#requests++;
    const key = `${o.base.route}\u0000${o.head.route}`;
    let pair = this.#pairs.get(key);
    if (!pair) {
      pair = {
        from: o.base.route,
        to: o.head.route,
        fromVia: o.base.via,
        toVia: o.head.via,
        count: 0,
        share: 0,
        costDeltaUsd: 0,
        latencyDeltaMs: null,
        examples: [],
        baseCost: 0,
        headCost: 0,
      };
      this.#pairs.set(key, pair);
    }
    pair.count++;
    if (pair.examples.length < MAX_EXAMPLES) pair.examples.push(o.id);
    this.#rule(o.base.rule).base++;
    this.#rule(o.head.rule).head++;
    this.#tokens.input[o.tokens.inputFrom]++;
    this.#tokens.output[o.tokens.outputFrom]++;
    if (o.base.price && o.head.price) {
      const base = requestCost(o.base.price, o.tokens, o.servedBy === o.base.route);
      const head = requestCost(o.head.price, o.tokens, o.servedBy === o.head.route);
      this.#cost.base += base;
      this.#cost.head += head;
      pair.baseCost += base;
      pair.headCost += head;
    } else this.#unpriced++;
    if (this.#failOn && flipSelected(o, this.#failOn)) this.#matched++;
  }

  #rule(name: string | null) {
    let counts = this.#rules.get(name);
    if (!counts) this.#rules.set(name, counts = { base: 0, head: 0 });
    return counts;
  }

  /** The numbers of the diff; the caller adds the policies and the source. */
  report(): Omit<DiffReport, "base" | "head" | "source"> {
    const n = this.#requests;
    const share = (count: number) => (n === 0 ? 0 : count / n);
    const routes = [...this.#latency].map(([route, s]) => {
      const entry: DiffReport["latency"]["routes"][number] = {
        route,
        samples: s.latency.length,
        p50Ms: median(s.latency),
      };
      if (s.ttft.length) entry.ttftP50Ms = median(s.ttft);
      return entry;
    }).sort((a, b) => a.route.localeCompare(b.route));
    const p50 = new Map(routes.map((r) => [r.route, r.p50Ms]));
    const pairs = [...this.#pairs.values()].sort((a, b) =>
      b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to)
    );
    let known = 0;
    let baseMs = 0;
    let headMs = 0;
    const unknownRoutes = new Set<string>();
    for (const pair of pairs) {
      pair.share = share(pair.count);
      pair.costDeltaUsd = pair.headCost - pair.baseCost;
      const from = p50.get(pair.from);
      const to = p50.get(pair.to);
      if (from === undefined) unknownRoutes.add(pair.from);
      if (to === undefined) unknownRoutes.add(pair.to);
      if (from === undefined || to === undefined) continue;
      pair.latencyDeltaMs = to - from;
      known += pair.count;
      baseMs += from * pair.count;
      headMs += to * pair.count;
    }
    const flips: Flip[] = pairs.filter((p) => p.from !== p.to).map(
      ({ baseCost: _b, headCost: _h, ...flip }) => flip,
    );
    const flipped = flips.reduce((sum, f) => sum + f.count, 0);
    const count = (pred: (f: Flip) => boolean) =>
      flips.filter(pred).reduce((sum, f) => sum + f.count, 0);
    const viaCount = (side: "fromVia" | "toVia", via: string) =>
      pairs.filter((p) => p[side] === via).reduce((sum, p) => sum + p.count, 0);
    // One order for both axes (by total volume), so unchanged traffic lies on the diagonal.
    const volume = new Map<string, number>();
    for (const p of pairs) {
      volume.set(p.from, (volume.get(p.from) ?? 0) + p.count);
      volume.set(p.to, (volume.get(p.to) ?? 0) + p.count);
    }
    const axis = [...volume].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([route]) => route);
    const order = (key: "from" | "to") => axis.filter((r) => pairs.some((p) => p[key] === r));
    const delta = this.#cost.head - this.#cost.base;
    const report: Omit<DiffReport, "base" | "head" | "source"> = {
      requests: n,
      flipped,
      flippedShare: share(flipped),
      matrix: {
        rows: order("from"),
        columns: order("to"),
        cells: pairs.map((p) => ({ from: p.from, to: p.to, count: p.count, share: p.share })),
      },
      flips,
      via: {
        base: { direct: viaCount("fromVia", "direct"), gateway: viaCount("fromVia", "gateway") },
        head: { direct: viaCount("toVia", "direct"), gateway: viaCount("toVia", "gateway") },
        directToGateway: count((f) => f.fromVia === "direct" && f.toVia === "gateway"),
        gatewayToDirect: count((f) => f.fromVia === "gateway" && f.toVia === "direct"),
      },
      rules: [...this.#rules].map(([rule, c]) => ({ rule, ...c, delta: c.head - c.base })),
      cost: {
        baseUsd: this.#cost.base,
        headUsd: this.#cost.head,
        deltaUsd: delta,
        deltaShare: this.#cost.base > 0 ? delta / this.#cost.base : null,
        unpriced: this.#unpriced,
        tokens: structuredClone(this.#tokens),
      },
      latency: {
        routes,
        known,
        unknown: n - known,
        unknownRoutes: [...unknownRoutes].sort(),
        baseMeanMs: known ? baseMs / known : null,
        headMeanMs: known ? headMs / known : null,
        deltaMs: known ? (headMs - baseMs) / known : null,
      },
    };
    if (this.#failOn) {
      report.failOnFlip = {
        selectors: this.#failOn,
        matched: this.#matched,
        failed: this.#matched > 0,
      };
    }
    return report;
  }
}
