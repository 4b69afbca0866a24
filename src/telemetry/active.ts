/**
 * Whether OpenTelemetry is exporting. Deno registers its tracer provider and the W3C propagator
 * only with `OTEL_DENO=true`; without them every span and metric call is a no-op, and the request
 * path skips building attributes for them altogether.
 */
import { propagation } from "@opentelemetry/api";

let active: boolean | undefined;

/** True when telemetry is on for this process (decided once, on first use). */
export function telemetryActive(): boolean {
  active ??= propagation.fields().length > 0;
  return active;
}
