/**
 * PromQL checked with Prometheus's own grammar (@prometheus-io/lezer-promql, the parser of the
 * Prometheus UI): syntax errors, the metric names an expression selects, and its comparisons.
 * The grammar checks syntax, not types (`rate(x)` without a range parses): the tests add the
 * semantic checks that matter here (known metrics, thresholds).
 */
import { parser } from "@prometheus-io/lezer-promql";

export interface ParsedPromQL {
  /** Offsets of the parser's error nodes: empty when the expression is valid PromQL. */
  errors: { from: number; to: number; near: string }[];
  /** Metric names of the vector selectors, in order of appearance. */
  metrics: string[];
  /** Comparisons `lhs OP number` (and `number OP rhs`), with the number as written. */
  comparisons: { op: string; number: string }[];
  /** Every number literal. */
  numbers: string[];
}

const COMPARISON_OPS = new Set(["Gtr", "Lss", "Gte", "Lte", "EqlC", "Neq"]);
const OP_TEXT: Record<string, string> = { Gtr: ">", Lss: "<", Gte: ">=", Lte: "<=", EqlC: "==", Neq: "!=" };

/**
 * Grafana's interval variables are not PromQL: replaced by a fixed range before parsing, as
 * Grafana does before sending the query.
 */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, "5m");
}

export function parsePromQL(expr: string): ParsedPromQL {
  const tree = parser.parse(expr);
  const out: ParsedPromQL = { errors: [], metrics: [], comparisons: [], numbers: [] };
  tree.iterate({
    enter(ref) {
      const text = expr.slice(ref.from, ref.to);
      if (ref.type.isError) out.errors.push({ from: ref.from, to: ref.to, near: expr.slice(Math.max(0, ref.from - 20), ref.to + 20) });
      if (ref.name === "Identifier" && ref.node.parent?.name === "VectorSelector") out.metrics.push(text);
      if (ref.name === "NumberDurationLiteral") out.numbers.push(text);
      if (ref.name === "BinaryExpr") {
        const children: { name: string; text: string }[] = [];
        for (let c = ref.node.firstChild; c; c = c.nextSibling) children.push({ name: c.name, text: expr.slice(c.from, c.to) });
        const opIndex = children.findIndex((c) => COMPARISON_OPS.has(c.name));
        if (opIndex > 0) {
          const op = OP_TEXT[children[opIndex].name];
          const rhs = children.slice(opIndex + 1).find((c) => c.name !== "BoolModifier");
          const lhs = children[opIndex - 1];
          const literal = (c?: { name: string; text: string }) => (c && (c.name === "NumberDurationLiteral" || c.name === "ParenExpr") ? c.text.replace(/[()\s]/g, "") : undefined);
          const number = literal(rhs) ?? literal(lhs);
          if (number !== undefined) out.comparisons.push({ op, number });
        }
      }
    },
  });
  return out;
}
