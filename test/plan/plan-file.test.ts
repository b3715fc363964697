/**
 * A plan.json handed to `npm run plan -- diff` or `npm run adopt -- --plan`: a real one is read, anything
 * else is one PlanFileError naming the file and the first problem, before the diff touches it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diffCommand } from "../../infra/plan/cli";
import { PlanFileError, planShapeProblems, readPlanFile } from "../../infra/plan/plan-file";
import { planStack } from "../harness";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "plan-file-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const resource = {
  urn: "urn:pulumi:dev::diaspomoney-platform::kubernetes:apps/v1:Deployment::web",
  type: "kubernetes:apps/v1:Deployment",
  name: "web",
  custom: true,
  parent: null,
  provider: null,
  dependsOn: [],
  protect: false,
  retainOnDelete: false,
  inputs: { spec: { replicas: 2 } },
};
const plan = { project: "diaspomoney-platform", stack: "dev", resources: [resource], outputs: {} };

/** `plan` with `change` applied to its first resource (a key set to undefined is removed). */
function withResource(change: Record<string, unknown>) {
  return { ...plan, resources: [JSON.parse(JSON.stringify({ ...resource, ...change }))] };
}

function file(name: string, content: string): string {
  const f = path.join(scratch, name);
  fs.writeFileSync(f, content);
  return f;
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe("the shape of a plan.json", () => {
  it("holds for a plan the program writes", async () => {
    expect(planShapeProblems(JSON.parse(JSON.stringify(await planStack("dev"))))).toEqual([]);
    expect(planShapeProblems(plan)).toEqual([]);
    expect(planShapeProblems({ ...plan, outputs: undefined })).toEqual([]);
  });

  it.each([
    ["a list", [], 'the file holds a list, not an object with "project", "stack", "resources" and "outputs"'],
    ["null", null, 'the file holds null, not an object with "project", "stack", "resources" and "outputs"'],
    ["a string", "plan", 'the file holds a string, not an object with "project", "stack", "resources" and "outputs"'],
    ["no stack", { ...plan, stack: undefined }, '"stack" is missing, expected a non-empty string'],
    ["an empty project", { ...plan, project: "" }, '"project" is a string, expected a non-empty string'],
    ["resources an object", { ...plan, resources: {} }, '"resources" is an object, expected a list'],
    ["outputs a list", { ...plan, outputs: [] }, '"outputs" is a list, expected an object'],
    ["a resource that is a number", { ...plan, resources: [1] }, "resources[0] is a number, expected an object"],
    ["a resource that is null", { ...plan, resources: [null] }, "resources[0] is null, expected an object"],
    ["no urn", withResource({ urn: undefined }), "resources[0].urn is missing, expected a non-empty string"],
    ["a numeric type", withResource({ type: 7 }), "resources[0].type is a number, expected a non-empty string"],
    ["no inputs", withResource({ inputs: undefined }), "resources[0].inputs is missing, expected an object"],
    ["inputs a list", withResource({ inputs: [] }), "resources[0].inputs is a list, expected an object"],
    ["a numeric provider", withResource({ provider: 3 }), "resources[0].provider is a number, expected a provider reference or null"],
    ["dependsOn of numbers", withResource({ dependsOn: [1] }), "resources[0].dependsOn is a list, expected a list of URNs"],
    ["protect as a string", withResource({ protect: "yes" }), "resources[0].protect is a string, expected true or false"],
  ])("is refused with %s", (_what, value, problem) => {
    expect(planShapeProblems(value)[0]).toBe(problem);
  });

  it("names every problem, a repeated URN included", () => {
    const twice = { ...plan, resources: [resource, { ...resource, name: 3 }] };
    expect(planShapeProblems(twice)).toEqual(["resources[1].name is a number, expected a string", "resources[1].urn repeats resources[0].urn"]);
  });

  it("refuses values nested deeper than any plan (the diff walks them recursively)", () => {
    const deep = (depth: number) => ({ ...plan, resources: [{ ...resource, inputs: { deep: nested(depth) } }] });
    expect(planShapeProblems(deep(200_000))).toEqual(["values nest deeper than 100 levels"]);
    expect(planShapeProblems(deep(50))).toEqual([]);
    const f = file("deep.json", JSON.stringify(plan).replace('"replicas":2', `"replicas":${"[".repeat(200_000)}${"]".repeat(200_000)}`));
    expect(() => readPlanFile(f)).toThrow(`${f} is not a plan.json: values nest deeper than 100 levels`);
  });
});

describe("reading a plan file", () => {
  it("reads a plan, outputs defaulted", () => {
    const f = file("ok.json", JSON.stringify({ ...plan, outputs: undefined }));
    expect(readPlanFile(f)).toEqual({ ...plan, outputs: {} });
  });

  it.each([
    ["missing", () => path.join(scratch, "absent.json"), /^no such plan: .*absent\.json \(write one with `npm run plan -- <stack> --out DIR`\)$/],
    ["a folder", () => scratch, /^.* is not a file \(write one/],
    ["empty", () => file("empty.json", ""), /^.*empty\.json is not a plan\.json: not JSON \(write one/],
    ["wrong shape", () => file("shape.json", JSON.stringify(withResource({ inputs: null }))), /^.*shape\.json is not a plan\.json: resources\[0\]\.inputs is null, expected an object$/],
    ["several problems", () => file("many.json", JSON.stringify({ resources: [1, 2] })), /is not a plan\.json: "project" is missing, expected a non-empty string \(and 3 more problems\)$/],
  ])("refuses a file that is %s, on one line", (_what, make, message) => {
    const f = make();
    expect(() => readPlanFile(f)).toThrow(PlanFileError);
    expect(() => readPlanFile(f)).toThrow(message);
    try {
      readPlanFile(f);
    } catch (err) {
      expect((err as Error).message).not.toContain("\n");
    }
  });

  it("never quotes the file: a credentials file passed by mistake stays unseen", () => {
    const f = file("secret.json", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
    expect(() => readPlanFile(f)).toThrow(PlanFileError);
    try {
      readPlanFile(f);
    } catch (err) {
      expect((err as Error).message).not.toContain("wJalr");
    }
  });

  it("is what the diff reads: a malformed head is refused before any comparison", () => {
    const good = file("base.json", JSON.stringify(plan));
    const bad = file("head.json", JSON.stringify({ ...plan, resources: [{ ...resource, inputs: "spec" }] }));
    expect(() => diffCommand([good, bad])).toThrow(PlanFileError);
    expect(() => diffCommand([good, bad])).toThrow(`${bad} is not a plan.json: resources[0].inputs is a string, expected an object`);
  });
});
