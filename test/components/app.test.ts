import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppDeployment, releaseVariants, type AppDeploymentArgs } from "../../components/app";
import { computedState } from "../../infra/plan/recorder";
import { inputs, k8sObject, ofType, planProgram } from "../harness";

const labels = { "app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "test", "app.kubernetes.io/managed-by": "pulumi" };
const selectorLabels = { "app.kubernetes.io/name": "web" };

function args(over: Partial<AppDeploymentArgs> = {}): AppDeploymentArgs {
  return {
    namespace: "apps",
    labels,
    selectorLabels,
    image: "registry.example/web:1",
    replicas: 3,
    maxReplicas: 6,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    connectionSecretName: "connections",
    network: { ingressFrom: [{ "app.kubernetes.io/name": "proxy" }], dataNamespace: "data", dataPorts: [27017] },
    ...over,
  };
}

const plan = (a: AppDeploymentArgs) => planProgram("dev", async () => (new AppDeployment("app", a), {}));

describe("release variants", () => {
  it("rolling: one full-size Deployment taking all the traffic", () => {
    expect(releaseVariants("web", "img:1", { strategy: "rolling" }, 3, 6)).toEqual([
      { name: "web", track: "stable", image: "img:1", minReplicas: 3, maxReplicas: 6, weight: 100 },
    ]);
  });

  it("canary: a second Deployment sized to its share of the traffic", () => {
    expect(releaseVariants("web", "img:1", { strategy: "canary", canaryImage: "img:2", canaryWeight: 20 }, 5, 20)).toEqual([
      { name: "web", track: "stable", image: "img:1", minReplicas: 5, maxReplicas: 20, weight: 80 },
      { name: "web-canary", track: "canary", image: "img:2", minReplicas: 1, maxReplicas: 4, weight: 20 },
    ]);
  });

  it("canary: weights always add up to 100 and the canary always has a pod", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 50 }), (w, replicas, extra) => {
        const [stable, canary] = releaseVariants("web", "a", { strategy: "canary", canaryImage: "b", canaryWeight: w }, replicas, replicas + extra);
        expect(stable.weight + canary.weight).toBe(100);
        expect(canary.minReplicas).toBeGreaterThanOrEqual(1);
        expect(canary.minReplicas).toBeLessThanOrEqual(Math.max(1, replicas));
        expect(canary.maxReplicas).toBeGreaterThanOrEqual(canary.minReplicas);
      }),
    );
  });

  it("blue/green: two full-size colours, all the traffic on the active one", () => {
    for (const active of ["blue", "green"] as const) {
      const v = releaseVariants("web", "unused", { strategy: "blueGreen", blueImage: "img:b", greenImage: "img:g", active }, 5, 20);
      expect(v.map((x) => [x.name, x.image, x.minReplicas, x.maxReplicas, x.weight])).toEqual([
        ["web-blue", "img:b", 5, 20, active === "blue" ? 100 : 0],
        ["web-green", "img:g", 5, 20, active === "green" ? 100 : 0],
      ]);
    }
  });
});

describe("AppDeployment", () => {
  it("omits Sentry and public HTTPS when not asked for", async () => {
    const p = await plan(args({ network: { ingressFrom: [{ "app.kubernetes.io/name": "proxy" }], dataNamespace: "data", dataPorts: [27017, 6379], publicHttps: false } }));
    const container = inputs(k8sObject(p, "Deployment", "web", "apps")).spec.template.spec.containers[0];
    expect(container.env.map((e: { name: string }) => e.name)).not.toContain("SENTRY_DSN");
    const policy = inputs(k8sObject(p, "NetworkPolicy", "web", "apps")).spec;
    expect(policy.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "data" } } }],
        ports: [
          { protocol: "TCP", port: 27017 },
          { protocol: "TCP", port: 6379 },
        ],
      },
    ]);
    expect(policy.ingress).toEqual([{ from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "proxy" } } }], ports: [{ protocol: "TCP", port: 3000 }] }]);
  });

  it("takes the Sentry DSN from a secret reference, never as a value", async () => {
    const p = await plan(args({ sentry: { secretName: "sentry" } }));
    const env = inputs(k8sObject(p, "Deployment", "web", "apps")).spec.template.spec.containers[0].env;
    expect(env.find((e: { name: string }) => e.name === "SENTRY_DSN")).toEqual({
      name: "SENTRY_DSN",
      valueFrom: { secretKeyRef: { name: "sentry", key: "SENTRY_DSN", optional: true } },
    });
  });

  it("generates one 256-bit key per key id, the last one active, and restarts pods when the set changes", async () => {
    const p = await plan(args({ fieldEncryption: { keyIds: ["k1", "k2"] } }));
    const keys = ofType(p, "random:index/randomBytes:RandomBytes");
    expect(keys.map((k) => [k.name, inputs(k).length])).toEqual([
      ["app-field-key-k1", 32],
      ["app-field-key-k2", 32],
    ]);
    const secret = inputs(k8sObject(p, "Secret", "web-field-encryption", "apps"));
    expect(Object.keys(secret.stringData).sort()).toEqual(["FIELD_ENCRYPTION_ACTIVE_KEY", "FIELD_ENCRYPTION_KEYS"]);
    expect(secret.stringData.FIELD_ENCRYPTION_KEYS).toBe("[secret]");
    const template = inputs(k8sObject(p, "Deployment", "web", "apps")).spec.template;
    expect(template.metadata.annotations["field-encryption-keys"]).toBe("k1,k2");
    // The key bytes themselves appear nowhere in what the engine would store as plain inputs.
    for (const k of keys) {
      const fake = computedState(k.type, k.name, { length: 32 }).base64 as string;
      expect(JSON.stringify(p)).not.toContain(fake);
    }
  });

  it("applies the key options (protection) to the key material only", async () => {
    const p = await plan(args({ fieldEncryption: { keyOptions: { protect: true, retainOnDelete: true } } }));
    const key = ofType(p, "random:index/randomBytes:RandomBytes")[0];
    expect([key.protect, key.retainOnDelete]).toEqual([true, true]);
    expect(p.resources.filter((r) => r.protect).map((r) => r.type)).toEqual(["random:index/randomBytes:RandomBytes"]);
  });

  it("gives each variant its own selector, so Services, budgets and autoscalers never overlap", async () => {
    const p = await plan(args({ release: { strategy: "canary", canaryImage: "registry.example/web:2", canaryWeight: 10 } }));
    const selectors = ["web", "web-canary"].map((n) => inputs(k8sObject(p, "Deployment", n, "apps")).spec.selector.matchLabels);
    expect(selectors).toEqual([
      { "app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web" },
      { "app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web-canary" },
    ]);
    for (const [i, n] of ["web", "web-canary"].entries()) {
      expect(inputs(k8sObject(p, "Service", n, "apps")).spec.selector).toEqual(selectors[i]);
      expect(inputs(k8sObject(p, "PodDisruptionBudget", n, "apps")).spec.selector.matchLabels).toEqual(selectors[i]);
      expect(inputs(k8sObject(p, "HorizontalPodAutoscaler", n, "apps")).spec.scaleTargetRef.name).toBe(n);
    }
    // One NetworkPolicy covers every variant's pods.
    expect(inputs(k8sObject(p, "NetworkPolicy", "web", "apps")).spec.podSelector.matchLabels).toEqual(selectorLabels);
  });
});
