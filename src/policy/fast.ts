/**
 * Compiles the common subset of JSONata (fact paths, comparisons, `and`/`or`, `in`, arithmetic,
 * conditionals and a few functions) into plain JavaScript closures at load time. jsonata costs
 * microseconds per evaluation (it is async and walks its AST); a closure costs nanoseconds.
 *
 * jsonata stays the reference: an expression outside the subset is not compiled here, and a
 * compiled closure that meets a value outside its subset at run time (an array where a scalar was
 * expected, a type error jsonata would report) hands that evaluation to jsonata, so results and
 * error messages are jsonata's own. tests/policy/fast_test.ts runs thousands of generated
 * expressions through both and requires identical results.
 */
import type jsonata from "jsonata";
import type { AstNode as Node } from "./ast.ts";
import type { Condition } from "./types.ts";

/** Thrown inside a closure to hand the evaluation to jsonata. */
const DEFER = Symbol("defer-to-jsonata");

type Scope = { facts: unknown; bindings: Record<string, unknown> };
type Closure = (scope: Scope) => unknown;

/** Not compilable: the expression is left to jsonata. */
class Unsupported extends Error {}

const isScalar = (v: unknown) =>
  v === undefined || v === null || typeof v === "string" || typeof v === "number" ||
  typeof v === "boolean";

/** A value a closure may pass on: scalars only; anything else defers to jsonata. */
function scalar(v: unknown): unknown {
  if (isScalar(v)) return v;
  throw DEFER;
}

/** jsonata's boolean cast, for scalars. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return v.length > 0;
  if (typeof v === "number") return v !== 0;
  throw DEFER;
}

function navigate(names: string[]): Closure {
  return ({ facts }) => {
    let v: unknown = facts;
    for (const name of names) {
      if (v === null || typeof v !== "object") return undefined;
      if (Array.isArray(v)) throw DEFER; // jsonata maps paths over arrays
      v = (v as Record<string, unknown>)[name];
      if (v === undefined) return undefined;
    }
    return v;
  };
}

function compile(node: Node): Closure {
  switch (node.type) {
    case "string":
    case "number":
    case "value": {
      const v = node.value;
      return () => v;
    }
    case "path":
    case "name": {
      const steps = node.type === "name" ? [node] : node.steps ?? [];
      const names = steps.map((s) => {
        if (
          s.type !== "name" || s.predicate || s.stages || s.group || s.focus || s.index ||
          s.tuple || s.keepArray
        ) throw new Unsupported();
        return String(s.value);
      });
      if (node.type === "path" && (node as { keepSingletonArray?: unknown }).keepSingletonArray) {
        throw new Unsupported();
      }
      const get = navigate(names);
      return (scope) => scalar(get(scope));
    }
    case "block": {
      if (node.expressions?.length !== 1) throw new Unsupported();
      return compile(node.expressions[0]);
    }
    case "condition": {
      const cond = compile(node.condition!);
      const then = compile(node.then!);
      const otherwise = node.else ? compile(node.else) : () => undefined;
      return (s) => truthy(cond(s)) ? then(s) : otherwise(s);
    }
    case "unary": {
      if (node.value !== "-") throw new Unsupported();
      const operand = compile(node.expression!);
      return (s) => {
        const v = operand(s);
        if (v === undefined) return undefined;
        if (typeof v !== "number") throw DEFER;
        return -v;
      };
    }
    case "binary":
      return binary(String(node.value), node.lhs!, node.rhs!);
    case "function":
      return call(node);
    default:
      throw new Unsupported();
  }
}

function binary(op: string, lhsNode: Node, rhsNode: Node): Closure {
  if (op === "in") {
    const lhs = compile(lhsNode);
    const rhs = arrayOperand(rhsNode);
    return (s) => {
      const needle = lhs(s);
      if (needle === undefined) return false;
      const hay = rhs(s);
      if (hay === undefined) return false;
      if (!Array.isArray(hay)) return hay === needle;
      for (const item of hay) {
        if (!isScalar(item)) throw DEFER;
        if (item === needle) return true;
      }
      return false;
    };
  }
  const lhs = compile(lhsNode);
  const rhs = compile(rhsNode);
  switch (op) {
    case "and":
      return (s) => truthy(lhs(s)) && truthy(rhs(s));
    case "or":
      return (s) => truthy(lhs(s)) || truthy(rhs(s));
    case "=":
    case "!=": {
      const equal = op === "=";
      return (s) => {
        const a = lhs(s);
        const b = rhs(s);
        if (a === undefined || b === undefined) return false;
        return (a === b) === equal;
      };
    }
    case "<":
    case "<=":
    case ">":
    case ">=":
      return (s) => {
        const a = lhs(s);
        const b = rhs(s);
        // jsonata's order: a value that cannot be compared is an error (even beside a missing
        // one), then a missing side makes the result missing, then the types must agree.
        const ta = typeof a;
        const tb = typeof b;
        if (
          (ta !== "undefined" && ta !== "number" && ta !== "string") ||
          (tb !== "undefined" && tb !== "number" && tb !== "string")
        ) throw DEFER;
        if (ta === "undefined" || tb === "undefined") return undefined;
        if (ta !== tb) throw DEFER;
        const x = a as number | string;
        const y = b as number | string;
        return op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
      };
    case "+":
    case "-":
    case "*":
    case "/":
    case "%":
      return (s) => {
        const a = lhs(s);
        const b = rhs(s);
        // jsonata checks types before missing values: `undefined % "x"` is an error.
        if (
          (a !== undefined && typeof a !== "number") || (b !== undefined && typeof b !== "number")
        ) {
          throw DEFER;
        }
        if (a === undefined || b === undefined) return undefined;
        const r = op === "+"
          ? a + b
          : op === "-"
          ? a - b
          : op === "*"
          ? a * b
          : op === "/"
          ? a / b
          : a % b;
        if (!Number.isFinite(r)) throw DEFER; // jsonata raises D1001
        return r;
      };
    default:
      throw new Unsupported();
  }
}

/** The right side of `in` and the argument of `$count` may be a fact array or an array literal. */
function arrayOperand(node: Node): Closure {
  if (node.type === "unary" && node.value === "[") {
    const items = (node.expressions ?? []).map((e) => {
      if (e.type !== "string" && e.type !== "number" && e.type !== "value") {
        throw new Unsupported();
      }
      return e.value;
    });
    return () => items;
  }
  if (node.type === "path" || node.type === "name") {
    const steps = node.type === "name" ? [node] : node.steps ?? [];
    if (steps.some((s) => s.type !== "name" || s.predicate || s.stages || s.group)) {
      throw new Unsupported();
    }
    const get = navigate(steps.map((s) => String(s.value)));
    return (s) => {
      const v = get(s);
      // A fact array is jsonata's value as is (empty or not): `in`, `$count` and `$exists` use it.
      if (Array.isArray(v)) return v;
      return scalar(v);
    };
  }
  return compile(node);
}

function call(node: Node): Closure {
  const procedure = node.procedure;
  if (procedure?.type !== "variable") throw new Unsupported();
  const name = String(procedure.value);
  const args = node.arguments ?? [];
  const one = () => {
    if (args.length !== 1) throw new Unsupported();
    return compile(args[0]);
  };
  switch (name) {
    case "not": {
      const a = one();
      return (s) => {
        const v = a(s);
        return v === undefined ? undefined : !truthy(v);
      };
    }
    case "boolean": {
      const a = one();
      return (s) => {
        const v = a(s);
        return v === undefined ? undefined : truthy(v);
      };
    }
    case "exists": {
      if (args.length !== 1) throw new Unsupported();
      const a = arrayOperand(args[0]);
      return (s) => a(s) !== undefined;
    }
    case "count": {
      if (args.length !== 1) throw new Unsupported();
      const a = arrayOperand(args[0]);
      return (s) => {
        const v = a(s);
        return v === undefined ? 0 : Array.isArray(v) ? v.length : 1;
      };
    }
    case "contains": {
      if (args.length !== 2 || args[1].type === "regexp") throw new Unsupported();
      const str = compile(args[0]);
      const sub = compile(args[1]);
      return (s) => {
        const a = str(s);
        const b = sub(s);
        if (a === undefined) return undefined;
        if (typeof a !== "string" || typeof b !== "string") throw DEFER;
        return a.includes(b);
      };
    }
    case "lowercase":
    case "uppercase": {
      const a = one();
      const lower = name === "lowercase";
      return (s) => {
        const v = a(s);
        if (v === undefined) return undefined;
        if (typeof v !== "string") throw DEFER;
        return lower ? v.toLowerCase() : v.toUpperCase();
      };
    }
    case "cost":
    case "fits":
    case "isRoute": {
      const a = one();
      return (s) => {
        const fn = s.bindings[name];
        if (typeof fn !== "function") throw DEFER;
        return fn(a(s));
      };
    }
    default:
      throw new Unsupported();
  }
}

/**
 * Compiles an expression's AST to a closure-backed `Condition`, or returns undefined when the
 * expression is outside the subset.
 */
export function compileFast(
  ast: jsonata.ExprNode,
  source: string,
  fallback: jsonata.Expression,
): Condition | undefined {
  let closure: Closure;
  try {
    closure = compile(ast as unknown as Node);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
  return {
    source,
    fast: true,
    evaluate(facts, bindings) {
      try {
        return closure({ facts, bindings });
      } catch (error) {
        if (error === DEFER) return fallback.evaluate(facts, bindings);
        throw error;
      }
    },
  };
}
