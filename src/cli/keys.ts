/**
 * `keys mint --id ID --name NAME [--team ID:NAME] [--tag T]…`: makes a new client key, prints it
 * once, and prints the entry (with only its SHA-256) to paste into the keys file.
 * `keys hash`: prints the SHA-256 of a key read from stdin (for keys made elsewhere).
 */
import { parseArgs } from "node:util";
import { hashApiKey, keyEntryYaml, mintApiKey } from "../budget/keys.ts";
import { KeySchema } from "../budget/schema.ts";
import { EXIT, UsageError } from "./exit.ts";

/**
 * Runs `keys mint` or `keys hash`; `print` receives the output, `input` is where `hash` reads the
 * key from (stdin by default). Returns the exit code.
 */
export async function keys(
  args: string[],
  print: (text: string) => void = console.log,
  input: () => ReadableStream<Uint8Array> = () => Deno.stdin.readable,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "hash") {
    const text = await new Response(input()).text();
    const key = text.trim();
    if (!key) throw new UsageError("keys hash reads the key from stdin");
    print(await hashApiKey(key));
    return EXIT.OK;
  }
  if (sub !== "mint") throw new UsageError("Usage: keys mint --id ID --name NAME … | keys hash");
  const { values } = parseArgs({
    args: rest,
    options: {
      id: { type: "string" },
      name: { type: "string" },
      team: { type: "string" },
      tag: { type: "string", multiple: true },
    },
  });
  const [teamId, ...teamName] = (values.team ?? "").split(":");
  const key = mintApiKey();
  const sha256 = await hashApiKey(key);
  const entry = {
    id: values.id,
    name: values.name,
    ...(values.team ? { team: { id: teamId, name: teamName.join(":") || teamId } } : {}),
    tags: (values.tag ?? []).map((t) => t.trim().toLowerCase()),
    sha256,
  };
  const parsed = KeySchema.safeParse(entry);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const flag = `--${String(issue.path[0] === "tags" ? "tag" : issue.path[0])}`;
      return issue.message.endsWith("received undefined")
        ? `${flag} is required`
        : `${flag}: ${issue.message}`;
    });
    throw new UsageError(problems.join("\n"));
  }
  print(
    `# The key, shown once (only its hash is stored; give it to the client now):\n${key}\n\n` +
      `# Add to the keys file under \`keys:\`\n${keyEntryYaml(parsed.data, sha256)}`,
  );
  return EXIT.OK;
}
