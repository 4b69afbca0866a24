/**
 * The one entry point behind every task: `serve`, `policy check|test|explain`, `schema`.
 * Each subcommand returns an exit code (see cli/exit.ts); this file only dispatches.
 */
import { EXIT, UsageError } from "./cli/exit.ts";
import { policyCheck, policyExplain, policyTest } from "./cli/policy.ts";
import { policyDiff, policyReplay } from "./cli/policy_review.ts";
import { writeSchema } from "./cli/schema.ts";

const USAGE = `Usage: switchyard <command>

  serve [--policy file] [--port N] [--host H]   run the OpenAI-compatible router
  policy check [files…] [--format pretty|json|github]
  policy test [paths…] [--coverage-threshold N] [--format …] [--verbose]
  policy explain <request.json> [--policy file] [--json]
  policy replay <log…> [--policy file] [--format pretty|json|markdown]
  policy diff --base <git-rev> [--policy file] [--log file…] [--format pretty|markdown|json]
              [--fail-on-flip [route,…|tag:name,…]]   (or --from-shadow --log file…)
  spend [--store journal:<path>|kv:<path>|redis://…] [--namespace ns] [--json] [--at ISO]
  keys mint --id ID --name NAME [--team ID:NAME] [--tag T]…   |   keys hash < key
  compare [--direct R] [--gateway R] [--requests N] [--concurrency C] [--stream] [--json]
  sim --provider P                            run one simulated provider (used by serve)
  schema [--check]                            write (or verify) policies/policy.schema.json`;

async function run(args: string[]): Promise<number> {
  const [command, sub, ...rest] = args;
  if (command === "policy") {
    if (sub === "check") return await policyCheck(rest);
    if (sub === "test") return await policyTest(rest);
    if (sub === "explain") return await policyExplain(rest);
    if (sub === "replay") return await policyReplay(rest);
    if (sub === "diff") return await policyDiff(rest);
  }
  if (command === "schema") return await writeSchema(args.slice(1));
  if (command === "spend") {
    const { spend } = await import("./cli/spend.ts");
    return await spend(args.slice(1));
  }
  if (command === "keys") {
    const { keys } = await import("./cli/keys.ts");
    return await keys(args.slice(1));
  }
  if (command === "compare") {
    const { compare } = await import("./cli/compare.ts");
    return await compare(args.slice(1));
  }
  if (command === "sim") {
    const { runSimulatorProcess } = await import("./sim/process.ts");
    return await runSimulatorProcess(args.slice(1));
  }
  if (command === "serve") {
    const { serve } = await import("./cli/serve.ts");
    return await serve(args.slice(1));
  }
  if (command === "help" || command === "--help" || command === undefined) {
    console.log(USAGE);
    return command === undefined ? EXIT.USAGE : EXIT.OK;
  }
  throw new UsageError(`Unknown command: ${args.join(" ")}\n\n${USAGE}`);
}

if (import.meta.main) {
  let code: number;
  try {
    code = await run(Deno.args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    code = EXIT.USAGE;
  }
  Deno.exit(code);
}
