/**
 * The measurement itself: round → phase → target, the target order rotated each round, so that
 * whatever else the shared machine is doing falls on every target alike. Also the sanity check
 * every target passes before anything is measured, and the memory phase.
 */
import { runClosedLoop } from "./closed_loop.ts";
import { type FixedRateResult, runFixedRate } from "./fixed_rate.ts";
import { clientFactory, type ClientKind, endedWithDone } from "./http_client.ts";
import type { Options, TargetName } from "./options.ts";
import { cpuSeconds, rssKiB, type Server } from "./processes.ts";
import type { MemoryResult, PerTarget, RoundResult } from "./results.ts";
import { runStreaming } from "./streaming.ts";

const PATH = "/v1/chat/completions";
const MESSAGES = [{ role: "user", content: "Say hello in five words." }];
/** A small chat request, as the reference harness sends. */
export const PLAIN_BODY = JSON.stringify({
  model: "gpt-4o-mini",
  messages: MESSAGES,
  max_tokens: 16,
});
/** The same, streamed with usage. */
export const STREAM_BODY = JSON.stringify({
  model: "gpt-4o-mini",
  messages: MESSAGES,
  max_tokens: 16,
  stream: true,
  stream_options: { include_usage: true },
});

/**
 * The request bodies of a run: the small chat request, or with `contextBytes` > 0 the same after
 * a system message of about that many bytes of retrieved passages (a RAG-sized prompt).
 */
export function requestBodies(contextBytes: number): { plain: string; stream: string } {
  if (contextBytes === 0) return { plain: PLAIN_BODY, stream: STREAM_BODY };
  const passages: string[] = [];
  for (let i = 0, size = 0; size < contextBytes; i++) {
    const passage = `[${i}] In quarter ${(i % 4) + 1}, region ${i % 17} reported revenue of ` +
      `${1000 + (i * 37) % 9000} thousand, up ${i % 9}% on the year; see table ${i % 23}.`;
    passages.push(passage);
    size += passage.length + 1;
  }
  const messages = [
    { role: "system", content: `Answer from these passages only.\n${passages.join("\n")}` },
    ...MESSAGES,
  ];
  return {
    plain: JSON.stringify({ model: "gpt-4o-mini", messages, max_tokens: 16 }),
    stream: JSON.stringify({
      model: "gpt-4o-mini",
      messages,
      max_tokens: 16,
      stream: true,
      stream_options: { include_usage: true },
    }),
  };
}

/** Longest a fixed-rate run waits for stragglers after its schedule, s. */
const GRACE_SECONDS = 5;
/** Longest the streaming phase runs per target, s. */
const STREAM_MAX_SECONDS = 60;

/** Client factories for the run's plain and streamed requests. */
function clients(contextBytes: number) {
  const bodies = requestBodies(contextBytes);
  return {
    plain: (kind: ClientKind, port: number) =>
      clientFactory(kind, { port, path: PATH, body: bodies.plain }),
    streamed: (kind: ClientKind, port: number) =>
      clientFactory(kind, { port, path: PATH, body: bodies.stream }),
  };
}

/** Throws unless the target answers a chat request and serves a whole stream. */
export async function checkTarget(name: string, port: number, contextBytes = 0): Promise<void> {
  const { plain, streamed } = clients(contextBytes);
  const client = await plain("tcp", port)();
  const stream = await streamed("tcp", port)();
  try {
    const answer = await client.exchange();
    if (answer.status !== 200) throw new Error(`${name} answered ${answer.status}`);
    for (let i = 0; i < 3; i++) {
      const ex = await stream.exchange();
      if (ex.status !== 200 || !endedWithDone(ex)) {
        throw new Error(`${name} did not serve a whole stream (status ${ex.status})`);
      }
    }
  } finally {
    client.close();
    stream.close();
  }
}

/**
 * Runs every round; `log` gets one progress line per measurement. With `pids`, each fixed-rate
 * run also records its server's CPU time per request.
 */
export async function runRounds(
  options: Options,
  ports: PerTarget<number>,
  log: (line: string) => void,
  pids: PerTarget<number> = {},
): Promise<RoundResult[]> {
  const rounds: RoundResult[] = [];
  const targets = options.targets;
  const { plain, streamed } = clients(options.contextBytes);
  const us = (x: number) => `${Math.round(x)} µs`;
  for (let r = 0; r < options.rounds; r++) {
    const shift = r % targets.length;
    const order = [...targets.slice(shift), ...targets.slice(0, shift)];
    const round: RoundResult = { round: r + 1, order, fixed: {}, max: {}, stream: {} };
    const tag = `round ${r + 1}/${options.rounds}`;
    if (options.phases.includes("fixed")) {
      for (const rate of options.rates) {
        const results: RoundResult["fixed"][string] = round.fixed[rate] = {};
        for (const t of order) {
          const pid = pids[t];
          const cpuBefore = pid === undefined ? undefined : await cpuSeconds(pid);
          const res: FixedRateResult = await runFixedRate({
            open: plain(options.client, ports[t]!),
            rate,
            seconds: options.seconds,
            warmupSeconds: options.warmup,
            maxInFlight: options.maxInFlight,
            graceSeconds: GRACE_SECONDS,
          });
          const cpuAfter = pid === undefined ? undefined : await cpuSeconds(pid);
          if (cpuBefore !== undefined && cpuAfter !== undefined) {
            const scheduled = Math.round(rate * (options.warmup + options.seconds));
            res.serverCpuUs = (cpuAfter - cpuBefore) * 1e6 / scheduled;
          }
          results[t] = res;
          log(
            `${tag} ${rate}/s ${t}: p50 ${us(res.p50)}, p99 ${us(res.p99)}` +
              (res.serverCpuUs !== undefined ? `, server CPU ${us(res.serverCpuUs)}/request` : "") +
              (res.errors + res.dropped > 0
                ? `, ${res.errors} errors, ${res.dropped} dropped`
                : ""),
          );
        }
      }
    }
    if (options.phases.includes("max")) {
      for (const t of order) {
        const res = await runClosedLoop({
          open: plain(options.client, ports[t]!),
          connections: options.connections,
          seconds: options.seconds,
          maxRequests: Number.MAX_SAFE_INTEGER,
        });
        round.max[t] = res;
        log(
          `${tag} max ${t}: ${Math.round(res.rps)} req/s` +
            (res.errors > 0 ? `, ${res.errors} errors` : ""),
        );
      }
    }
    if (options.phases.includes("stream")) {
      for (const t of order) {
        const res = await runStreaming({
          open: streamed(options.client, ports[t]!),
          count: options.streams,
          warmup: options.streamWarmup,
          maxSeconds: STREAM_MAX_SECONDS,
        });
        round.stream[t] = res;
        log(
          `${tag} stream ${t}: TTFB p50 ${us(res.ttfbP50)}, total p50 ${us(res.totalP50)}` +
            (res.errors > 0 ? `, ${res.errors} errors` : ""),
        );
      }
    }
    rounds.push(round);
  }
  return rounds;
}

/**
 * Memory of a fresh process: closed loop up to each checkpoint's request count (counted from
 * start-up), then its RSS once the requests in flight have finished.
 */
export async function runMemory(
  target: TargetName,
  server: Server,
  options: Options,
  log: (line: string) => void,
): Promise<MemoryResult> {
  const { plain } = clients(options.contextBytes);
  const result: MemoryResult = {
    target,
    startRssKiB: await rssKiB(server.pid),
    checkpoints: [],
    errors: 0,
    seconds: 0,
  };
  const start = performance.now();
  let sent = 0;
  for (const checkpoint of options.memoryRequests) {
    const res = await runClosedLoop({
      open: plain(options.client, server.port),
      connections: options.connections,
      // Generous, but bounded: a target this slow has a problem the table should show.
      seconds: Math.max(60, (checkpoint - sent) / 500),
      maxRequests: checkpoint - sent,
    });
    sent += res.requests + res.errors;
    result.errors += res.errors;
    const rss = await rssKiB(server.pid);
    result.checkpoints.push({ requests: sent, rssKiB: rss });
    log(`memory ${target}: ${sent} requests, RSS ${(rss / 1024).toFixed(1)} MiB`);
  }
  result.seconds = (performance.now() - start) / 1000;
  return result;
}
