// Reading a `plan.json` someone hands to a command (`npm run plan -- diff`, `npm run adopt -- --plan`):
// its shape is checked whole before anything reads it, so a wrong file is one line and exit 2, never a
// crash deep in the diff. No Pulumi here: the diff answers without loading the SDK.
import * as fs from "node:fs";
import type { Plan } from "./run";

/** A file that is not a plan.json: what is wrong with it, on one line. */
export class PlanFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanFileError";
  }
}

/** Deeper than any real input (a StatefulSet's spec is about 12 levels); the diff walks inputs recursively. */
const MAX_DEPTH = 100;

type Check = (v: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isString: Check = (v) => typeof v === "string";
const isNonEmptyString: Check = (v) => typeof v === "string" && v !== "";
const isBoolean: Check = (v) => typeof v === "boolean";
const isStringOrNull: Check = (v) => v === null || typeof v === "string";
const isStringArray: Check = (v) => Array.isArray(v) && v.every(isString);

/** The fields of one resource, as `RecordedResource` declares them, each with what it must be. */
const RESOURCE_FIELDS: [string, Check, string][] = [
  ["urn", isNonEmptyString, "a non-empty string"],
  ["type", isNonEmptyString, "a non-empty string"],
  ["name", isString, "a string"],
  ["custom", isBoolean, "true or false"],
  ["parent", isStringOrNull, "a URN or null"],
  ["provider", isStringOrNull, "a provider reference or null"],
  ["dependsOn", isStringArray, "a list of URNs"],
  ["protect", isBoolean, "true or false"],
  ["retainOnDelete", isBoolean, "true or false"],
  ["inputs", isObject, "an object"],
];

/** How deeply `value` nests, stopping once it passes `limit` (iterative: a hostile file cannot overflow the stack here). */
function depthOver(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > limit) return true;
    if (v !== null && typeof v === "object") for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Everything that keeps `value` from being a plan.json, as `where: what` lines; empty when it is one. */
export function planShapeProblems(value: unknown): string[] {
  if (!isObject(value)) return [`the file holds ${Array.isArray(value) ? "a list" : value === null ? "null" : `a ${typeof value}`}, not an object with "project", "stack", "resources" and "outputs"`];
  const problems: string[] = [];
  for (const key of ["project", "stack"]) if (!isNonEmptyString(value[key])) problems.push(`"${key}" is ${describe(value[key])}, expected a non-empty string`);
  if (value.outputs !== undefined && !isObject(value.outputs)) problems.push(`"outputs" is ${describe(value.outputs)}, expected an object`);
  if (!Array.isArray(value.resources)) {
    problems.push(`"resources" is ${describe(value.resources)}, expected a list`);
    return problems;
  }
  const seen = new Map<string, number>();
  value.resources.forEach((r: unknown, i: number) => {
    if (!isObject(r)) {
      problems.push(`resources[${i}] is ${describe(r)}, expected an object`);
      return;
    }
    for (const [field, ok, expected] of RESOURCE_FIELDS) if (!ok(r[field])) problems.push(`resources[${i}].${field} is ${describe(r[field])}, expected ${expected}`);
    if (typeof r.urn === "string") {
      const first = seen.get(r.urn);
      if (first !== undefined) problems.push(`resources[${i}].urn repeats resources[${first}].urn`);
      else seen.set(r.urn, i);
    }
  });
  if (depthOver(value.resources, MAX_DEPTH) || depthOver(value.outputs, MAX_DEPTH)) problems.push(`values nest deeper than ${MAX_DEPTH} levels`);
  return problems;
}

/** A value's kind, never the value itself: a file handed by mistake may hold anything. */
function describe(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** Reads and checks a plan.json; every problem is a {@link PlanFileError} naming the file. */
export function readPlanFile(file: string): Plan {
  const hint = "write one with `npm run plan -- <stack> --out DIR`";
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new PlanFileError(`no such plan: ${file} (${hint})`);
  if (!stat.isFile()) throw new PlanFileError(`${file} is not a file (${hint})`);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new PlanFileError(`${file} cannot be read: ${(err as { code?: string }).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the error: not shown, the file may hold anything.
    throw new PlanFileError(`${file} is not a plan.json: not JSON (${hint})`);
  }
  const problems = planShapeProblems(value);
  if (problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : "";
    throw new PlanFileError(`${file} is not a plan.json: ${problems[0]}${more}`);
  }
  const plan = value as unknown as Plan;
  plan.outputs ??= {};
  return plan;
}
