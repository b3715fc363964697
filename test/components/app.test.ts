import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { AppDeployment, fieldEncryptionSettings, releaseVariants, type AppDeploymentArgs } from "../../components/app";
import { inputs, k8sObject, planProgram } from "../harness";

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

  const wrappedKeys = [
    { id: "banking-1", purpose: "banking", wrapped: "vault:v1:YmFua2luZy0xLXdyYXBwZWQ=" },
    { id: "contact-1", purpose: "contact", wrapped: "vault:v1:Y29udGFjdC0xLXdyYXBwZWQ=" },
    { id: "banking-2", purpose: "banking", wrapped: "vault:v2:YmFua2luZy0yLXdyYXBwZWQ=" },
  ];
  const valueOf = <T>(o: pulumi.Input<T>) => new Promise<T>((resolve) => void pulumi.output(o).apply((v) => (resolve(v as T), v)));

  it("holds only the KMS reference and wrapped data keys: no key material is generated or stored", async () => {
    const p = await plan(args({ fieldEncryption: { dataKeys: wrappedKeys } }));
    expect(p.resources.filter((r) => r.type.startsWith("random:"))).toEqual([]);
    const secret = inputs(k8sObject(p, "Secret", "web-field-encryption", "apps"));
    expect(Object.keys(secret.stringData).sort()).toEqual([
      "FIELD_ENCRYPTION_DATA_KEYS",
      "FIELD_ENCRYPTION_KMS",
      "FIELD_ENCRYPTION_KMS_KEY",
      "FIELD_ENCRYPTION_VAULT_MOUNT",
      "VAULT_ADDR",
      "VAULT_K8S_AUTH_MOUNT",
      "VAULT_K8S_ROLE",
      "VAULT_K8S_TOKEN_FILE",
    ]);
    // What the app reads: the KMS reference and the wrapped keys in order, the last of each purpose active.
    const settings = fieldEncryptionSettings("web", { dataKeys: wrappedKeys });
    const { FIELD_ENCRYPTION_DATA_KEYS, ...reference } = settings.env;
    expect(reference).toEqual({
      FIELD_ENCRYPTION_KMS: "vault-transit",
      FIELD_ENCRYPTION_KMS_KEY: "web-fields",
      VAULT_ADDR: "https://vault.vault.svc:8200",
      FIELD_ENCRYPTION_VAULT_MOUNT: "transit",
      VAULT_K8S_ROLE: "web",
      VAULT_K8S_AUTH_MOUNT: "kubernetes",
      VAULT_K8S_TOKEN_FILE: "/var/run/secrets/vault/token",
    });
    expect(JSON.parse(await valueOf(FIELD_ENCRYPTION_DATA_KEYS))).toEqual(wrappedKeys);
    expect(settings.activeKeys).toEqual({ banking: "banking-2", contact: "contact-1" });
    const template = inputs(k8sObject(p, "Deployment", "web", "apps")).spec.template;
    expect(template.metadata.annotations["field-encryption-keys"]).toBe("banking-1,contact-1,banking-2");
  });

  it("gives the pods a short-lived token for an in-cluster Vault only, and the way to it", async () => {
    const p = await plan(args({ fieldEncryption: { dataKeys: wrappedKeys } }));
    const pod = inputs(k8sObject(p, "Deployment", "web", "apps")).spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.volumes).toContainEqual({ name: "vault-token", projected: { sources: [{ serviceAccountToken: { audience: "vault", expirationSeconds: 600, path: "token" } }], defaultMode: 0o444 } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: "vault-token", mountPath: "/var/run/secrets/vault", readOnly: true });
    const egress = inputs(k8sObject(p, "NetworkPolicy", "web", "apps")).spec.egress;
    expect(egress).toContainEqual({ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "vault" } } }], ports: [{ protocol: "TCP", port: 8200 }] });

    const external = await plan(args({ fieldEncryption: { kms: { provider: "vault-transit", address: "https://vault.example.eu:8200", key: "fields" }, dataKeys: wrappedKeys } }));
    expect(inputs(k8sObject(external, "NetworkPolicy", "web", "apps")).spec.egress).toHaveLength(2);
    expect(fieldEncryptionSettings("web", { kms: { provider: "vault-transit", address: "https://vault.example.eu:8200", key: "fields" }, dataKeys: wrappedKeys }).env).toMatchObject({
      VAULT_ADDR: "https://vault.example.eu:8200",
      FIELD_ENCRYPTION_KMS_KEY: "fields",
    });
  });

  it("AWS KMS: the key ARN and region for the pods, the IRSA role on the ServiceAccount, no Vault token", async () => {
    const keyArn = "arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const roleArn = "arn:aws:iam::111122223333:role/diaspomoney-web-kms";
    const fieldEncryption = { kms: { provider: "aws-kms" as const, keyArn, region: "eu-west-3", roleArn }, dataKeys: [{ id: "banking-1", purpose: "banking", wrapped: "AQICAHh...==" }] };
    const p = await plan(args({ fieldEncryption }));
    expect(Object.keys(inputs(k8sObject(p, "Secret", "web-field-encryption", "apps")).stringData).sort()).toEqual(["AWS_REGION", "FIELD_ENCRYPTION_DATA_KEYS", "FIELD_ENCRYPTION_KMS", "FIELD_ENCRYPTION_KMS_KEY"]);
    expect(fieldEncryptionSettings("web", fieldEncryption).env).toMatchObject({ FIELD_ENCRYPTION_KMS: "aws-kms", FIELD_ENCRYPTION_KMS_KEY: keyArn, AWS_REGION: "eu-west-3" });
    expect(inputs(k8sObject(p, "ServiceAccount", "web", "apps")).metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": roleArn });
    const pod = inputs(k8sObject(p, "Deployment", "web", "apps")).spec.template.spec;
    expect(pod.volumes.map((v: { name: string }) => v.name)).not.toContain("vault-token");
    expect(inputs(k8sObject(p, "NetworkPolicy", "web", "apps")).spec.egress).toHaveLength(2);
  });

  it("without data keys, configures nothing: the pods will refuse to start", () => {
    for (const fe of [undefined, {}, { kms: { provider: "vault-transit" as const }, dataKeys: [] }]) {
      const settings = fieldEncryptionSettings("web", fe);
      expect([settings.env, settings.volumes, settings.egressTo], JSON.stringify(fe)).toEqual([{}, [], undefined]);
    }
  });

  it("refuses malformed or repeated data key ids before anything is registered", () => {
    expect(() => fieldEncryptionSettings("web", { dataKeys: [{ id: "bank ing", purpose: "banking", wrapped: "x" }] })).toThrow(/letters, digits/);
    expect(() => fieldEncryptionSettings("web", { dataKeys: [{ id: "b-1", purpose: "Banking", wrapped: "x" }] })).toThrow(/purpose "Banking"/);
    expect(() => fieldEncryptionSettings("web", { dataKeys: [wrappedKeys[0], { ...wrappedKeys[0], wrapped: "y" }] })).toThrow(/banking-1 appears twice/);
    expect(fieldEncryptionSettings("web", { dataKeys: wrappedKeys }).keyIds).toEqual(["banking-1", "contact-1", "banking-2"]);
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
