/**
 * What the server does to a request's facts and decision before they go into the decision log:
 * the caller's key id becomes a salted hash (so a leaked log cannot be matched against a key
 * list, yet one key's requests still group together), and a `Decision` loses its trace.
 */
import { createHmac } from "node:crypto";
import type { Facts } from "../facts/facts.ts";
import type { Decision } from "../policy/decide.ts";
import type { LoggedDecision } from "./record.ts";

/** Hex digits of the HMAC kept: 64 bits, plenty to tell keys apart, short in every line. */
const KEY_HASH_HEX = 16;

/**
 * The key id as written to the log: HMAC-SHA256 of the id with a server-side salt, first 16 hex
 * digits, prefixed `h:` so a reader can tell it from a raw id.
 *
 * @example hashKeyId("key_live_123", "salt") // "h:" + 16 hex digits, the same on every call
 */
export function hashKeyId(id: string, salt: string): string {
  return `h:${createHmac("sha256", salt).update(id).digest("hex").slice(0, KEY_HASH_HEX)}`;
}

/** A copy of the facts fit for the log: `key.id` hashed; the request's own facts untouched. */
export function redactFacts(facts: Facts, salt: string): Facts {
  if (!facts.key) return facts;
  return { ...facts, key: { ...facts.key, id: hashKeyId(facts.key.id, salt) } };
}

/** The part of a decision the log keeps (no trace, no timings, no reason text). */
export function loggedDecision(decision: Decision): LoggedDecision {
  return {
    rule: decision.rule,
    route: decision.route,
    via: decision.via,
    fallbacks: [...decision.fallbacks],
  };
}
