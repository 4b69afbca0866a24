/**
 * Replay: re-decides logged requests with a policy and counts where they would go, per rule and
 * per route, and which rules would never fire. The facts are the logged ones, with the replaying
 * policy's own static route facts (see `replayFacts`), so a replay answers "what would this policy
 * have done with that traffic?".
 */
import { emptyHealth, type Facts, type RouteFacts } from "../facts/facts.ts";
import { decisionRecords, type LogWarning } from "../log/reader.ts";
import type { DecisionRecord } from "../log/record.ts";
import { decide } from "./decide.ts";
import type { Policy } from "./types.ts";

/** A policy as a report names it. */
export interface PolicyRef {
  name: string;
  version: string;
  hash: string;
  /** Where it was read from: a path, or `rev:path` for a git revision. */
  file: string;
}

export interface ReplayReport {
  policy: PolicyRef;
  /** Log files read, in order, and the lines skipped in them. */
  log: { files: string[]; warnings: LogWarning[] };
  requests: number;
  /** Requests whose replayed route differs from the route logged for them. */
  changed: number;
  /** Every rule in policy order, then the default (`rule: null`). `share` is 0..1. */
  rules: { rule: string | null; line?: number; count: number; share: number; errors: number }[];
  /** Every route of the policy, most requests first. */
  routes: { route: string; via: "direct" | "gateway"; count: number; share: number }[];
  /** Rules no replayed request matched. */
  neverFired: string[];
}

/** The reference to a loaded policy that reports carry. */
export function policyRef(policy: Policy, file = policy.file): PolicyRef {
  return { name: policy.name, version: policy.version, hash: policy.hash, file };
}

/**
 * The facts a logged request is re-decided on by `policy`.
 *
 * Route facts mix two sources on purpose. Their static part (via, provider, model, price, context
 * window, labels) is what the policy under review says: a change that edits a price or a context
 * window must be seen by `$cost()`, `$fits()` and by expressions reading `routes.x.price`. Their
 * `health` and `available` parts are observations of the world when the request was served, not
 * policy, so they are kept from the log for every route present in both; a route the log has never
 * seen gets the zero health a freshly started server would give it. Routes only in the log are
 * dropped, as the policy cannot name them.
 */
export function replayFacts(facts: Facts, policy: Policy): Facts {
  const routes: Record<string, RouteFacts> = {};
  for (const [name, route] of Object.entries(policy.routeFacts)) {
    const logged = facts.routes?.[name] as Partial<RouteFacts> | undefined;
    routes[name] = {
      ...route,
      available: typeof logged?.available === "boolean" ? logged.available : route.available,
      health: logged?.health ? { ...emptyHealth(), ...logged.health } : emptyHealth(),
    };
  }
  return { ...facts, routes };
}

/** The sticky key split rules are bucketed on, as the server chose it. */
export function stickyKeyOf(record: DecisionRecord): string {
  return record.sticky_key ?? record.facts.request.user ?? record.request_id;
}

/** Replays records through a policy; `log` is copied into the report as its source. */
export async function replayDecisions(
  policy: Policy,
  records: AsyncIterable<DecisionRecord> | Iterable<DecisionRecord>,
  log: ReplayReport["log"] = { files: [], warnings: [] },
): Promise<ReplayReport> {
  const ruleCounts = new Map<string | null, { count: number; errors: number }>();
  for (const rule of policy.rules) ruleCounts.set(rule.name, { count: 0, errors: 0 });
  ruleCounts.set(null, { count: 0, errors: 0 });
  const routeCounts = new Map(Object.keys(policy.routes).map((name) => [name, 0]));
  let requests = 0;
  let changed = 0;
  for await (const record of records) {
    const decision = await decide(policy, replayFacts(record.facts, policy), {
      stickyKey: stickyKeyOf(record),
    });
    requests++;
    if (decision.route !== record.decision.route) changed++;
    ruleCounts.get(decision.rule)!.count++;
    routeCounts.set(decision.route, routeCounts.get(decision.route)! + 1);
    for (const t of decision.trace) if (t.result === "error") ruleCounts.get(t.rule)!.errors++;
  }
  const share = (n: number) => (requests === 0 ? 0 : n / requests);
  const lines = new Map(policy.rules.map((r) => [r.name, r.line]));
  const rules = [...ruleCounts].map(([rule, { count, errors }]) => {
    const entry: ReplayReport["rules"][number] = { rule, count, share: share(count), errors };
    if (rule !== null) entry.line = lines.get(rule);
    return entry;
  });
  const routes = [...routeCounts]
    .map(([route, count]) => ({ route, via: policy.routes[route].via, count, share: share(count) }))
    .sort((a, b) => b.count - a.count || a.route.localeCompare(b.route));
  return {
    policy: policyRef(policy),
    log,
    requests,
    changed,
    rules,
    routes,
    neverFired: rules.filter((r) => r.rule !== null && r.count === 0).map((r) => r.rule!),
  };
}

/** Streams the given log files through a policy. */
export async function replayLog(policy: Policy, files: string[]): Promise<ReplayReport> {
  const warnings: LogWarning[] = [];
  return await replayDecisions(
    policy,
    decisionRecords(files, (w) => warnings.push(w)),
    { files, warnings },
  );
}
