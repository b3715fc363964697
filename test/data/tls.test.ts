import { describe, expect, it } from "vitest";
import { listenerDnsNames } from "../../components/kafka";
import { memberCertificateDnsNames } from "../../components/mongodb";
import { redisCertificateDnsNames } from "../../components/redis";
import { DATA_TRUST } from "../../infra/data";
import { CERT_MANAGER_NAMESPACE } from "../../infra/edge";
import { cachedPlan, CLUSTER_STACKS, inputs, k8sObject, ofType, STACKS, type Plan, type RecordedResource } from "../harness";

/** The cluster stack each environment's committed config names. */
const clusterOf = (stack: string) => (stack === "prod" ? "cluster-prod" : "cluster-nonprod");

const CERT_MANAGER_CHART = "kubernetes:helm.sh/v4:Chart";

function certificates(plan: Plan, namespace: string): RecordedResource[] {
  return ofType(plan, "kubernetes:cert-manager.io/v1:Certificate").filter((r) => inputs(r).metadata.namespace === namespace);
}

describe.each(STACKS)("the internal CA of %s", (stack) => {
  const ca = `diaspomoney-${stack}-internal-ca`;
  const app = `diaspomoney-${stack}`;
  const infra = `diaspomoney-${stack}-infra`;

  it("is a ClusterIssuer of its cluster stack, signing with a CA Secret in cert-manager's namespace, self-signed by its own Issuer", async () => {
    const plan = await cachedPlan(clusterOf(stack));
    const issuer = inputs(k8sObject(plan, "ClusterIssuer", ca));
    expect(issuer.metadata.namespace).toBeUndefined();
    const caCert = k8sObject(plan, "Certificate", ca, CERT_MANAGER_NAMESPACE);
    expect(issuer.spec).toEqual({ ca: { secretName: inputs(caCert).spec.secretName } });
    expect(inputs(caCert).spec).toMatchObject({
      isCA: true,
      secretName: ca,
      duration: "43800h",
      privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Never" },
      issuerRef: { name: `diaspomoney-${stack}-selfsigned`, kind: "Issuer", group: "cert-manager.io" },
    });
    const selfSigned = k8sObject(plan, "Issuer", `diaspomoney-${stack}-selfsigned`, CERT_MANAGER_NAMESPACE);
    expect(inputs(selfSigned).spec).toEqual({ selfSigned: {} });
    expect(k8sObject(plan, "ClusterIssuer", ca).dependsOn).toContain(caCert.urn);
  });

  it("issues every certificate of the data layer, in the infra namespace and the app's", async () => {
    const plan = await cachedPlan(stack);
    const issued = [...certificates(plan, infra), ...certificates(plan, app).filter((r) => inputs(r).metadata.name === "data-client")];
    expect(issued.map((r) => inputs(r).metadata.name).sort()).toEqual(["data-client", "kafka-listener-tls", "mongodb-ssl", "mongodb-ssl-internal", "redis-tls"]);
    // The issuer is the cluster stack's: the environment names what the cluster's contract publishes.
    expect((plan.outputs as any).environment.cluster.stack).toBe(clusterOf(stack));
    expect((plan.outputs as any).data.tls.clusterIssuer).toBe(ca);
    for (const cert of issued) {
      expect(inputs(cert).spec.issuerRef, inputs(cert).metadata.name).toEqual({ name: ca, kind: "ClusterIssuer", group: "cert-manager.io" });
      expect(inputs(cert).spec.privateKey, inputs(cert).metadata.name).toMatchObject({ encoding: "PKCS8", rotationPolicy: "Always" });
    }
  });

  it("gives Kafka's client listener a certificate for the bootstrap and every broker, and leaves the rest to Strimzi", async () => {
    const plan = await cachedPlan(stack);
    const kafka = k8sObject(plan, "Kafka", "kafka", infra);
    const listeners = inputs(kafka).spec.kafka.listeners;
    expect(listeners).toHaveLength(1);
    const ref = listeners[0].configuration.brokerCertChainAndKey;
    const cert = certificates(plan, infra).find((r) => inputs(r).spec.secretName === ref.secretName)!;
    expect(inputs(cert).spec.issuerRef.name).toBe(ca);
    expect(ref).toEqual({ secretName: "kafka-listener-tls", certificate: "tls.crt", key: "tls.key" });
    expect(inputs(cert).spec.dnsNames).toEqual(listenerDnsNames("kafka", infra));
    expect(inputs(cert).spec.dnsNames).toEqual(
      expect.arrayContaining([`kafka-kafka-bootstrap.${infra}.svc`, `*.kafka-kafka-brokers.${infra}.svc`, `*.kafka-kafka-brokers.${infra}.svc.cluster.local`]),
    );
    expect(inputs(kafka).spec.clusterCa).toBeUndefined();
    expect(kafka.dependsOn).toContain(cert.urn);
  });

  it("has MongoDB serve and authenticate members with certificates from the CA, created before the replica set", async () => {
    const plan = await cachedPlan(stack);
    const psmdb = k8sObject(plan, "PerconaServerMongoDB", "mongodb", infra);
    const { secrets, tls } = inputs(psmdb).spec;
    expect(tls).toEqual({ mode: "requireTLS", allowInvalidCertificates: false });
    for (const secretName of [secrets.ssl, secrets.sslInternal]) {
      const cert = k8sObject(plan, "Certificate", secretName, infra);
      expect(inputs(cert).spec.secretName).toBe(secretName);
      expect(inputs(cert).spec.dnsNames).toEqual(memberCertificateDnsNames("mongodb", infra));
      expect(inputs(cert).metadata.annotations).toEqual({ "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "600" });
      expect(psmdb.dependsOn).toContain(cert.urn);
    }
  });

  it("turns TLS on in Redis with a certificate from the CA", async () => {
    const plan = await cachedPlan(stack);
    const redis = k8sObject(plan, "RedisCluster", "redis", infra);
    expect(inputs(redis).spec.TLS).toEqual({ ca: "ca.crt", cert: "tls.crt", key: "tls.key", secret: { secretName: "redis-tls" } });
    const cert = k8sObject(plan, "Certificate", "redis-tls", infra);
    expect(inputs(cert).spec.dnsNames).toEqual(redisCertificateDnsNames("redis", infra));
    expect(redis.dependsOn).toContain(cert.urn);
  });

  it("puts the CA in the app namespace through a client certificate's Secret, mountable as the contract says", async () => {
    const plan = await cachedPlan(stack);
    const trust = inputs(k8sObject(plan, "Certificate", "data-client", app));
    expect(trust.spec.secretName).toBe(DATA_TRUST.secretName);
    expect(trust.spec.usages).toEqual(["client auth", "digital signature"]);
    // A subject organization would let mongod take this client for a replica set member.
    expect(trust.spec.subject).toBeUndefined();
    expect((plan.outputs as any).data.tls.trust).toEqual({
      secretName: "data-client-tls",
      caKey: "ca.crt",
      mountPath: "/etc/diaspomoney/data-tls",
      namespace: app,
      certificate: "data-client",
    });
  });
});

describe("the internal CA and cert-manager", () => {
  it.each(STACKS)("are not %s's: it holds no issuer, no CA and nothing in cert-manager's namespace", async (stack) => {
    const plan = await cachedPlan(stack);
    expect(ofType(plan, "kubernetes:cert-manager.io/v1:ClusterIssuer")).toEqual([]);
    expect(plan.resources.filter((r) => (r.inputs as any).metadata?.namespace === CERT_MANAGER_NAMESPACE || (r.inputs as any).namespace === CERT_MANAGER_NAMESPACE)).toEqual([]);
    expect(ofType(plan, CERT_MANAGER_CHART).filter((r) => inputs(r).name === "cert-manager")).toEqual([]);
  });

  it.each(CLUSTER_STACKS)("wait for cert-manager's chart and the CRDs in %s", async (stack) => {
    const plan = await cachedPlan(stack);
    const chart = ofType(plan, CERT_MANAGER_CHART).find((r) => inputs(r).name === "cert-manager")!;
    // Depending on a component is depending on each of its children: every CRD file.
    const crdsUrn = plan.resources.find((r) => r.type === "diaspomoney:cluster:PlatformCrds")!.urn;
    const crdFiles = plan.resources.filter((r) => r.parent === crdsUrn).map((r) => r.urn);
    expect(crdFiles.length).toBeGreaterThan(20);
    const envs = stack === "cluster-prod" ? ["prod"] : ["dev", "rct"];
    for (const env of envs) {
      for (const kind of ["Issuer", "Certificate", "ClusterIssuer"]) {
        const name = kind === "Issuer" ? `diaspomoney-${env}-selfsigned` : `diaspomoney-${env}-internal-ca`;
        expect(k8sObject(plan, kind, name).dependsOn, kind).toEqual(expect.arrayContaining([chart.urn, ...crdFiles]));
      }
    }
    expect(inputs(chart).skipCrds).toBe(true);
  });

  it.each(CLUSTER_STACKS)("protect each CA certificate in %s: replacing it would break every client's trust", async (stack) => {
    const plan = await cachedPlan(stack);
    const cas = ofType(plan, "kubernetes:cert-manager.io/v1:Certificate").filter((r) => inputs(r).spec.isCA);
    expect(cas.length).toBeGreaterThan(0);
    for (const ca of cas) expect([ca.protect, ca.retainOnDelete], ca.name).toEqual([true, true]);
  });
});
