/**
 * Policy tests, like `opa test`: `*.test.yaml` files beside the policies give cases (a request
 * or facts, and the expected route, rule, via or fallbacks). Results are typed so that the JSON
 * reporter is a plain serialization; rule coverage lists the rules no case matched.
 */
import { dirname, join } from "node:path";
import { z } from "zod";
import { decide, type RuleTrace } from "./decide.ts";
import { type LoadOptions, loadPolicy } from "./load.ts";
import { PolicyError, type PolicyProblem, sortProblems } from "./problems.ts";
import { ScenarioError, scenarioFacts, ScenarioSchema } from "./scenario.ts";
import { PolicySource } from "./source.ts";
import type { Policy } from "./types.ts";

const ExpectSchema = z.strictObject({
  route: z.string().optional(),
  rule: z.string().nullable().optional().describe("Rule name, or null for the default."),
  via: z.enum(["direct", "gateway"]).optional(),
  fallbacks: z.array(z.string()).optional(),
}).refine((e) => Object.keys(e).length > 0, { message: "`expect` needs at least one field" });

const CaseSchema = ScenarioSchema.extend({
  name: z.string().min(1),
  expect: ExpectSchema,
});

export const TestFileSchema = z.strictObject({
  policy: z.string().optional().describe("Policy file, relative to this file. Default: foo.yaml"),
  cases: z.array(CaseSchema).min(1),
});

/** What a case expected and what the policy did. */
export interface Outcome {
  route?: string;
  rule?: string | null;
  via?: "direct" | "gateway";
  fallbacks?: readonly string[];
}

export interface CaseResult {
  file: string;
  line: number;
  name: string;
  passed: boolean;
  expected: Outcome;
  actual?: Outcome;
  /** Set when the case could not run (an invalid request body). */
  error?: string;
  trace?: RuleTrace[];
}

export interface Coverage {
  policy: string;
  file: string;
  rules: { rule: string; line: number; matches: number }[];
  /** Share of rules matched by at least one case, 0–100. */
  percent: number;
  uncovered: string[];
}

export interface TestReport {
  cases: CaseResult[];
  coverage: Coverage[];
  passed: number;
  failed: number;
  /** Problems that stopped a file from running (invalid test file or policy). */
  problems: PolicyProblem[];
  threshold?: number;
  /** True when coverage is below the threshold for any policy. */
  belowThreshold: boolean;
}

/** A fixed instant for time facts, so test results never depend on when they run. */
export const TEST_NOW = new Date("2026-01-05T12:00:00Z");

/** Finds `*.test.yaml` files under the given paths (files or directories). */
export async function findTestFiles(paths: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) {
    const info = await Deno.stat(path);
    if (info.isFile) found.push(path);
    else {
      for await (const entry of Deno.readDir(path)) {
        if (entry.isFile && entry.name.endsWith(".test.yaml")) found.push(join(path, entry.name));
      }
    }
  }
  return found.sort();
}

/** Parses one test file; throws PolicyError with positions when it is invalid. */
async function readTestFile(file: string) {
  const source = new PolicySource(file, await Deno.readTextFile(file));
  if (source.syntaxProblems.some((p) => p.severity === "error")) {
    throw new PolicyError(source.syntaxProblems);
  }
  const parsed = TestFileSchema.safeParse(source.value);
  if (!parsed.success) {
    throw new PolicyError(sortProblems(parsed.error.issues.map((issue) => ({
      file,
      ...source.locate(issue.path as (string | number)[]),
      message: `Invalid \`${issue.path.join(".") || "test file"}\`: ${issue.message}`,
      severity: "error" as const,
    }))));
  }
  return { source, spec: parsed.data };
}

/** Compares what happened with what was expected, field by field. */
function matches(expected: Outcome, actual: Outcome): boolean {
  if (expected.route !== undefined && expected.route !== actual.route) return false;
  if (expected.rule !== undefined && expected.rule !== actual.rule) return false;
  if (expected.via !== undefined && expected.via !== actual.via) return false;
  if (
    expected.fallbacks !== undefined &&
    JSON.stringify(expected.fallbacks) !== JSON.stringify(actual.fallbacks)
  ) return false;
  return true;
}

/** Runs every case of the given test files. */
export async function runPolicyTests(
  files: string[],
  options: LoadOptions & { threshold?: number } = {},
): Promise<TestReport> {
  const report: TestReport = {
    cases: [],
    coverage: [],
    passed: 0,
    failed: 0,
    problems: [],
    threshold: options.threshold,
    belowThreshold: false,
  };
  const policies = new Map<string, { policy: Policy; hits: Map<string, number> }>();
  for (const file of files) {
    let test;
    try {
      test = await readTestFile(file);
    } catch (error) {
      if (error instanceof PolicyError) {
        report.problems.push(...error.problems);
        continue;
      }
      throw error;
    }
    const policyFile = join(
      dirname(file),
      test.spec.policy ?? file.replace(/^.*\//, "").replace(/\.test\.yaml$/, ".yaml"),
    );
    let entry = policies.get(policyFile);
    if (!entry) {
      try {
        const policy = await loadPolicy(policyFile, options);
        entry = { policy, hits: new Map(policy.rules.map((r) => [r.name, 0])) };
        policies.set(policyFile, entry);
      } catch (error) {
        if (error instanceof PolicyError) {
          report.problems.push(...error.problems.filter((p) => p.severity === "error"));
          continue;
        }
        throw error;
      }
    }
    const { policy, hits } = entry;
    for (const [i, testCase] of test.spec.cases.entries()) {
      const line = test.source.locate(["cases", i]).line;
      const result: CaseResult = {
        file,
        line,
        name: testCase.name,
        passed: false,
        expected: testCase.expect,
      };
      try {
        const facts = scenarioFacts(testCase, policy.routeFacts, TEST_NOW);
        const stickyKey = facts.request.user ?? testCase.name;
        const decision = await decide(policy, facts, { stickyKey });
        result.actual = {
          route: decision.route,
          rule: decision.rule,
          via: decision.via,
          fallbacks: decision.fallbacks,
        };
        result.trace = decision.trace;
        result.passed = matches(testCase.expect, result.actual);
        if (decision.rule) hits.set(decision.rule, (hits.get(decision.rule) ?? 0) + 1);
      } catch (error) {
        if (!(error instanceof ScenarioError)) throw error;
        result.error = error.message;
      }
      report.cases.push(result);
      if (result.passed) report.passed++;
      else report.failed++;
    }
  }
  for (const [file, { policy, hits }] of policies) {
    const rules = policy.rules.map((r) => ({
      rule: r.name,
      line: r.line,
      matches: hits.get(r.name)!,
    }));
    const covered = rules.filter((r) => r.matches > 0).length;
    const percent = rules.length === 0 ? 100 : Math.round((covered / rules.length) * 1000) / 10;
    report.coverage.push({
      policy: policy.name,
      file,
      rules,
      percent,
      uncovered: rules.filter((r) => r.matches === 0).map((r) => r.rule),
    });
    if (options.threshold !== undefined && percent < options.threshold) {
      report.belowThreshold = true;
    }
  }
  return report;
}
