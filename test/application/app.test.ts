import { describe, expect, it } from "vitest";
import { environments } from "../../stacks";
import { cachedPlan, configObject, inputs, k8sObject, ofType, planStack, STACKS, type Plan } from "../harness";

const ns = (stack: string) => `diaspomoney-${stack}`;
const deployment = (plan: Plan, stack: string, name = "web") => inputs(k8sObject(plan, "Deployment", name, ns(stack)));
const podSpec = (plan: Plan, stack: string, name = "web") => deployment(plan, stack, name).spec.template.spec;
const container = (plan: Plan, stack: string, name = "web") => podSpec(plan, stack, name).containers[0];
const usesVault = (stack: string) => configObject(stack, "app").fieldEncryption.kms.provider === "vault-transit";
const appObjects = (plan: Plan) => plan.resources.filter((r) => r.parent?.includes("diaspomoney:app:AppDeployment"));

/** Env variables a pod may carry as literal values: none of them is a secret. */
const PLAIN_ENV = new Set(["PORT", "METRICS_PORT", "APP_RELEASE", "APP_TRACK", "APP_ENVIRONMENT", "LOG_LEVEL"]);

describe.each(STACKS)("the app in %s", (stack) => {
  const spec = environments[stack].app;

  it("runs the stack's replicas, autoscaled on CPU 70 % and memory 80 % up to its maximum", async () => {
    const plan = await cachedPlan(stack);
    expect(deployment(plan, stack).spec.replicas).toBe({ dev: 3, rct: 3, prod: 5 }[stack]);
    const hpa = inputs(k8sObject(plan, "HorizontalPodAutoscaler", "web", ns(stack))).spec;
    expect(hpa.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "web" });
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([spec.replicas, spec.maxReplicas]);
    expect(hpa.metrics).toEqual([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
      { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } },
    ]);
  });

  it("gets VPA recommendations without letting VPA evict pods, and a disruption budget", async () => {
    const plan = await cachedPlan(stack);
    const vpa = inputs(k8sObject(plan, "VerticalPodAutoscaler", "web", ns(stack)));
    expect(vpa.apiVersion).toBe("autoscaling.k8s.io/v1");
    expect(vpa.spec.targetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "web" });
    expect(vpa.spec.updatePolicy).toEqual({ updateMode: "Off" });
    const pdb = inputs(k8sObject(plan, "PodDisruptionBudget", "web", ns(stack))).spec;
    expect(pdb.maxUnavailable).toBe(1);
    expect(pdb.selector.matchLabels).toEqual(deployment(plan, stack).spec.selector.matchLabels);
  });

  it("rolls out without ever going below capacity, spread over zones and hosts", async () => {
    const plan = await cachedPlan(stack);
    expect(deployment(plan, stack).spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } });
    const spread = podSpec(plan, stack).topologySpreadConstraints;
    expect(spread.map((c: any) => [c.topologyKey, c.maxSkew, c.whenUnsatisfiable])).toEqual([
      ["topology.kubernetes.io/zone", 1, "DoNotSchedule"],
      ["kubernetes.io/hostname", 1, "ScheduleAnyway"],
    ]);
    for (const c of spread) expect(c.labelSelector.matchLabels).toEqual(deployment(plan, stack).spec.selector.matchLabels);
  });

  it("meets Pod Security restricted: non-root 10001, no escalation, no capability, seccomp, read-only root", async () => {
    const plan = await cachedPlan(stack);
    const pod = podSpec(plan, stack);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe("web");
    expect(inputs(k8sObject(plan, "ServiceAccount", "web", ns(stack))).automountServiceAccountToken).toBe(false);
    expect(pod.hostNetwork ?? false).toBe(false);
    const c = container(plan, stack);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.securityContext.capabilities.add).toBeUndefined();
    // What Next.js writes at run time goes to scratch space, nowhere else; the CA is read-only, and
    // with Vault Transit so is the short-lived token of audience vault (never an API-server token).
    const vault = usesVault(stack);
    expect(c.volumeMounts).toEqual([
      { name: "tmp", mountPath: "/tmp" },
      { name: "next-cache", mountPath: "/app/.next/cache" },
      { name: "data-tls", mountPath: "/etc/diaspomoney/data-tls", readOnly: true },
      ...(vault ? [{ name: "vault-token", mountPath: "/var/run/secrets/vault", readOnly: true }] : []),
    ]);
    expect(pod.volumes.map((v: any) => [v.name, Object.keys(v).filter((k) => k !== "name")])).toEqual([
      ["tmp", ["emptyDir"]],
      ["next-cache", ["emptyDir"]],
      ["data-tls", ["secret"]],
      ...(vault ? [["vault-token", ["projected"]]] : []),
    ]);
    if (vault) expect(pod.volumes[3].projected.sources).toEqual([{ serviceAccountToken: { audience: "vault", expirationSeconds: 600, path: "token" } }]);
    expect(c.resources).toEqual(spec.resources);
  });

  it("probes startup and liveness on /api/health, readiness on /api/health/ready", async () => {
    const plan = await cachedPlan(stack);
    const c = container(plan, stack);
    expect(c.ports).toEqual([
      { name: "http", containerPort: 3000, protocol: "TCP" },
      { name: "metrics", containerPort: 9464, protocol: "TCP" },
    ]);
    expect(c.env).toContainEqual({ name: "METRICS_PORT", value: "9464" });
    expect(c.startupProbe.httpGet).toEqual({ path: "/api/health", port: "http", scheme: "HTTP" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/api/health", port: "http", scheme: "HTTP" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/api/health/ready", port: "http", scheme: "HTTP" });
    // The readiness timeout must exceed the app's own 1.5 s bound per dependency check.
    expect(c.readinessProbe.timeoutSeconds).toBeGreaterThanOrEqual(2);
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(60);
    // Drain: the pre-stop pause plus the server's 25 s drain fit in the grace period.
    expect(c.lifecycle.preStop.sleep.seconds + 25).toBeLessThan(podSpec(plan, stack).terminationGracePeriodSeconds);
  });

  it("reads connections and keys from Secrets, the Sentry DSN by reference, and no secret as a literal", async () => {
    const plan = await cachedPlan(stack);
    const c = container(plan, stack);
    expect(c.envFrom).toEqual([{ secretRef: { name: "data-connections" } }, { secretRef: { name: "web-field-encryption" } }]);
    expect(c.env.find((e: any) => e.name === "SENTRY_DSN")).toEqual({
      name: "SENTRY_DSN",
      valueFrom: { secretKeyRef: { name: "sentry", key: "SENTRY_DSN", optional: true } },
    });
    for (const e of c.env) {
      if ("value" in e) expect(PLAIN_ENV.has(e.name), `${e.name} is a literal`).toBe(true);
      else expect(e.valueFrom.secretKeyRef ?? e.valueFrom.fieldRef, e.name).toBeDefined();
    }
    expect(c.env.find((e: any) => e.name === "APP_ENVIRONMENT").value).toBe(stack);
    // In what the app's objects are given (their dependencies' URNs name password resources, harmlessly).
    expect(JSON.stringify(appObjects(plan).map(inputs))).not.toMatch(/offline-placeholder|mongodb:\/\/|password/i);
  });

  it("mounts only the internal CA certificate, read-only, where the connection Secret's file settings point", async () => {
    const plan = await cachedPlan(stack);
    const pod = podSpec(plan, stack);
    const volume = pod.volumes.find((v: any) => v.name === "data-tls");
    expect(volume.secret).toEqual({ secretName: "data-client-tls", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o444 });
    expect(container(plan, stack).volumeMounts).toContainEqual({ name: "data-tls", mountPath: "/etc/diaspomoney/data-tls", readOnly: true });
    const secret = inputs(k8sObject(plan, "Secret", "data-connections", ns(stack)));
    expect(Object.keys(secret.stringData)).toEqual(expect.arrayContaining(["KAFKA_CA_FILE", "REDIS_CA_FILE", "MONGODB_URI"]));
  });

  it("gives the pods the wrapped data keys as a Secret and the KMS by reference: the master key never leaves the KMS", async () => {
    const plan = await cachedPlan(stack);
    const fe = configObject(stack, "app").fieldEncryption;
    const secret = inputs(k8sObject(plan, "Secret", "web-field-encryption", ns(stack)));
    // Every value is masked (the data keys are a secret, so is the whole Secret); no raw-key variable.
    expect(Object.values(secret.stringData).every((v) => v === "[secret]")).toBe(true);
    const kmsSettings = fe.kms.provider === "aws-kms" ? ["AWS_REGION"] : ["VAULT_ADDR", "FIELD_ENCRYPTION_VAULT_MOUNT", "VAULT_K8S_ROLE", "VAULT_K8S_AUTH_MOUNT", "VAULT_K8S_TOKEN_FILE"];
    expect(Object.keys(secret.stringData).sort()).toEqual(["FIELD_ENCRYPTION_DATA_KEYS", "FIELD_ENCRYPTION_KMS", "FIELD_ENCRYPTION_KMS_KEY", ...kmsSettings].sort());
    expect(Object.keys(secret.stringData)).not.toContain("FIELD_ENCRYPTION_KEYS");
    const sa = inputs(k8sObject(plan, "ServiceAccount", "web", ns(stack)));
    expect(sa.automountServiceAccountToken).toBe(false);
    // AWS KMS through IRSA: the role is on the ServiceAccount, no credential anywhere.
    if (fe.kms.provider === "aws-kms") expect(sa.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": fe.kms.roleArn });
    else expect(sa.metadata.annotations).toBeUndefined();
  });

  it("accepts traffic from Traefik on http and from Prometheus on metrics only, and reaches only the data ports, public HTTPS and the KMS", async () => {
    const plan = await cachedPlan(stack);
    const policy = inputs(k8sObject(plan, "NetworkPolicy", "web", ns(stack))).spec;
    expect(policy.podSelector.matchLabels).toMatchObject({ "app.kubernetes.io/name": "web" });
    expect(policy.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } } }], ports: [{ protocol: "TCP", port: 3000 }] },
      { from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }], ports: [{ protocol: "TCP", port: 9464 }] },
    ]);
    // Vault in the cluster (namespace vault) is a third destination; AWS KMS is public HTTPS.
    expect(policy.egress).toHaveLength(usesVault(stack) ? 3 : 2);
    if (usesVault(stack)) expect(policy.egress[2]).toEqual({ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "vault" } } }], ports: [{ protocol: "TCP", port: 8200 }] });
    expect(policy.egress[0]).toEqual({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": `${ns(stack)}-infra` } } }],
      ports: [27017, 6379, 9093].map((port) => ({ protocol: "TCP", port })),
    });
    expect(policy.egress[1].ports).toEqual([{ protocol: "TCP", port: 443 }]);
    expect(policy.egress[1].to[0].ipBlock).toEqual({ cidr: "0.0.0.0/0", except: expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]) });
  });

  it("exposes Service web on port http/3000 (and metrics/9464 for the scraper) and routes all traffic to http", async () => {
    const plan = await cachedPlan(stack);
    const svc = inputs(k8sObject(plan, "Service", "web", ns(stack)));
    expect(svc.metadata.labels["app.kubernetes.io/name"]).toBe("web");
    expect(svc.spec.ports).toEqual([
      { name: "http", port: 3000, targetPort: "http", protocol: "TCP" },
      { name: "metrics", port: 9464, targetPort: "metrics", protocol: "TCP" },
    ]);
    expect(svc.spec.selector).toEqual(deployment(plan, stack).spec.selector.matchLabels);
    expect((plan.outputs as any).app.routeTargets).toEqual([{ service: "web", port: 3000, weight: 100 }]);
  });
});

describe("release strategies", () => {
  const image = "ghcr.io/diaspomoney/web:1.4.0@sha256:" + "a".repeat(64);
  const next = "ghcr.io/diaspomoney/web:1.5.0@sha256:" + "b".repeat(64);

  it("canary: a second Deployment and Service with the canary image, weighted on the route", async () => {
    const plan = await planStack("prod", { config: { app: { ...configObject("prod", "app"), image, release: { strategy: "canary", canaryImage: next, canaryWeight: 10 } } } });
    expect(container(plan, "prod").image).toBe(image);
    expect(container(plan, "prod", "web-canary").image).toBe(next);
    expect(container(plan, "prod", "web-canary").env.find((e: any) => e.name === "APP_TRACK").value).toBe("canary");
    expect(deployment(plan, "prod").spec.replicas).toBe(5);
    expect(deployment(plan, "prod", "web-canary").spec.replicas).toBe(1);
    const canaryHpa = inputs(k8sObject(plan, "HorizontalPodAutoscaler", "web-canary", "diaspomoney-prod")).spec;
    expect([canaryHpa.minReplicas, canaryHpa.maxReplicas]).toEqual([1, 2]);
    expect(inputs(k8sObject(plan, "Service", "web-canary", "diaspomoney-prod")).spec.selector).toEqual(deployment(plan, "prod", "web-canary").spec.selector.matchLabels);
    expect((plan.outputs as any).app.routeTargets).toEqual([
      { service: "web", port: 3000, weight: 90 },
      { service: "web-canary", port: 3000, weight: 10 },
    ]);
  });

  it("blue/green: two full colours, the route on the active one, switching changes only the route", async () => {
    const release = (active: string) => ({ app: { ...configObject("rct", "app"), image, release: { strategy: "blueGreen", blueImage: image, greenImage: next, active } } });
    const blue = await planStack("rct", { config: release("blue") });
    const green = await planStack("rct", { config: release("green") });
    const deployments = (p: Plan) => ofType(p, "kubernetes:apps/v1:Deployment").filter((r) => r.parent?.includes("AppDeployment"));
    expect(deployments(blue).map((r) => inputs(r).metadata.name)).toEqual(["web-blue", "web-green"]);
    expect(container(blue, "rct", "web-blue").image).toBe(image);
    expect(container(blue, "rct", "web-green").image).toBe(next);
    for (const colour of ["web-blue", "web-green"]) expect(deployment(blue, "rct", colour).spec.replicas).toBe(3);

    expect((blue.outputs as any).app.routeTargets).toEqual([{ service: "web-blue", port: 3000, weight: 100 }]);
    expect((green.outputs as any).app.routeTargets).toEqual([{ service: "web-green", port: 3000, weight: 100 }]);
    // One Service per colour, each selecting its own pods only (no alias: metrics would be scraped twice).
    const services = ofType(blue, "kubernetes:core/v1:Service").filter((r) => r.parent?.includes("AppDeployment"));
    expect(services.map((r) => [inputs(r).metadata.name, inputs(r).spec.selector["app.kubernetes.io/instance"]])).toEqual([
      ["web-blue", "web-blue"],
      ["web-green", "web-green"],
    ]);
    // The switch restarts nothing: both colours' Deployments are identical in the two plans.
    expect(deployments(green).map(inputs)).toEqual(deployments(blue).map(inputs));
  });

  it("rotation: appending a wrapped data key makes it the purpose's active key, keeping the old one for reading", async () => {
    const app = configObject("dev", "app");
    const rotated = { id: "banking-2", purpose: "banking", wrapped: "vault:v2:" + "Q".repeat(64) };
    const plan = await planStack("dev", { config: { app: { ...app, fieldEncryption: { ...app.fieldEncryption, dataKeys: [...app.fieldEncryption.dataKeys, rotated] } } } });
    const fe = (plan.outputs as any).app.fieldEncryption;
    expect(fe.keyIds).toEqual(["banking-1", "contact-1", "identity-1", "banking-2"]);
    expect(fe.activeKeys).toEqual({ banking: "banking-2", contact: "contact-1", identity: "identity-1" });
    // The Secret stays masked in the plan, and the pods roll when it changes.
    expect(inputs(k8sObject(plan, "Secret", "web-field-encryption", ns("dev"))).stringData.FIELD_ENCRYPTION_DATA_KEYS).toBe("[secret]");
    const before = deployment(await cachedPlan("dev"), "dev").spec.template.metadata.annotations["checksum/web-field-encryption"];
    expect(deployment(plan, "dev").spec.template.metadata.annotations["checksum/web-field-encryption"]).not.toBe(before);
    expect(podSpec(plan, "dev").containers[0].envFrom[1]).toEqual({ secretRef: { name: "web-field-encryption" } });
  });

  it("no random key is generated and no raw key reaches the state: the master key stays in the KMS", async () => {
    for (const stack of STACKS) {
      const plan = await cachedPlan(stack);
      expect(ofType(plan, "random:index/randomBytes:RandomBytes").filter((r) => r.name.includes("field"))).toEqual([]);
      const fe = (plan.outputs as any).app.fieldEncryption;
      expect(fe.kms).toBe(configObject(stack, "app").fieldEncryption.kms.provider);
      expect(Object.keys(fe.activeKeys).sort()).toEqual(["banking", "contact", "identity"]);
    }
    expect((await cachedPlan("prod") as any).outputs.app.fieldEncryption.masterKey).toMatch(/^arn:aws:kms:eu-west-3:/);
  });
});
