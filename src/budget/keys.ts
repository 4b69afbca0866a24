/**
 * Client keys: minting, hashing, and verifying a presented key in constant time. Only SHA-256
 * hashes are stored (a keys file holds no secret); a presented key is hashed and compared with
 * every configured hash without stopping at the first difference or the first match, so the time
 * taken says nothing about which bytes or which key matched.
 */
import type { CallerFacts } from "../facts/facts.ts";
import type { ClientKey } from "./types.ts";

/** Every minted key starts with this, so leaked keys are easy to spot (secret scanners). */
export const KEY_PREFIX = "sy-";

/** Lower-case hex SHA-256 of a key, as keys files store it. */
export async function hashApiKey(plaintext: string): Promise<string> {
  return toHex(await sha256(plaintext));
}

/**
 * A new random key: `sy-` and 32 random bytes, base64url (256 bits of entropy).
 *
 * @example
 * mintApiKey(); // "sy-3q2-7wK…" (46 characters)
 */
export function mintApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const base64 = btoa(String.fromCharCode(...bytes));
  return KEY_PREFIX + base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Compares two byte strings in time that depends only on their lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

/**
 * The configured client keys, ready to verify presented keys. Shaped like the server's
 * `Authenticator` (`enabled`, `authenticate`), so a key ring can be passed as one.
 */
export interface KeyRing {
  readonly keys: readonly ClientKey[];
  /** True when at least one key is configured (then every API call needs one). */
  readonly enabled: boolean;
  /** The key whose hash matches `presented`, or undefined. Constant time in the match. */
  verify(presented: string): Promise<ClientKey | undefined>;
  /** The caller facts of the key matching `presented` (see `callerFacts`), or undefined. */
  authenticate(presented: string): Promise<CallerFacts | undefined>;
}

/** Builds a key ring from loaded keys (see `loadKeys`). */
export function createKeyRing(keys: readonly ClientKey[]): KeyRing {
  const hashes = keys.map((key) => fromHex(key.sha256));
  const ring: KeyRing = {
    keys,
    enabled: keys.length > 0,
    async verify(presented) {
      const digest = await sha256(presented);
      let found: ClientKey | undefined;
      // No early exit: every configured hash is compared, whichever matches.
      for (let i = 0; i < keys.length; i++) {
        if (timingSafeEqual(digest, hashes[i]) && found === undefined) found = keys[i];
      }
      return found;
    },
    async authenticate(presented) {
      const key = await ring.verify(presented);
      return key && callerFacts(key);
    },
  };
  return ring;
}

/** The facts a key gives its requests: `key`, `team` and the key's tags. */
export function callerFacts(key: ClientKey): CallerFacts {
  return {
    key: { id: key.id, name: key.name },
    ...(key.team ? { team: { id: key.team.id, name: key.team.name } } : {}),
    tags: [...key.tags],
  };
}

/** The YAML entry for a keys file, as `keys mint` prints it. */
export function keyEntryYaml(
  entry: { id: string; name: string; team?: { id: string; name: string }; tags: string[] },
  sha256: string,
): string {
  const lines = [`  - id: ${entry.id}`, `    name: ${JSON.stringify(entry.name)}`];
  if (entry.team) {
    lines.push(
      `    team: { id: ${entry.team.id}, name: ${JSON.stringify(entry.team.name)} }`,
    );
  }
  if (entry.tags.length) {
    lines.push(`    tags: [${entry.tags.map((tag) => JSON.stringify(tag)).join(", ")}]`);
  }
  lines.push(`    sha256: ${sha256}`);
  return lines.join("\n");
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
