/**
 * Static checks of a JSONata expression against the fact shape: unknown fact paths, unknown
 * routes in `$cost`/`$fits`, and results that cannot be a boolean. Only what can be *seen* is
 * reported: anything the checker cannot type is left to run time.
 */
import type jsonata from "jsonata";
import type { AstNode as Node } from "./ast.ts";
import type { FactShape } from "../facts/shape.ts";

/** A problem at a character offset of the expression. */
export interface ExpressionIssue {
  offset: number;
  message: string;
}

type Inferred = "boolean" | "number" | "string" | "array" | "object" | "null" | "unknown";

const BOOLEAN_OPS = new Set(["and", "or", "=", "!=", "<", "<=", ">", ">=", "in"]);
const NUMBER_OPS = new Set(["+", "-", "*", "/", "%"]);
const FUNCTION_TYPES: Record<string, Inferred> = {
  not: "boolean",
  exists: "boolean",
  contains: "boolean",
  boolean: "boolean",
  fits: "boolean",
  isRoute: "boolean",
  count: "number",
  sum: "number",
  max: "number",
  min: "number",
  average: "number",
  number: "number",
  abs: "number",
  floor: "number",
  ceil: "number",
  round: "number",
  power: "number",
  sqrt: "number",
  length: "number",
  cost: "number",
  string: "string",
  substring: "string",
  substringBefore: "string",
  substringAfter: "string",
  lowercase: "string",
  uppercase: "string",
  trim: "string",
  join: "string",
  keys: "array",
  split: "array",
};
/** Our functions that take a route name. */
const ROUTE_FUNCTIONS = new Set(["cost", "fits"]);

/** The JSONata token's start: positions in the AST point just past a token. */
function startOf(node: Node): number {
  const length = typeof node.value === "string" ? node.value.length : 1;
  return Math.max(0, (node.position ?? 1) - length);
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** Checks one expression; returns every issue found. */
export function checkExpression(
  ast: jsonata.ExprNode,
  shape: { [key: string]: FactShape },
  routeNames: readonly string[],
): ExpressionIssue[] {
  const issues: ExpressionIssue[] = [];

  const pathType = (node: Node): Inferred => {
    const steps = (node.steps ?? []) as Node[];
    let current: FactShape = shape;
    const names: string[] = [];
    for (const step of steps) {
      if (step.type !== "name" || step.predicate || step.stages || step.group) {
        walkChildren(step);
        return "unknown";
      }
      const name = String(step.value);
      if (typeof current === "string") return "unknown"; // indexing into a scalar: leave to run time
      const next: FactShape | undefined = current[name] ?? current["*"];
      if (next === undefined) {
        const known = Object.keys(current).filter((k) => k !== "*");
        const hint = closest(name, known);
        const where = names.length ? `\`${names.join(".")}\`` : "the facts";
        issues.push({
          offset: startOf(step),
          message: names[0] === "routes" && names.length === 1
            ? `Unknown route \`${name}\` in \`routes.${name}\`${
              hint ? `; did you mean \`${hint}\`?` : ""
            }`
            : `Unknown fact \`${[...names, name].join(".")}\`: ${where} has ${
              known.map((k) => `\`${k}\``).join(", ")
            }${hint ? `; did you mean \`${hint}\`?` : ""}`,
        });
        return "unknown";
      }
      names.push(name);
      current = next;
    }
    return typeof current === "string" ? current : "object";
  };

  const walkChildren = (node: Node) => {
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const item of value) if (item && typeof item === "object") infer(item as Node, false);
      } else if (value && typeof value === "object" && "type" in value) infer(value as Node, false);
    }
  };

  /** Infers a node's type; `root` nodes are checked against the fact shape. */
  const infer = (node: Node, root: boolean): Inferred => {
    switch (node.type) {
      case "value":
        return node.value === null
          ? "null"
          : typeof node.value === "boolean"
          ? "boolean"
          : "unknown";
      case "string":
        return "string";
      case "number":
        return "number";
      case "path":
        if (root) return pathType(node);
        walkChildren(node);
        return "unknown";
      case "name":
        if (root) return pathType({ type: "path", steps: [node] } as Node);
        return "unknown";
      case "binary": {
        const lhs = node.lhs!;
        const rhs = node.rhs!;
        infer(lhs, root);
        infer(rhs, root);
        const op = String(node.value);
        if (BOOLEAN_OPS.has(op)) return "boolean";
        if (NUMBER_OPS.has(op)) return "number";
        if (op === "&") return "string";
        if (op === "..") return "array";
        return "unknown";
      }
      case "unary": {
        if (node.value === "-") {
          infer(node.expression!, root);
          return "number";
        }
        walkChildren(node);
        return node.value === "[" ? "array" : node.value === "{" ? "object" : "unknown";
      }
      case "condition": {
        infer(node.condition!, root);
        const a = infer(node.then!, root);
        const b = node.else ? infer(node.else, root) : "unknown";
        return a === b ? a : "unknown";
      }
      case "block": {
        let last: Inferred = "unknown";
        for (const e of (node.expressions ?? []) as Node[]) last = infer(e, root);
        return last;
      }
      case "function": {
        const name = String((node.procedure as Node | undefined)?.value ?? "");
        const args = (node.arguments ?? []) as Node[];
        for (const arg of args) infer(arg, root);
        if (ROUTE_FUNCTIONS.has(name)) {
          const arg = args[0];
          if (args.length !== 1) {
            issues.push({ offset: startOf(node), message: `\`$${name}\` takes one route name` });
          } else if (arg.type === "string" && !routeNames.includes(String(arg.value))) {
            const hint = closest(String(arg.value), [...routeNames]);
            issues.push({
              offset: startOf(arg) - 1,
              message: `Unknown route \`${arg.value}\` in \`$${name}\`${
                hint ? `; did you mean \`${hint}\`?` : ""
              }`,
            });
          }
        }
        return FUNCTION_TYPES[name] ?? "unknown";
      }
      default:
        walkChildren(node);
        return "unknown";
    }
  };

  const type = infer(ast as unknown as Node, true);
  if (type !== "boolean" && type !== "unknown") {
    issues.push({
      offset: startOf(ast as unknown as Node),
      message: `\`when\` must yield a boolean, but this expression yields ${
        type === "array" || type === "object" ? "an" : "a"
      } ${type}`,
    });
  }
  return issues;
}
