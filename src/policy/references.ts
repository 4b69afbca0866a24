/**
 * Checks that need the whole policy: route references, duplicates, fallback cycles, split
 * weights, and route settings that contradict each other. Each problem points at its node.
 */
import type { PolicySpec } from "./schema.ts";
import type { Path } from "./source.ts";

/** The `route` value that means "the route the client named as its model". */
export const MODEL_ROUTE = "$model";

/** A problem found by a whole-policy check, at a YAML path. */
export interface ReferenceIssue {
  path: Path;
  /** Set when the problem is a mapping key rather than a value. */
  key?: string;
  message: string;
  severity: "error" | "warning";
}

function suggest(name: string, names: string[]): string {
  const near = names.find((n) => n.toLowerCase() === name.toLowerCase()) ??
    names.find((n) => n.startsWith(name) || name.startsWith(n));
  return near ? `; did you mean \`${near}\`?` : "";
}

/**
 * Runs every whole-policy check. `knownRoutes` names every route in the file, including any that
 * failed schema validation, so those are not reported again as unknown references.
 */
export function checkReferences(
  spec: PolicySpec,
  knownRoutes: readonly string[] = Object.keys(spec.routes),
): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  const routeNames = [...knownRoutes];
  const used = new Set<string>();
  const ref = (name: string, path: Path, what: string) => {
    used.add(name);
    if (!routeNames.includes(name)) {
      issues.push({
        path,
        message: `${what} names unknown route \`${name}\`${suggest(name, routeNames)} (routes: ${
          routeNames.join(", ")
        })`,
        severity: "error",
      });
    }
  };
  const fallbackList = (primary: string[], fallbacks: string[], path: Path) => {
    const seen = new Set<string>();
    fallbacks.forEach((name, i) => {
      ref(name, [...path, i], "Fallback");
      if (primary.includes(name)) {
        issues.push({
          path: [...path, i],
          message: `Route \`${name}\` falls back to itself`,
          severity: "error",
        });
      } else if (seen.has(name)) {
        issues.push({
          path: [...path, i],
          message: `Fallback \`${name}\` is listed twice`,
          severity: "error",
        });
      }
      seen.add(name);
    });
  };

  // Routes: settings that contradict each other, and route-level fallback cycles.
  for (const [name, route] of Object.entries(spec.routes)) {
    const path = ["routes", name];
    if (route.provider === "openrouter" && route.via !== "gateway") {
      issues.push({
        path: [...path, "via"],
        message: "Provider `openrouter` is a gateway: set `via: gateway`",
        severity: "error",
      });
    }
    if (route.gateway && route.via !== "gateway") {
      issues.push({
        path: [...path, "gateway"],
        message: "`gateway` options are only sent by `via: gateway` routes",
        severity: "error",
      });
    }
    if (route.provider === "openai-compatible" && !route.base_url) {
      issues.push({
        path,
        message: "Provider `openai-compatible` needs a `base_url`",
        severity: "error",
      });
    }
    if (route.max_output_tokens && route.max_output_tokens > route.context_tokens) {
      issues.push({
        path: [...path, "max_output_tokens"],
        message:
          `\`max_output_tokens\` (${route.max_output_tokens}) exceeds \`context_tokens\` (${route.context_tokens})`,
        severity: "error",
      });
    }
    fallbackList([name], route.fallbacks, [...path, "fallbacks"]);
  }
  const inReportedCycle = new Set<string>();
  for (const name of Object.keys(spec.routes)) {
    if (inReportedCycle.has(name)) continue;
    const cycle = findCycle(spec, name);
    if (cycle && cycle[0] === name && cycle.length > 2) {
      for (const member of cycle) inReportedCycle.add(member);
      issues.push({
        path: ["routes", name, "fallbacks"],
        message: `Fallback cycle: ${cycle.map((n) => `\`${n}\``).join(" → ")}`,
        severity: "error",
      });
    }
  }

  // Rules.
  const ruleNames = new Map<string, number>();
  spec.rules.forEach((rule, i) => {
    const path = ["rules", i];
    const first = ruleNames.get(rule.name);
    if (first !== undefined) {
      issues.push({
        path: [...path, "name"],
        message: `Duplicate rule name \`${rule.name}\` (first used by rule ${first + 1})`,
        severity: "error",
      });
    } else ruleNames.set(rule.name, i);
    if ((rule.route === undefined) === (rule.split === undefined)) {
      issues.push({
        path,
        message: `Rule \`${rule.name}\` needs exactly one of \`route\` or \`split\``,
        severity: "error",
      });
    }
    const primary: string[] = [];
    if (rule.route !== undefined) {
      if (rule.route !== MODEL_ROUTE) {
        ref(rule.route, [...path, "route"], `Rule \`${rule.name}\``);
        primary.push(rule.route);
      }
    }
    if (rule.split) {
      const seen = new Set<string>();
      let total = 0;
      rule.split.forEach((arm, j) => {
        ref(arm.route, [...path, "split", j, "route"], `Split of rule \`${rule.name}\``);
        if (seen.has(arm.route)) {
          issues.push({
            path: [...path, "split", j, "route"],
            message: `Route \`${arm.route}\` appears twice in the split`,
            severity: "error",
          });
        }
        seen.add(arm.route);
        primary.push(arm.route);
        total += arm.weight;
      });
      if (Math.abs(total - 100) > 1e-9) {
        issues.push({
          path: [...path, "split"],
          message: `Split weights sum to ${
            Number(total.toFixed(6))
          }; they must sum to 100 (percent)`,
          severity: "error",
        });
      }
    }
    fallbackList(primary, rule.fallbacks, [...path, "fallbacks"]);
    if (/^\s*true\s*$/.test(rule.when) && i < spec.rules.length - 1) {
      issues.push({
        path: ["rules", i + 1],
        message: `Rule \`${
          spec.rules[i + 1].name
        }\` and every rule after it can never match: rule \`${rule.name}\` always matches`,
        severity: "warning",
      });
    }
  });

  if (spec.default) {
    ref(spec.default.route, ["default", "route"], "Default");
    fallbackList([spec.default.route], spec.default.fallbacks, ["default", "fallbacks"]);
  }
  for (const route of Object.values(spec.routes)) for (const f of route.fallbacks) used.add(f);

  for (const name of Object.keys(spec.routes)) {
    if (!used.has(name)) {
      issues.push({
        path: ["routes"],
        key: name,
        message: `Route \`${name}\` is never used by a rule, a fallback or the default`,
        severity: "warning",
      });
    }
  }
  return issues;
}

/** Follows route-level fallbacks depth-first; returns the first cycle through `start`. */
function findCycle(spec: PolicySpec, start: string): string[] | undefined {
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (stack.includes(name)) return name === start ? [...stack, name] : undefined;
    stack.push(name);
    for (const next of spec.routes[name]?.fallbacks ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    return undefined;
  };
  return visit(start);
}
