/**
 * Who is calling. When client keys are configured, every API call needs `Authorization: Bearer
 * <key>`; the key's hash is looked up (hashes only are stored) and compared in constant time. The
 * admin key guards /v1/policy and /v1/spend.
 */
import type { CallerFacts } from "../facts/facts.ts";
import { hashApiKey, timingSafeEqual } from "../budget/keys.ts";
import { ApiError } from "./errors.ts";

/** Resolves bearer tokens to callers. */
export interface Authenticator {
  /** False when no keys are configured: every caller is anonymous and allowed. */
  readonly enabled: boolean;
  /** The caller for a token, or undefined when the token is unknown. */
  authenticate(token: string): Promise<CallerFacts | undefined>;
}

/** The bearer token of a request, if any. */
export function bearer(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** Authenticates an API call; throws a 401 ApiError when keys are on and the token is bad. */
export async function callerOf(
  request: Request,
  auth: Authenticator | undefined,
): Promise<CallerFacts | undefined> {
  if (!auth?.enabled) return undefined;
  const token = bearer(request);
  if (!token) {
    throw new ApiError(401, "Missing API key: send `Authorization: Bearer <key>`", {
      code: "missing_api_key",
    });
  }
  const caller = await auth.authenticate(token);
  if (!caller) throw new ApiError(401, "Invalid API key", { code: "invalid_api_key" });
  return caller;
}

/**
 * Checks the admin key on an admin endpoint. With no admin key configured, admin endpoints are
 * open only while client keys are off too (local development); otherwise they are closed.
 */
export async function requireAdmin(
  request: Request,
  /** The admin key's SHA-256, as hex text bytes (see `adminKeyHash`). */
  adminKeyHash: Uint8Array | undefined,
  auth: Authenticator | undefined,
): Promise<void> {
  if (!adminKeyHash) {
    if (auth?.enabled) {
      throw new ApiError(403, "Admin endpoints are disabled: set SWITCHYARD_ADMIN_KEY", {
        code: "admin_disabled",
      });
    }
    return;
  }
  const token = bearer(request);
  if (!token) {
    throw new ApiError(401, "This endpoint needs the admin key", { code: "missing_api_key" });
  }
  const presented = new TextEncoder().encode(await hashApiKey(token));
  if (!timingSafeEqual(presented, adminKeyHash)) {
    throw new ApiError(403, "Not the admin key", { code: "invalid_admin_key" });
  }
}

/** The admin key's hash as the server keeps it (the key itself is not kept). */
export async function adminKeyHash(key: string): Promise<Uint8Array> {
  return new TextEncoder().encode(await hashApiKey(key));
}
