/**
 * planOffline: an environment planned after its cluster stack, whose outputs stand in for the
 * StackReference; with a memo (the test harness's), each cluster config is planned once per process
 * and the environment's plan is the same as without it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prepare } from "../../infra/program";
import { planOffline, readStackConfigFile, ROOT, type ClusterOutputsMemo } from "../../infra/plan/run";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "plan-offline-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** The real program, counting the stacks it is run for. */
function counted() {
  const runs: number[] = [];
  return { runs, prepare: () => (runs.push(1), prepare()) };
}

describe("planning an environment offline", () => {
  it("plans each cluster config once with a memo, and the environment's plan does not change", async () => {
    const dev = readStackConfigFile("dev");
    const memo: ClusterOutputsMemo = new Map();
    const first = counted();
    const fresh = await planOffline("dev", dev, first.prepare, ROOT, memo);
    expect(first.runs).toHaveLength(2); // cluster-nonprod, then dev: what a plan without a memo runs
    expect([...memo.keys()].map((k) => JSON.parse(k).slice(0, 2))).toEqual([["cluster-nonprod", ROOT]]);
    const again = counted();
    const reused = await planOffline("dev", dev, again.prepare, ROOT, memo);
    expect(again.runs).toHaveLength(1); // dev only: cluster-nonprod's outputs came from the memo
    expect(JSON.stringify(reused)).toBe(JSON.stringify(fresh));
    // The environment's view of its cluster, as the stack outputs show it.
    expect((reused.outputs as any).environment.cluster).toMatchObject({ identifier: "eu-par-nonprod-01", stack: "cluster-nonprod" });
  });

  it("plans a cluster config it has not seen: another folder, another text", async () => {
    const memo: ClusterOutputsMemo = new Map();
    const local = counted();
    await planOffline("local", readStackConfigFile("local"), local.prepare, ROOT, memo);
    expect(local.runs).toHaveLength(2);
    // A scratch folder, one value of the cluster stack's config changed: another entry, planned anew.
    for (const stack of ["local", "cluster-local"]) fs.copyFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), path.join(scratch, `Pulumi.${stack}.yaml`));
    const file = path.join(scratch, "Pulumi.cluster-local.yaml");
    const text = fs.readFileSync(file, "utf8");
    expect(text).toMatch(/\n {4}context: kind-diaspomoney\n/);
    fs.writeFileSync(file, text.replace(/\n {4}context: kind-diaspomoney\n/, "\n    context: kind-diaspomoney-b\n"));
    const changed = counted();
    await planOffline("local", readStackConfigFile("local", scratch), changed.prepare, scratch, memo);
    expect(changed.runs).toHaveLength(2);
    expect([...memo.keys()].map((k) => JSON.parse(k).slice(0, 2))).toEqual([
      ["cluster-local", ROOT],
      ["cluster-local", scratch],
    ]);
  });
});
