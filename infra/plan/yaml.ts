// A YAML writer for plain data (what JSON can hold), more than ten times faster than the `yaml`
// package's document model on our manifests, which keeps `npm run plan` quick as the stacks grow.
// Output reads the same under YAML 1.2 and YAML 1.1 (Kubernetes' Go parsers): a string is written bare
// only when no parser can take it for anything else, otherwise double-quoted, or as a literal block
// when it spans lines. test/plan/yaml.test.ts round-trips arbitrary values through both readers.

/** Bare strings: a conservative subset (names, labels, paths, quantities). */
const PLAIN = /^[A-Za-z0-9_/][A-Za-z0-9_./-]*$/;
/** Words YAML 1.1 reads as booleans, null or special floats. */
const WORDS = /^(y|n|yes|no|on|off|true|false|null|nan|inf)$/i;
/** What a reader may take for a number, a date or a version-like float: digits, signs, dots, exponents. */
const NUMBERISH = /^[-+._eE]*[0-9][-+0-9._eE]*$/;
/** Hexadecimal, octal and binary integers. */
const RADIX = /^[-+]?0[xXoObB]/;
/** Characters JSON leaves raw that YAML must escape (non-printable, or line breaks in YAML 1.1). */
const UNPRINTABLE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, "g");

function plain(s: string): boolean {
  return PLAIN.test(s) && !WORDS.test(s) && !NUMBERISH.test(s) && !RADIX.test(s);
}

function quoted(s: string): string {
  return JSON.stringify(s).replace(UNPRINTABLE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Whether a multi-line string survives as a literal block: printable, no carriage return, and no line
 * made only of blanks or starting the block with one (indentation would swallow it).
 */
function literal(s: string): boolean {
  if (!s.includes("\n") || UNPRINTABLE.test(s) || /[\u0000-\u0009\u000b-\u001f]/.test(s)) return false;
  const lines = s.split("\n");
  return !lines[0].startsWith(" ") && lines[0] !== "" && lines.every((l) => l === "" || l.trim() !== "");
}

function scalar(v: unknown): string | undefined {
  if (v === null) return "null";
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return quoted(String(v));
    const s = String(v);
    // YAML 1.1 floats need a dot before the exponent.
    return /e/.test(s) && !s.includes(".") ? s.replace("e", ".0e") : s;
  }
  if (typeof v === "string") return literal(v) ? undefined : plain(v) ? v : quoted(v);
  if (Array.isArray(v) && v.length === 0) return "[]";
  if (typeof v === "object" && Object.keys(v as object).length === 0) return "{}";
  return undefined;
}

const pad = (level: number) => "  ".repeat(level);

function block(s: string, level: number): string {
  const body = s.replace(/\n+$/, "");
  const trailing = s.length - body.length;
  const header = trailing === 0 ? "|-" : trailing === 1 ? "|" : "|+";
  const lines = body.split("\n").map((l) => (l === "" ? "" : pad(level) + l));
  return `${header}\n${lines.join("\n")}\n${"\n".repeat(Math.max(0, trailing - 1))}`;
}

/** The text after `key:` or `- `: a scalar on the same line, or a nested block on the next ones. */
function value(v: unknown, level: number, inSequence: boolean): string {
  const s = scalar(v);
  if (s !== undefined) return ` ${s}\n`;
  if (typeof v === "string") return ` ${block(v, level + 1)}`;
  const nested = Array.isArray(v) ? sequence(v, level + 1) : mapping(v as Record<string, unknown>, level + 1);
  // A sequence item's first entry goes on the dash's line.
  return inSequence ? ` ${nested.slice(pad(level + 1).length)}` : `\n${nested}`;
}

function mapping(obj: Record<string, unknown>, level: number): string {
  let out = "";
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    out += `${pad(level)}${plain(k) ? k : quoted(k)}:${value(v, level, false)}`;
  }
  return out;
}

function sequence(list: unknown[], level: number): string {
  let out = "";
  for (const item of list) out += `${pad(level)}-${value(item === undefined ? null : item, level, true)}`;
  return out;
}

/** One YAML document (without the `---` marker) for a JSON-like object. */
export function toYaml(doc: Record<string, unknown>): string {
  return scalar(doc) === "{}" ? "{}\n" : mapping(doc, 0);
}
