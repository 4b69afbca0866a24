/** `schema`: writes policies/policy.schema.json from the zod schema (`--check` only compares). */
import { policyJsonSchema } from "../policy/schema.ts";
import { EXIT } from "./exit.ts";

export const SCHEMA_FILE = "policies/policy.schema.json";

/** The schema file's exact text. */
export function schemaText(): string {
  return JSON.stringify(policyJsonSchema(), null, 2) + "\n";
}

export async function writeSchema(args: string[]): Promise<number> {
  if (args.includes("--check")) {
    const current = await Deno.readTextFile(SCHEMA_FILE).catch(() => "");
    if (current !== schemaText()) {
      console.error(`${SCHEMA_FILE} is stale: run \`deno task schema\``);
      return EXIT.INVALID;
    }
    console.log(`${SCHEMA_FILE} is up to date`);
    return EXIT.OK;
  }
  await Deno.writeTextFile(SCHEMA_FILE, schemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
  return EXIT.OK;
}
