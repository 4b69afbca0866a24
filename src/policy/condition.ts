/**
 * Compiles a rule's `when` into a `Condition`, once, at load. Evaluation is bounded by jsonata's
 * own guardrails (`timeout`, `stack`, `sequence`): jsonata runs on the event loop, so a Promise
 * race could never interrupt a runaway expression, but these checks run inside it.
 */
import jsonata from "jsonata";
import type { Condition } from "./types.ts";

/** Guardrails for one policy's expressions. */
export interface EvaluationLimits {
  timeout_ms: number;
  max_depth: number;
  max_sequence: number;
}

/** A jsonata error as thrown (a plain object, not an Error). */
export interface JsonataFailure {
  code: string;
  position?: number;
  token?: string;
  message: string;
}

/** Narrows an unknown throw to jsonata's error objects. */
export function isJsonataFailure(error: unknown): error is JsonataFailure {
  return typeof error === "object" && error !== null && "code" in error && "message" in error;
}

/** Parses an expression; throws jsonata's error (with `position`) on a syntax error. */
export function parseExpression(source: string, limits: EvaluationLimits): jsonata.Expression {
  return jsonata(source, {
    timeout: limits.timeout_ms,
    stack: limits.max_depth,
    sequence: limits.max_sequence,
  });
}

/** Wraps a parsed expression as a `Condition`. */
export function conditionFrom(source: string, expression: jsonata.Expression): Condition {
  return {
    source,
    fast: false,
    evaluate: (facts, bindings) => expression.evaluate(facts, bindings),
  };
}
