/**
 * A small environment-shaped program for the offline-plan tests: two namespaces, an app, a Kafka node
 * pool behind an operator chart, monitoring and edge custom resources, a Cloudflare record and a
 * generated password. The real stacks are still growing; this one exercises every path of the
 * artefacts (custom resources, Helm, ConfigGroup, Secrets, clouds) with values the tests control.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface SampleOptions {
  appReplicas?: number;
  kafkaReplicas?: number;
  /** Changes the Deployment's selector (an immutable field). */
  appSelectorLabel?: string;
  kafkaStorage?: string;
  clusterIdentifier?: string;
  /** Writes the generated password, unwrapped, into a ConfigMap: the leak the artefact check must refuse. */
  leakPassword?: boolean;
}

const labels = (name: string) => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/part-of": "diaspomoney",
  "app.kubernetes.io/managed-by": "pulumi",
  "diaspomoney.fr/environment": "test",
});

class Area extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts: pulumi.ComponentResourceOptions) {
    super(`diaspomoney:${type}`, name, {}, opts);
  }
}

export function sampleProgram(o: SampleOptions = {}): () => Promise<Record<string, unknown>> {
  return async () => {
    const env = new Area("platform:Environment", "env", {});
    const provider = new k8s.Provider("kubernetes", { context: "ctx", clusterIdentifier: o.clusterIdentifier ?? "cluster-01" }, { parent: env });
    const cf = new cloudflare.Provider("cloudflare", { apiToken: pulumi.secret("offline-placeholder-for-test-token") }, { parent: env });

    const spaces = new Area("platform:Namespaces", "namespaces", { parent: env, provider });
    const appNs = new k8s.core.v1.Namespace("app", { metadata: { name: "shop", labels: labels("shop") } }, { parent: spaces });
    const infraNs = new k8s.core.v1.Namespace("infra", { metadata: { name: "shop-infra", labels: labels("shop-infra") } }, { parent: spaces });

    const data = new Area("data:Kafka", "kafka", { parent: env, provider });
    const operator = new k8s.helm.v3.Release(
      "strimzi",
      { chart: "strimzi-kafka-operator", version: "1.2.0", namespace: infraNs.metadata.name, values: { watchAnyNamespace: false } },
      { parent: data },
    );
    new k8s.apiextensions.CustomResource(
      "brokers",
      {
        apiVersion: "kafka.strimzi.io/v1",
        kind: "KafkaNodePool",
        metadata: { name: "brokers", namespace: infraNs.metadata.name, labels: { ...labels("brokers"), "strimzi.io/cluster": "events" } },
        spec: { replicas: o.kafkaReplicas ?? 3, roles: ["broker"], storage: { type: "persistent-claim", size: o.kafkaStorage ?? "20Gi" } },
      },
      { parent: data, dependsOn: [operator] },
    );
    const password = new random.RandomPassword("kafka-password", { length: 32, special: false }, { parent: data });
    const connection = new k8s.core.v1.Secret(
      "connection",
      {
        metadata: { name: "data-connections", namespace: appNs.metadata.name, labels: labels("data-connections") },
        stringData: { KAFKA_PASSWORD: password.result, KAFKA_BROKERS: "events-kafka-bootstrap.shop-infra:9093" },
      },
      { parent: data },
    );

    const app = new Area("app:Web", "web", { parent: env, provider });
    const selector = { "app.kubernetes.io/name": o.appSelectorLabel ?? "web" };
    new k8s.core.v1.ConfigMap(
      "web-settings",
      {
        metadata: { name: "web-settings", namespace: appNs.metadata.name, labels: labels("web-settings") },
        data: { LOG_LEVEL: "info", ENABLED: "yes", ...(o.leakPassword ? { PASSWORD: pulumi.unsecret(password.result) } : {}) },
      },
      { parent: app },
    );
    new k8s.apps.v1.Deployment(
      "web",
      {
        metadata: { name: "web", namespace: appNs.metadata.name, labels: labels("web") },
        spec: {
          replicas: o.appReplicas ?? 2,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels: { ...labels("web"), ...selector } },
            spec: {
              containers: [
                {
                  name: "web",
                  image: "ghcr.io/diaspomoney/web:1.0.0",
                  ports: [{ name: "http", containerPort: 3000 }],
                  envFrom: [{ secretRef: { name: connection.metadata.name } }],
                  resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
                },
              ],
            },
          },
        },
      },
      { parent: app },
    );
    const service = new k8s.core.v1.Service(
      "web",
      {
        metadata: { name: "web", namespace: appNs.metadata.name, labels: labels("web") },
        spec: { selector, ports: [{ name: "http", port: 3000, targetPort: "http" }] },
      },
      { parent: app },
    );
    new k8s.apiextensions.CustomResource(
      "web-monitor",
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: "web", namespace: appNs.metadata.name, labels: labels("web") },
        spec: { selector: { matchLabels: selector }, endpoints: [{ port: "http", path: "/api/monitoring/metrics", interval: "30s" }] },
      },
      { parent: app },
    );
    // An autonamed object: its manifest gets the name the provider would generate.
    new k8s.core.v1.ServiceAccount("web-runner", { metadata: { namespace: appNs.metadata.name, labels: labels("web-runner") } }, { parent: app });

    const edge = new Area("edge:Edge", "edge", { parent: env, provider });
    new k8s.helm.v4.Chart("traefik", { chart: "traefik", version: "41.3.0", namespace: appNs.metadata.name }, { parent: edge });
    new k8s.apiextensions.CustomResource(
      "web-route",
      {
        apiVersion: "traefik.io/v1alpha1",
        kind: "IngressRoute",
        metadata: { name: "web", namespace: appNs.metadata.name, labels: labels("web") },
        spec: {
          entryPoints: ["websecure"],
          routes: [{ kind: "Rule", match: "Host(`app.example.org`)", services: [{ name: service.metadata.name, port: 3000 }] }],
          tls: { secretName: "web-tls" },
        },
      },
      { parent: edge },
    );
    new k8s.apiextensions.CustomResource(
      "issuer",
      {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: "letsencrypt", labels: labels("letsencrypt") },
        spec: { acme: { server: "https://acme-v02.api.letsencrypt.org/directory", privateKeySecretRef: { name: "letsencrypt-account" }, solvers: [{ http01: { ingress: { ingressClassName: "traefik" } } }] } },
      },
      { parent: edge },
    );
    new k8s.yaml.v2.ConfigGroup(
      "dashboards",
      { objs: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "dashboards", namespace: "shop", labels: labels("dashboards") }, data: { "web.json": "{}" } }] },
      { parent: edge },
    );
    new cloudflare.DnsRecord("app", { zoneId: "zone-1", name: "app", type: "CNAME", content: "lb.example.org", proxied: true, ttl: 1 }, { parent: edge, provider: cf });

    return { appReplicas: o.appReplicas ?? 2 };
  };
}
