/**
 * The shared spend store: Redis, for several Switchyard instances enforcing one budget. Reserve,
 * settle and release are Lua scripts (see redis_scripts.ts), each atomic on the server, run by
 * EVALSHA and re-sent with EVAL when the server lost its script cache (a restart, SCRIPT FLUSH).
 * Every key is prefixed `{namespace}:`; the braces put them all in one cluster hash slot, so the
 * multi-key scripts also run on Redis Cluster. Instances should keep their clocks in sync (NTP):
 * windows and lease expiry use the calling instance's clock.
 *
 * Durability is Redis's: a settle that resolved was applied on the server; to survive a Redis
 * crash too, run it with `appendonly yes` (and `appendfsync always` to lose nothing).
 */
import { createClient } from "redis";
import {
  assertNano,
  type Attribution,
  attributionCounters,
  counterAt,
  type CounterCheck,
  type CounterRef,
  DEFAULT_LEASE_MS,
  type Dimension,
  DIMENSIONS,
  type Level,
  newReservation,
  type Reservation,
  type ReserveOutcome,
  RETENTION_MS,
  SETTLED_MEMORY_MS,
  type SpendReport,
  spendReport,
  type SpendRow,
  type SpendStore,
  SpendStoreError,
} from "./store.ts";
import { RELEASE, RESERVE, SETTLE } from "./redis_scripts.ts";
import { windowAt, type WindowKind } from "./windows.ts";

/** Options for the Redis store. */
export interface RedisStoreOptions {
  /** How long an unsettled reservation is held before it is reclaimed (default 15 minutes). */
  leaseMs?: number;
  /** Key prefix, so several deployments can share one Redis (default `switchyard`). */
  namespace?: string;
  /** Milliseconds to wait for a connection (default 5000). */
  connectTimeoutMs?: number;
  /** Connection errors (the client reconnects by itself); default: ignored. */
  onError?: (error: Error) => void;
}

type Client = ReturnType<typeof newClient>;
interface Script {
  source: string;
  sha: string;
}

/** Connects to Redis at `url` (`redis://` or `rediss://`) and loads the scripts. */
export async function openRedisStore(
  url: string,
  options: RedisStoreOptions = {},
): Promise<SpendStore> {
  const namespace = options.namespace ?? "switchyard";
  if (!/^[A-Za-z0-9_.-]+$/.test(namespace)) {
    throw new RangeError(`A Redis namespace uses letters, digits, '_', '-' and '.': ${namespace}`);
  }
  const client = newClient(url, options.connectTimeoutMs ?? 5_000);
  client.on("error", (error: Error) => options.onError?.(error));
  try {
    await client.connect();
    const load = async (source: string) => ({ source, sha: await client.scriptLoad(source) });
    const scripts = {
      reserve: await load(RESERVE),
      settle: await load(SETTLE),
      release: await load(RELEASE),
    };
    return new RedisSpendStore(
      client,
      scripts,
      `{${namespace}}:`,
      options.leaseMs ?? DEFAULT_LEASE_MS,
    );
  } catch (error) {
    client.destroy();
    throw new SpendStoreError(`Cannot use Redis at ${redactUrl(url)}: ${message(error)}`, {
      cause: error,
    });
  }
}

function newClient(url: string, connectTimeout: number) {
  let connected = false;
  const client = createClient({
    url,
    // Fail fast while disconnected: admission must not wait on a queue that may never drain.
    disableOfflineQueue: true,
    socket: {
      connectTimeout,
      // Until the first connection succeeds, give up at once, so a wrong URL or a missing
      // permission fails `openRedisStore` instead of retrying forever; afterwards, reconnect.
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? Math.min(50 * 2 ** retries, 2_000) : cause,
    },
  });
  client.on("ready", () => connected = true);
  return client;
}

class RedisSpendStore implements SpendStore {
  readonly #client: Client;
  readonly #scripts: { reserve: Script; settle: Script; release: Script };
  readonly #prefix: string;
  readonly #leaseMs: number;
  #closed = false;

  constructor(
    client: Client,
    scripts: { reserve: Script; settle: Script; release: Script },
    prefix: string,
    leaseMs: number,
  ) {
    this.#client = client;
    this.#scripts = scripts;
    this.#prefix = prefix;
    this.#leaseMs = leaseMs;
  }

  async reserve(
    checks: readonly CounterCheck[],
    estimateNano: number,
    now: Date,
  ): Promise<ReserveOutcome> {
    const reservation = newReservation(checks, estimateNano, now, this.#leaseMs);
    const { id, expiresAt, counters } = reservation;
    if (counters.length === 0) return { ok: true, reservation, levels: [] };
    const reply = await this.#run(
      this.#scripts.reserve,
      [this.#key("leases"), this.#key(`lease:${id}`), ...counters.flatMap((c) => this.#keys(c))],
      [
        this.#prefix,
        String(now.getTime()),
        String(expiresAt),
        String(estimateNano),
        id,
        ...checks.flatMap((check, i) => [
          check.limitNano === undefined ? "" : String(check.limitNano),
          member(counters[i]),
          String(timeToLive(counters[i], now)),
        ]),
      ],
    );
    if (!Array.isArray(reply) || reply.length !== 1 + 2 * counters.length) {
      throw new SpendStoreError(`Unexpected reply from the reserve script: ${String(reply)}`);
    }
    const levels = counters.map((_, i) => ({
      settledNano: toNano(reply[1 + 2 * i]),
      heldNano: toNano(reply[2 + 2 * i]),
    }));
    if (Number(reply[0]) === 1) return { ok: true, reservation, levels };
    const blocked = checks.flatMap((check, i) =>
      check.limitNano !== undefined &&
        levels[i].settledNano + levels[i].heldNano >= check.limitNano
        ? [i]
        : []
    );
    return { ok: false, levels, blocked };
  }

  async settle(
    reservation: Reservation,
    actualNano: number,
    attribution: Attribution,
    now: Date,
  ): Promise<boolean> {
    assertNano(actualNano, "The actual cost");
    const counters = attributionCounters(attribution, now);
    const id = reservation.id;
    const reply = await this.#run(
      this.#scripts.settle,
      [
        this.#key("leases"),
        this.#key(`lease:${id}`),
        this.#key(`done:${id}`),
        ...counters.flatMap((c) => this.#keys(c)),
      ],
      [
        id,
        String(actualNano),
        String(seconds(SETTLED_MEMORY_MS)),
        ...counters.flatMap((c) => [String(timeToLive(c, now)), member(c)]),
      ],
    );
    return Number(reply) === 1;
  }

  async release(reservation: Reservation): Promise<void> {
    if (reservation.counters.length === 0) return;
    await this.#run(
      this.#scripts.release,
      [this.#key("leases"), this.#key(`lease:${reservation.id}`)],
      [reservation.id],
    );
  }

  async spent(dimension: Dimension, id: string, window: WindowKind, now: Date): Promise<Level> {
    const c = { dimension, id, window, period: windowAt(window, now).period };
    const [settled, held] = await this.#client.hmGet(this.#keys(c)[0], ["s", "h"]);
    return { settledNano: toNano(settled), heldNano: toNano(held) };
  }

  levels(checks: readonly CounterCheck[], now: Date): Promise<Level[]> {
    return Promise.all(checks.map(async (check) => {
      const [settled, held] = await this.#client.hmGet(this.#keys(counterAt(check, now))[0], [
        "s",
        "h",
      ]);
      return { settledNano: toNano(settled), heldNano: toNano(held) };
    }));
  }

  async report(kind: WindowKind, now: Date): Promise<SpendReport> {
    const window = windowAt(kind, now);
    const members = await this.#client.sMembers(this.#key(`idx:${kind}:${window.period}`));
    const rows = await Promise.all(members.map(async (entry): Promise<SpendRow | undefined> => {
      const split = entry.indexOf(":");
      const dimension = entry.slice(0, split) as Dimension;
      if (!DIMENSIONS.includes(dimension)) return undefined;
      const id = decodeURIComponent(entry.slice(split + 1));
      const counter = { dimension, id, window: kind, period: window.period };
      const [s, h, n] = await this.#client.hmGet(this.#keys(counter)[0], ["s", "h", "n"]);
      return { dimension, id, settledNano: toNano(s), heldNano: toNano(h), requests: toNano(n) };
    }));
    return spendReport(window, rows.filter((row) => row !== undefined));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #key(suffix: string): string {
    return this.#prefix + suffix;
  }

  /** A counter's hash key and its window's index key. */
  #keys(c: CounterRef): [string, string] {
    return [
      this.#key(`c:${c.window}:${c.period}:${member(c)}`),
      this.#key(`idx:${c.window}:${c.period}`),
    ];
  }

  async #run(script: Script, keys: string[], args: string[]): Promise<unknown> {
    const options = { keys, arguments: args };
    try {
      return await this.#client.evalSha(script.sha, options);
    } catch (error) {
      if (!message(error).startsWith("NOSCRIPT")) throw error;
      return await this.#client.eval(script.source, options);
    }
  }
}

/** A counter's name inside its window: dimension and URI-encoded id (ids may contain `:`). */
function member(c: CounterRef): string {
  return `${c.dimension}:${encodeURIComponent(c.id)}`;
}

/** Seconds until a counter expires: its window's end plus the retention for its kind. */
function timeToLive(c: CounterRef, now: Date): number {
  return seconds(windowAt(c.window, now).end.getTime() + RETENTION_MS[c.window] - now.getTime());
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function toNano(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new SpendStoreError(`Not a nano-USD amount: ${value}`);
  return n;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The URL without its password, for error messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "the configured URL";
  }
}
