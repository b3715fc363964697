import { describe, expect, it } from "vitest";
import { DELETE_PITR_FINALIZER, DELETE_PVC_FINALIZER } from "../../components/mongodb";
import { computedState } from "../../infra/plan/recorder";
import { leakedPlaceholders } from "../../infra/plan/run";
import { cachedPlan, inputs, k8sObject, ofType, STACKS } from "../harness";

describe("protection of the data in prod", () => {
  it("protects and keeps on delete the MongoDB resource, its encryption key and users, and the Atlas project and cluster", async () => {
    const plan = await cachedPlan("prod");
    const kept = plan.resources.filter((r) => r.protect && r.retainOnDelete).map((r) => `${r.type} ${r.name}`);
    expect(kept).toEqual(
      expect.arrayContaining([
        "kubernetes:psmdb.percona.com/v1:PerconaServerMongoDB mongodb-cluster",
        "kubernetes:core/v1:Secret mongodb-encryption-key",
        "random:index/randomBytes:RandomBytes mongodb-encryption-key",
        "kubernetes:core/v1:Secret mongodb-users",
        "mongodbatlas:index/project:Project atlas-project",
        "mongodbatlas:index/encryptionAtRest:EncryptionAtRest atlas-encryption",
        "mongodbatlas:index/advancedCluster:AdvancedCluster atlas-cluster",
      ]),
    );
    expect(inputs(ofType(plan, "mongodbatlas:index/advancedCluster:AdvancedCluster")[0]).terminationProtectionEnabled).toBe(true);
  });

  it.each(["dev", "rct"] as const)("leaves %s's data layer unprotected, so it can be rebuilt", async (stack) => {
    const plan = await cachedPlan(stack);
    expect(k8sObject(plan, "PerconaServerMongoDB", "mongodb").protect).toBe(false);
  });

  it.each(STACKS)("never asks the operator to delete volumes or point-in-time chunks with the cluster (%s)", async (stack) => {
    const plan = await cachedPlan(stack);
    const finalizers: string[] = inputs(k8sObject(plan, "PerconaServerMongoDB", "mongodb")).metadata.finalizers;
    expect(finalizers).not.toContain(DELETE_PVC_FINALIZER);
    expect(finalizers).not.toContain(DELETE_PITR_FINALIZER);
    expect((plan.outputs as any).data.mongodb.protection.volumesDeletedWithCluster).toBe(false);
  });
});

describe.each(STACKS)("secrets of the %s data layer", (stack) => {
  it("appear nowhere in plan.json: no generated password or key, no config placeholder", async () => {
    const plan = await cachedPlan(stack);
    const text = JSON.stringify(plan);
    const generated = plan.resources.flatMap((r) => {
      const state = computedState(r.type, r.name, r.inputs) as Record<string, unknown>;
      if (r.type === "random:index/randomPassword:RandomPassword") return [state.result, state.bcryptHash];
      if (r.type === "random:index/randomBytes:RandomBytes") return [state.base64, state.hex];
      return [];
    }) as string[];
    expect(generated.length).toBeGreaterThanOrEqual(stack === "prod" ? 8 : 7);
    for (const value of generated) expect(value.length).toBeGreaterThan(16);
    for (const value of generated) expect(text.includes(value), `generated value of length ${value.length} leaked`).toBe(false);
    expect(leakedPlaceholders(plan)).toEqual([]);
  });
});
