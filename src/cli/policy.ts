/**
 * `policy check`, `policy test` and `policy explain`: glue between the command line, the policy
 * engine and the reporters. Each returns its exit code; printing is the only effect.
 */
import { parseArgs } from "node:util";
import { loadBudgets, loadKeys } from "../budget/load.ts";
import { decide } from "../policy/decide.ts";
import { loadPolicy } from "../policy/load.ts";
import { PolicyError } from "../policy/problems.ts";
import { type CheckReport, type Format, reporter } from "../policy/report.ts";
import { ScenarioError, scenarioFacts, ScenarioSchema } from "../policy/scenario.ts";
import { findTestFiles, runPolicyTests } from "../policy/testing.ts";
import { EXIT, UsageError } from "./exit.ts";

const FORMATS = ["pretty", "json", "github"] as const;

function format(value: unknown): Format {
  if (value === undefined) return "pretty";
  if (!FORMATS.includes(value as Format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`);
  }
  return value as Format;
}

/** Policy files under `policies/` (not tests, not the schema). */
async function defaultPolicyFiles(dir = "policies"): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".yaml") && !entry.name.endsWith(".test.yaml")) {
      files.push(`${dir}/${entry.name}`);
    }
  }
  return files.sort();
}

/** `policy check [files…] [--format pretty|json|github]` */
export async function policyCheck(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { format: { type: "string" } },
    allowPositionals: true,
  });
  const out = reporter(format(values.format));
  const files = positionals.length ? positionals : await defaultPolicyFiles();
  const report: CheckReport = { files: [], errors: 0, warnings: 0 };
  for (const file of files) {
    try {
      // budgets.yaml and keys.yaml sit beside the policies and are checked the same way.
      const name = file.slice(file.lastIndexOf("/") + 1);
      const loaded = name === "budgets.yaml"
        ? await loadBudgets(file)
        : name === "keys.yaml"
        ? await loadKeys(file)
        : await loadPolicy(file);
      report.files.push({ file, valid: true, problems: loaded.warnings });
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      report.files.push({ file, valid: false, problems: error.problems });
    }
  }
  for (const f of report.files) {
    for (const p of f.problems) p.severity === "error" ? report.errors++ : report.warnings++;
  }
  console.log(out.check(report));
  return report.errors > 0 ? EXIT.INVALID : EXIT.OK;
}

/** `policy test [paths…] [--coverage-threshold N] [--format …] [--verbose]` */
export async function policyTest(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      format: { type: "string" },
      "coverage-threshold": { type: "string" },
      verbose: { type: "boolean", short: "v" },
    },
    allowPositionals: true,
  });
  const fmt = format(values.format);
  let threshold: number | undefined;
  if (values["coverage-threshold"] !== undefined) {
    threshold = Number(values["coverage-threshold"]);
    if (!Number.isFinite(threshold) || threshold < 0 || threshold > 100) {
      throw new UsageError("--coverage-threshold must be a number from 0 to 100");
    }
  }
  const files = await findTestFiles(positionals.length ? positionals : ["policies"]);
  const report = await runPolicyTests(files, { threshold });
  console.log(reporter(fmt).test(report, { verbose: values.verbose ?? false }));
  if (report.problems.some((p) => p.severity === "error")) return EXIT.INVALID;
  if (report.failed > 0 || report.cases.length === 0 || report.belowThreshold) {
    return EXIT.TESTS_FAILED;
  }
  return EXIT.OK;
}

/** `policy explain <request.json> [--policy file] [--json]` */
export async function policyExplain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { policy: { type: "string" }, json: { type: "boolean" }, format: { type: "string" } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) {
    throw new UsageError("Usage: policy explain <request.json> [--policy file] [--json]");
  }
  const fmt = values.json ? "json" : format(values.format);
  const file = values.policy ?? "policies/default.yaml";
  let input: unknown;
  try {
    input = JSON.parse(await Deno.readTextFile(positionals[0]));
  } catch (error) {
    throw new UsageError(
      `Cannot read ${positionals[0]} as JSON: ${error instanceof Error ? error.message : error}`,
    );
  }
  // A bare chat body, or a scenario ({request: {body, headers}, caller, budget, facts}).
  const isScenario = input !== null && typeof input === "object" &&
    ("request" in input || "facts" in input || "caller" in input || "budget" in input);
  const parsed = ScenarioSchema.safeParse(isScenario ? input : { request: { body: input } });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`Invalid scenario at \`${issue.path.join(".")}\`: ${issue.message}`);
  }
  let policy;
  try {
    policy = await loadPolicy(file);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    console.error(error.message);
    return EXIT.INVALID;
  }
  let facts;
  try {
    facts = scenarioFacts(parsed.data, policy.routeFacts);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(error.message);
    throw error;
  }
  const decision = await decide(policy, facts, {
    stickyKey: facts.request.user ?? "explain",
  });
  console.log(reporter(fmt).explain({ file, facts, decision }));
  return EXIT.OK;
}
