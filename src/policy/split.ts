/**
 * Sticky bucketing for split rules: a caller-chosen key (the OpenAI `user`, a session header, or
 * the request id) hashes to one of 100 buckets, so a conversation stays on one arm and keeps its
 * provider-side prompt cache. The hash is stable across processes and versions.
 */
export { hash32 } from "../seeded.ts";
