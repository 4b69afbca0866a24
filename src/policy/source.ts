/**
 * A YAML document that remembers where everything came from, so that any problem found later
 * (schema, references, expressions) can be reported at the exact line and column of its node.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { PolicyProblem } from "./problems.ts";

export type Path = readonly (string | number)[];

/** A parsed YAML file with position lookups. */
export class PolicySource {
  readonly file: string;
  readonly text: string;
  readonly value: unknown;
  /** YAML syntax problems; when non-empty, `value` is not to be trusted. */
  readonly syntaxProblems: PolicyProblem[];
  readonly #doc: ReturnType<typeof parseDocument>;
  readonly #lines: LineCounter;

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.#lines = new LineCounter();
    this.#doc = parseDocument(text, {
      lineCounter: this.#lines,
      prettyErrors: false,
      uniqueKeys: true,
    });
    this.syntaxProblems = [...this.#doc.errors, ...this.#doc.warnings].map((e) => {
      const { line, col } = this.#lines.linePos(e.pos[0]);
      return {
        file,
        line,
        col,
        message: `YAML ${e.name === "YAMLWarning" ? "warning" : "syntax error"}: ${
          e.message.split("\n")[0]
        } (${e.code})`,
        severity: e.name === "YAMLWarning" ? "warning" : "error",
      };
    });
    this.value = this.#doc.errors.length === 0 ? this.#doc.toJS() : undefined;
  }

  /** Line and column of a character offset in the file. */
  position(offset: number): { line: number; col: number } {
    return this.#lines.linePos(offset);
  }

  /** The deepest existing node along `path` (a missing key points at its parent). */
  node(path: Path): Node | undefined {
    let node: unknown = this.#doc.contents;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair || pair.value == null) return node as Node;
        node = pair.value;
      } else if (isSeq(node) && typeof key === "number" && node.items[key] != null) {
        node = node.items[key];
      } else {
        return node as Node | undefined;
      }
    }
    return node as Node | undefined;
  }

  /** Position of the node at `path`, or of its deepest existing ancestor. */
  locate(path: Path): { line: number; col: number } {
    const node = this.node(path);
    return this.position(node?.range?.[0] ?? 0);
  }

  /** Position of a mapping key (for unknown or duplicate keys), else of the mapping. */
  locateKey(path: Path, key: string): { line: number; col: number } {
    const map = this.node(path);
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair && isScalar(pair.key) && pair.key.range) return this.position(pair.key.range[0]);
    }
    return this.locate(path);
  }

  /**
   * Maps an offset inside a scalar's parsed value (such as a JSONata error position) to the file.
   * The parsed value and the source differ by quotes, indentation and folding, so the walk
   * matches non-space characters one by one; escapes aside, that lands on the right character.
   */
  locateInScalar(path: Path, offset: number): { line: number; col: number } {
    const node = this.node(path);
    if (!isScalar(node) || !node.range || typeof node.value !== "string") return this.locate(path);
    const value = node.value;
    let src = node.range[0];
    if (node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED") {
      src = this.text.indexOf("\n", src) + 1; // skip the `|` / `>` header line
    } else if (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") {
      src += 1;
    }
    const end = node.range[1];
    for (let i = 0; i < Math.min(offset, value.length); i++) {
      const c = value[i];
      if (c === " " || c === "\n" || c === "\t") continue;
      while (src < end && this.text[src] !== c) src++;
      if (src < end) src++;
    }
    // Land on the next non-space character: the one the offset names.
    while (src < end && /\s/.test(this.text[src])) src++;
    return this.position(Math.min(src, Math.max(end - 1, node.range[0])));
  }
}
