import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { describe, expect, it } from "vitest";
import { computedState, SECRET, UNKNOWN, unwrapSerialized } from "../../infra/plan/recorder";
import { leakedPlaceholders } from "../../infra/plan/run";
import { planProgram } from "../harness";

describe("the recording engine", () => {
  it("records parent, provider, explicit and input dependencies, protection and masked secrets", async () => {
    const plan = await planProgram("dev", async () => {
      const provider = new k8s.Provider("p", { context: "c" });
      const parent = new pulumi.ComponentResource("test:index:Parent", "parent");
      const password = new random.RandomPassword("pw", { length: 24 }, { parent });
      const ns = new k8s.core.v1.Namespace("ns", { metadata: { name: "ns" } }, { provider, parent, protect: true });
      const secret = new k8s.core.v1.Secret(
        "s",
        { metadata: { namespace: ns.metadata.name }, stringData: { password: password.result } },
        { provider, parent, dependsOn: [parent], retainOnDelete: true },
      );
      return { secretName: secret.metadata.name, password: password.result };
    });
    const byName = (n: string) => plan.resources.find((r) => r.name === n)!;
    const s = byName("s");
    expect(s.parent).toBe(byName("parent").urn);
    expect(s.provider).toBe(`${byName("p").urn}::p-id`);
    expect(s.dependsOn).toEqual(expect.arrayContaining([byName("ns").urn, byName("pw").urn]));
    expect(s.retainOnDelete).toBe(true);
    expect(byName("ns").protect).toBe(true);
    // A secret map keeps its keys, so manifests and reviews show which entries a Secret holds.
    expect((s.inputs as any).stringData).toEqual({ password: SECRET });
    expect(plan.outputs.password).toBe(SECRET);
    expect(plan.outputs.secretName).toMatch(/^s-[0-9a-f]{8}$/);
    expect(byName("parent").custom).toBe(false);
    expect(plan.resources[0].type).toBe("pulumi:pulumi:Stack");
  });

  it("unwraps serialized values", () => {
    expect(unwrapSerialized("04da6b54-80e4-46f7-96ec-b56ff0331ba9")).toBe(UNKNOWN);
    expect(unwrapSerialized({ a: [{ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "x" }] })).toEqual({ a: [SECRET] });
    expect(unwrapSerialized({ "4dabf18193072939515e22adb298388d": "5cf8f73096256a8f31e491e813e4eb8e", urn: "urn:x" })).toBe("urn:x");
    const secretMap = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: { user: "u", password: "p" } };
    expect(unwrapSerialized({ stringData: secretMap })).toEqual({ stringData: { user: SECRET, password: SECRET } });
  });

  it("computes deterministic provider outputs", () => {
    const a = computedState("random:index/randomPassword:RandomPassword", "x", { length: 20 });
    expect(a.result).toHaveLength(20);
    expect(computedState("random:index/randomPassword:RandomPassword", "x", { length: 20 })).toEqual(a);
    expect((computedState("kubernetes:core/v1:Secret", "y", {}) as any).metadata.name).toMatch(/^y-[0-9a-f]{8}$/);
  });

  it("finds leaked secret placeholders", () => {
    expect(leakedPlaceholders({ a: "offline-placeholder-for-diaspomoney-platform-sentryDsn" })).toEqual(["offline-placeholder-for-diaspomoney-platform-sentryDsn"]);
    expect(leakedPlaceholders({ a: SECRET })).toEqual([]);
  });
});
