/**
 * `schema`: writes the JSON Schemas editors use (policies, budgets, keys) from their zod schemas;
 * `--check` only compares, and fails when a committed file is stale.
 */
import { budgetSchemaFiles } from "../budget/schema.ts";
import { policyJsonSchema } from "../policy/schema.ts";
import { EXIT } from "./exit.ts";

export const SCHEMA_FILE = "policies/policy.schema.json";

/** The policy schema file's exact text. */
export function schemaText(): string {
  return JSON.stringify(policyJsonSchema(), null, 2) + "\n";
}

/** Every generated schema file and its exact text. */
export function schemaFiles(): { path: string; text: string }[] {
  return [{ path: SCHEMA_FILE, text: schemaText() }, ...budgetSchemaFiles()];
}

export async function writeSchema(args: string[]): Promise<number> {
  const check = args.includes("--check");
  let stale = 0;
  for (const { path, text } of schemaFiles()) {
    if (check) {
      const current = await Deno.readTextFile(path).catch(() => "");
      if (current !== text) {
        console.error(`${path} is stale: run \`deno task schema\``);
        stale++;
      } else console.log(`${path} is up to date`);
    } else {
      await Deno.writeTextFile(path, text);
      console.log(`wrote ${path}`);
    }
  }
  return stale > 0 ? EXIT.INVALID : EXIT.OK;
}
