/**
 * `policy diff`: what a policy change does to traffic. The same requests go through the base
 * policy (usually read at a git revision) and the head policy (the working tree): their facts come
 * from a decision log, or from the head policy's test cases when there is no log. A log written
 * with a shadow policy can also be read as it is: its live and shadow decisions are the flips.
 */
import type { Facts, RouteFacts } from "../facts/facts.ts";
import { decisionRecords, type LogWarning } from "../log/reader.ts";
import type { DecisionRecord, LoggedAttempt } from "../log/record.ts";
import { decide } from "./decide.ts";
import { DiffTally, type Price, type Side, tokensOf } from "./diff_tally.ts";
import type { DiffReport } from "./diff_types.ts";
import { PolicyError } from "./problems.ts";
import { type PolicyRef, policyRef, replayFacts, stickyKeyOf } from "./replay.ts";
import { ScenarioError, scenarioFacts } from "./scenario.ts";
import { PolicySource } from "./source.ts";
import { TEST_NOW, TestFileSchema } from "./testing.ts";
import type { Policy } from "./types.ts";

/** The requests to compare on could not be found (no test file, no shadow decisions). */
export class DiffSourceError extends Error {
  override name = "DiffSourceError";
}

/** One request to decide with both policies, with what the log knew about it. */
export interface DiffInput {
  id: string;
  facts: Facts;
  stickyKey: string;
  usage?: DecisionRecord["usage"];
  servedBy?: string;
  attempts: LoggedAttempt[];
}

export interface DiffOptions {
  /** `--fail-on-flip` selectors: route names or `tag:name`; empty means every flip. */
  failOnFlip?: string[];
}

/** The requests of a decision log, in order; skipped lines go to `warnings`. */
export async function* logInputs(
  files: string[],
  warnings: LogWarning[],
): AsyncGenerator<DiffInput> {
  for await (const record of decisionRecords(files, (w) => warnings.push(w))) {
    yield {
      id: record.request_id,
      facts: record.facts,
      stickyKey: stickyKeyOf(record),
      usage: record.usage,
      servedBy: record.served_by,
      attempts: record.attempts,
    };
  }
}

/** The test file beside a policy: `default.yaml` → `default.test.yaml`. */
export function testFileFor(policyFile: string): string {
  return policyFile.replace(/(\.ya?ml)?$/, ".test.yaml");
}

/**
 * The requests a policy's test cases describe, with the given route facts (the head policy's);
 * time facts use the test runner's fixed instant. A case that cannot be built is a warning.
 */
export async function testCaseInputs(
  file: string,
  routes: Record<string, RouteFacts>,
  warnings: LogWarning[],
): Promise<DiffInput[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new DiffSourceError(
      `No decision log given (--log) and no test cases at ${file} to compare on`,
    );
  }
  const source = new PolicySource(file, text);
  const parsed = TestFileSchema.safeParse(source.value);
  if (source.syntaxProblems.some((p) => p.severity === "error")) {
    throw new PolicyError(source.syntaxProblems);
  }
  if (!parsed.success) {
    throw new PolicyError(parsed.error.issues.map((issue) => ({
      file,
      ...source.locate(issue.path as (string | number)[]),
      message: `Invalid \`${issue.path.join(".") || "test file"}\`: ${issue.message}`,
      severity: "error" as const,
    })));
  }
  const inputs: DiffInput[] = [];
  for (const [i, testCase] of parsed.data.cases.entries()) {
    try {
      const facts = scenarioFacts(testCase, routes, TEST_NOW);
      const stickyKey = facts.request.user ?? testCase.name;
      inputs.push({ id: testCase.name, facts, stickyKey, attempts: [] });
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      warnings.push({ file, line: source.locate(["cases", i]).line, message: error.message });
    }
  }
  return inputs;
}

function priceOf(route: { price: Price } | undefined): Price | undefined {
  if (!route) return undefined;
  const { input, cached_input, output } = route.price;
  return { input, cached_input: cached_input ?? input, output };
}

/** Rules in the head policy's order, then those the change removed. */
function ruleOrder(base: Policy, head: Policy): string[] {
  const names = head.rules.map((r) => r.name);
  for (const r of base.rules) if (!names.includes(r.name)) names.push(r.name);
  return names;
}

/** Decides every input with both policies and tallies the differences. */
export async function diffPolicies(
  base: { policy: Policy; ref: DiffReport["base"] },
  head: Policy,
  inputs: AsyncIterable<DiffInput> | Iterable<DiffInput>,
  source: DiffReport["source"],
  options: DiffOptions = {},
): Promise<DiffReport> {
  const tally = new DiffTally(ruleOrder(base.policy, head), options.failOnFlip);
  const side = async (policy: Policy, input: DiffInput): Promise<Side> => {
    const d = await decide(policy, replayFacts(input.facts, policy), {
      stickyKey: input.stickyKey,
    });
    return { rule: d.rule, route: d.route, via: d.via, price: priceOf(policy.routes[d.route]) };
  };
  for await (const input of inputs) {
    tally.addAttempts(input.attempts);
    tally.add({
      id: input.id,
      tags: input.facts.tags ?? [],
      base: await side(base.policy, input),
      head: await side(head, input),
      tokens: tokensOf(input.facts, input.usage),
      servedBy: input.servedBy,
    });
  }
  return { base: base.ref, head: policyRef(head), source, ...tally.report() };
}

/**
 * Reads flips straight from a log's shadow decisions. Base prices are the logged route facts;
 * head prices come from `candidate` (the shadow policy file) when given, else from the logged
 * facts of a route of the same name; requests with a route priced nowhere are counted unpriced.
 */
export async function diffFromShadow(
  files: string[],
  options: DiffOptions & { candidate?: Policy } = {},
): Promise<DiffReport> {
  const warnings: LogWarning[] = [];
  const tally = new DiffTally([], options.failOnFlip);
  let base: PolicyRef | undefined;
  let head: PolicyRef | undefined;
  let withoutShadow = 0;
  for await (const record of decisionRecords(files, (w) => warnings.push(w))) {
    tally.addAttempts(record.attempts);
    const shadow = record.shadow;
    if (!shadow) {
      withoutShadow++;
      continue;
    }
    base ??= { ...record.policy, file: "decision log" };
    head ??= { ...shadow.policy, file: options.candidate?.file ?? "shadow policy (decision log)" };
    const logged = (route: string) => priceOf(record.facts.routes[route]);
    tally.add({
      id: record.request_id,
      tags: record.facts.tags,
      base: { ...record.decision, price: logged(record.decision.route) },
      head: {
        rule: shadow.rule,
        route: shadow.route,
        via: shadow.via,
        price: priceOf(options.candidate?.routes[shadow.route]) ?? logged(shadow.route),
      },
      tokens: tokensOf(record.facts, record.usage),
      servedBy: record.served_by,
    });
  }
  if (!base || !head) {
    throw new DiffSourceError(
      "No record in the log has a shadow decision; run the server with --shadow-policy, " +
        "or compare against a revision with --base",
    );
  }
  return {
    base,
    head,
    source: { kind: "shadow", files, warnings, withoutShadow },
    ...tally.report(),
  };
}
