/**
 * A minimal OTLP/HTTP receiver for tests: it accepts what Deno's exporter sends with
 * `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`, keeps the raw bodies (to search them for leaks) and
 * decodes spans into a flat, typed list.
 */

export interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  kind: number;
  start: bigint;
  end: bigint;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  status: { code?: number; message?: string };
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};

function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

function attributes(list: { key: string; value: AnyValue }[] | undefined) {
  return Object.fromEntries((list ?? []).map((a) => [a.key, value(a.value)]));
}

/** OTLP JSON encodes ids as hex (the spec) — or base64 in some exporters; normalize to hex. */
function hexId(id: string | undefined): string {
  if (!id) return "";
  if (/^[0-9a-f]+$/i.test(id)) return id.toLowerCase();
  return Array.from(atob(id), (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}

export interface Receiver extends AsyncDisposable {
  url: string;
  /** Every body received, raw, by path (/v1/traces, /v1/metrics, /v1/logs). */
  bodies: { path: string; text: string }[];
  spans(): ReceivedSpan[];
  metricNames(): Set<string>;
  /** The attributes of every data point received for the metric `name`. */
  metricPoints(name: string): Record<string, unknown>[];
  /** Resolves when `predicate` holds over the spans, or rejects after `timeoutMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function startReceiver(): Receiver {
  const bodies: { path: string; text: string }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    bodies.push({ path: new URL(req.url).pathname, text: await req.text() });
    return Response.json({});
  });
  const spans = (): ReceivedSpan[] => {
    const out: ReceivedSpan[] = [];
    for (const body of bodies) {
      if (body.path !== "/v1/traces") continue;
      const json = JSON.parse(body.text);
      for (const rs of json.resourceSpans ?? []) {
        const service = String(attributes(rs.resource?.attributes)["service.name"] ?? "");
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            out.push({
              service,
              name: s.name,
              traceId: hexId(s.traceId),
              spanId: hexId(s.spanId),
              parentSpanId: hexId(s.parentSpanId),
              kind: s.kind,
              start: BigInt(s.startTimeUnixNano),
              end: BigInt(s.endTimeUnixNano),
              attributes: attributes(s.attributes),
              events: (s.events ?? []).map((
                e: { name: string; attributes?: { key: string; value: AnyValue }[] },
              ) => ({ name: e.name, attributes: attributes(e.attributes) })),
              status: s.status ?? {},
            });
          }
        }
      }
    }
    return out;
  };
  const close = () => server.shutdown();
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    bodies,
    spans,
    metricNames() {
      const names = new Set<string>();
      for (const body of bodies) {
        if (body.path !== "/v1/metrics") continue;
        for (const rm of JSON.parse(body.text).resourceMetrics ?? []) {
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) names.add(m.name);
          }
        }
      }
      return names;
    },
    metricPoints(name) {
      const points: Record<string, unknown>[] = [];
      for (const body of bodies) {
        if (body.path !== "/v1/metrics") continue;
        for (const rm of JSON.parse(body.text).resourceMetrics ?? []) {
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) {
              if (m.name !== name) continue;
              const data = m.histogram ?? m.sum ?? m.gauge;
              for (const point of data?.dataPoints ?? []) {
                // A sum's or gauge's value rides along as `@value` (histograms have none).
                const value = point.asInt ?? point.asDouble;
                points.push({
                  ...attributes(point.attributes),
                  ...(value === undefined ? {} : { "@value": Number(value) }),
                });
              }
            }
          }
        }
      }
      return points;
    },
    async waitFor(predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(spans())) {
        if (Date.now() > deadline) throw new Error("Timed out waiting for spans");
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
