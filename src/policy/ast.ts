/**
 * The parts of jsonata's AST that the checker and the closure compiler read. jsonata's bundled
 * types omit several of them (`condition`, `then`, `predicate`, …), so they are declared here once.
 */
export interface AstNode {
  type: string;
  value?: unknown;
  /** Character offset just past the node's token in the expression. */
  position?: number;
  steps?: AstNode[];
  lhs?: AstNode;
  rhs?: AstNode;
  expression?: AstNode;
  expressions?: AstNode[];
  arguments?: AstNode[];
  procedure?: AstNode;
  condition?: AstNode;
  then?: AstNode;
  else?: AstNode;
  predicate?: unknown;
  stages?: unknown;
  group?: unknown;
  focus?: unknown;
  index?: unknown;
  tuple?: unknown;
  keepArray?: unknown;
}
