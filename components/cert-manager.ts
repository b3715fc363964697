import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { helmChartAwait } from "./lifecycle";
import { SecureNamespace, type ContainerResources, type NamespaceBudget } from "./namespaces";
import { apiServerEgress, apiServerIngress, ciliumClusterAccess, PUBLIC_INTERNET, type ApiServerAccess, type ClusterAccess } from "./network";
import type { Labeller, PinnedChart } from "./traefik";

/** Labels the chart puts on all cert-manager pods (release `cert-manager`), and per component. */
export const CERT_MANAGER_POD_LABELS = {
  all: { "app.kubernetes.io/instance": "cert-manager" },
  controller: { "app.kubernetes.io/instance": "cert-manager", "app.kubernetes.io/component": "controller" },
  webhook: { "app.kubernetes.io/instance": "cert-manager", "app.kubernetes.io/component": "webhook" },
} as const;

/** Container ports (chart defaults): the webhook's HTTPS port and the controller's metrics. */
export const CERT_MANAGER_PORTS = { webhook: 10250, metrics: 9402 } as const;

/** Networks a cluster's control plane reaches webhooks from, when its addresses are not configured. */
const PRIVATE_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

export interface CertManagerArgs {
  /** Namespace created for cert-manager (cluster-wide: one installation per cluster). */
  namespace: string;
  labels: Labeller;
  chart: PinnedChart;
  /** Replicas of the controller, webhook and CA injector, each with a disruption budget. Default 2. */
  replicas?: number;
  /**
   * Resolvers (IP addresses, port 53) for the DNS-01 self-check, instead of the cluster's DNS (which
   * may not see public records yet, or at all). Default: Cloudflare's public resolvers.
   */
  dns01RecursiveNameservers?: string[];
  /** API server endpoints: where the pods call, and where the webhook is called from. */
  apiServer?: ApiServerAccess;
  /** Namespaces and pods allowed to scrape the controller's metrics. */
  metricsScrapers: { namespaceLabels: Record<string, string>; podLabels: Record<string, string> };
  /** Extra labels on every object the chart renders. */
  chartLabels?: Record<string, string>;
  /** protect / retainOnDelete of the namespace, whose deletion would take cert-manager with it. */
  namespaceRetention?: Pick<pulumi.CustomResourceOptions, "protect" | "retainOnDelete">;
  /**
   * Install the chart. False where the cluster's owners install cert-manager themselves (same chart,
   * release `cert-manager`) into the namespace prepared here. Default true.
   */
  installChart?: boolean;
  /** What the chart waits for: the CRDs it serves. */
  after?: pulumi.Resource[];
  /** Make `pulumi up` wait for the chart's Deployments (see `helmChartAwait`). Default true. */
  awaitReadiness?: boolean;
}

/** Requests and limits of each container, inside {@link CERT_MANAGER_BUDGET} (checked in infra/sizing.ts). */
export const CERT_MANAGER_RESOURCES: Record<"controller" | "webhook" | "cainjector", ContainerResources> = {
  controller: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  webhook: { requests: { cpu: "25m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
  cainjector: { requests: { cpu: "25m", memory: "128Mi" }, limits: { cpu: "250m", memory: "512Mi" } },
};

/**
 * The namespace's quota: three Deployments of up to three replicas each, every one surging by a pod
 * during a rolling update, plus headroom (checked against the containers above in infra/sizing.ts).
 */
export const CERT_MANAGER_BUDGET: NamespaceBudget = {
  cpu: { requests: "1", limits: "5" },
  memory: { requests: "2Gi", limits: "8Gi" },
  pods: 14,
  persistentVolumeClaims: 0,
  storage: "1Gi",
  containerDefaults: { requests: { cpu: "25m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
};

/** `host:port` as cert-manager's `--dns01-recursive-nameservers` takes it. */
function nameserver(ip: string): string {
  return ip.includes(":") ? `[${ip}]:53` : `${ip}:53`;
}

/** Chart values (jetstack cert-manager v1.21). */
export function certManagerChartValues(args: CertManagerArgs): Record<string, unknown> {
  const replicas = args.replicas ?? 2;
  const pdb = { enabled: true, maxUnavailable: 1 };
  // JSON logs from each component's own configuration file (ControllerConfiguration,
  // WebhookConfiguration, CAInjectorConfiguration: `logging.format`), which every 1.x chart reads;
  // `global.logFormat` is read only by recent charts and is kept for them.
  const jsonLogs = { logging: { format: "json" } };
  return {
    // CRDs are the cluster stack's (PlatformCrds), applied before the chart and kept forever: the
    // chart's own would be deleted or left stale with the release.
    crds: { enabled: false },
    replicaCount: replicas,
    podDisruptionBudget: pdb,
    resources: CERT_MANAGER_RESOURCES.controller,
    config: jsonLogs,
    webhook: { replicaCount: replicas, podDisruptionBudget: pdb, resources: CERT_MANAGER_RESOURCES.webhook, securePort: CERT_MANAGER_PORTS.webhook, config: jsonLogs },
    cainjector: { replicaCount: replicas, podDisruptionBudget: pdb, resources: CERT_MANAGER_RESOURCES.cainjector, config: jsonLogs },
    global: {
      // The default is kube-system; keeping the lease here keeps cert-manager's rights in its namespace.
      leaderElection: { namespace: args.namespace },
      logFormat: "json",
      ...(args.chartLabels ? { commonLabels: args.chartLabels } : {}),
    },
    // A Helm hook, which helm.v4.Chart does not run anyway; Pulumi waits for the Deployments instead.
    startupapicheck: { enabled: false },
    prometheus: { enabled: true, servicemonitor: { enabled: false } },
    dns01RecursiveNameservers: dnsResolvers(args).map(nameserver).join(","),
    dns01RecursiveNameserversOnly: true,
  };
}

function dnsResolvers(args: CertManagerArgs): string[] {
  return args.dns01RecursiveNameservers ?? ["1.1.1.1", "1.0.0.1"];
}

/**
 * cert-manager, installed once per cluster in its own closed namespace (Pod Security "restricted",
 * which the chart's pods meet; default-deny, quota): its pods may reach the API server, the controller
 * also the public internet on 443 (ACME, Cloudflare's API) and the DNS-01 resolvers; the webhook is
 * reachable from the control plane only. Issuers and Certificates live with the workloads: see
 * {@link AcmeCertificates}.
 */
export class CertManager extends pulumi.ComponentResource {
  readonly namespace: SecureNamespace;
  readonly chart?: k8s.helm.v4.Chart;

  constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:edge:CertManager", name, {}, opts);
    this.namespace = new SecureNamespace(
      args.namespace,
      { name: args.namespace, labels: args.labels(args.namespace), budget: CERT_MANAGER_BUDGET },
      { parent: this, ...args.namespaceRetention },
    );
    const ns = this.namespace.name;
    const api = args.apiServer;
    const policy = (policyName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${policyName}`,
        { metadata: { name: policyName, namespace: ns, labels: args.labels(policyName) }, spec },
        { parent: this, dependsOn: [this.namespace] },
      );
    // On Cilium, what the address rules of apiServerEgress / apiServerIngress below cannot match.
    const clusterAccess = (policyName: string, podLabels: Record<string, string>, access: ClusterAccess) =>
      ciliumClusterAccess(
        `${name}-${policyName}-cluster-access`,
        { metadata: { name: `${policyName}-cluster-access`, namespace: ns, labels: args.labels(policyName) }, podSelector: { matchLabels: podLabels }, access, api },
        { parent: this, dependsOn: [this.namespace] },
      );

    policy("cert-manager-api-server", {
      podSelector: { matchLabels: { ...CERT_MANAGER_POD_LABELS.all } },
      policyTypes: ["Egress"],
      egress: [...apiServerEgress(api)],
    });
    clusterAccess("cert-manager-api-server", { ...CERT_MANAGER_POD_LABELS.all }, { apiServer: true });
    policy("cert-manager-controller", {
      podSelector: { matchLabels: { ...CERT_MANAGER_POD_LABELS.controller } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: args.metricsScrapers.namespaceLabels }, podSelector: { matchLabels: args.metricsScrapers.podLabels } }],
          ports: [{ protocol: "TCP", port: CERT_MANAGER_PORTS.metrics }],
        },
      ],
      egress: [
        // ACME directories and Cloudflare's API: public addresses only, HTTPS only.
        { to: PUBLIC_INTERNET, ports: [{ protocol: "TCP", port: 443 }] },
        {
          to: dnsResolvers(args).map((ip) => ({ ipBlock: { cidr: ip.includes(":") ? `${ip}/128` : `${ip}/32` } })),
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    });
    policy("cert-manager-webhook", {
      podSelector: { matchLabels: { ...CERT_MANAGER_POD_LABELS.webhook } },
      policyTypes: ["Ingress"],
      ingress: apiServerIngress(api, [CERT_MANAGER_PORTS.webhook], PRIVATE_NETWORKS),
    });
    clusterAccess("cert-manager-webhook", { ...CERT_MANAGER_POD_LABELS.webhook }, { fromApiServerPorts: [CERT_MANAGER_PORTS.webhook] });

    if (args.installChart ?? true) {
      this.chart = new k8s.helm.v4.Chart(
        name,
        {
          name: "cert-manager",
          chart: args.chart.chart,
          version: args.chart.version,
          repositoryOpts: { repo: args.chart.repo },
          namespace: ns,
          skipCrds: true,
          ...helmChartAwait(args.awaitReadiness),
          values: certManagerChartValues(args),
        },
        { parent: this, dependsOn: [this.namespace, ...(args.after ?? [])] },
      );
    }
    this.registerOutputs({ namespace: ns, chartVersion: args.chart.version });
  }
}

/** Let's Encrypt's ACME directories. */
export const LETS_ENCRYPT = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

export interface CertificateRequest {
  /** Name of the Certificate object. */
  name: string;
  dnsNames: string[];
  /** Secret (kubernetes.io/tls) cert-manager writes the key pair to. */
  secretName: string;
}

/**
 * One cert-manager Certificate per request, signed by `issuer`, all with the platform's key policy
 * (ECDSA P-256, a new key on each renewal). Returns each Secret name by Certificate name.
 */
function issueCertificates(
  name: string,
  certificates: CertificateRequest[],
  namespace: pulumi.Input<string>,
  labels: Labeller,
  issuer: { kind: "Issuer" | "ClusterIssuer"; name: string },
  opts: pulumi.CustomResourceOptions,
): Record<string, string> {
  const secretNames: Record<string, string> = {};
  for (const cert of certificates) {
    secretNames[cert.name] = cert.secretName;
    new k8s.apiextensions.CustomResource(
      `${name}-${cert.name}`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: cert.name, namespace, labels: labels(cert.name) },
        spec: {
          secretName: cert.secretName,
          secretTemplate: { labels: labels(cert.secretName) },
          dnsNames: cert.dnsNames,
          issuerRef: { group: "cert-manager.io", ...issuer },
          privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        },
      },
      opts,
    );
  }
  return secretNames;
}

export interface AcmeCertificatesArgs {
  /** Namespace of the Issuer, its Cloudflare token and the certificates' Secrets. */
  namespace: pulumi.Input<string>;
  labels: Labeller;
  /** ACME directory URL (see {@link LETS_ENCRYPT}). */
  server: string;
  /** ACME account contact. */
  email: string;
  /** Cloudflare API token allowed to edit DNS records of `dnsZones` (a Pulumi secret). */
  cloudflareApiToken: pulumi.Input<string>;
  /** Zones the DNS-01 solver answers for. */
  dnsZones: string[];
  certificates: CertificateRequest[];
  /** Name of the Issuer. Default `letsencrypt`. */
  issuerName?: string;
  /**
   * Resources every object waits for (cert-manager, whose webhook admits Issuers and Certificates).
   * A component's own `dependsOn` would not reach its children.
   */
  after?: pulumi.Resource[];
}

/** The Secret holding the DNS-01 token, and its key. */
export const DNS01_TOKEN_SECRET = { name: "cloudflare-dns01-token", key: "api-token" } as const;

/**
 * A namespaced ACME Issuer solving DNS-01 challenges on Cloudflare, its API token as a Kubernetes
 * Secret next to it (a ClusterIssuer could only read Secrets in cert-manager's namespace, shared by
 * the environments of a cluster), and the Certificates it issues (ECDSA P-256, new key on renewal).
 */
export class AcmeCertificates extends pulumi.ComponentResource {
  /** Secret name of each certificate, by Certificate name. */
  readonly secretNames: Record<string, string>;

  constructor(name: string, args: AcmeCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:edge:AcmeCertificates", name, {}, opts);
    const ns = args.namespace;
    const issuerName = args.issuerName ?? "letsencrypt";
    const after = args.after ?? [];
    const child = { parent: this, dependsOn: after };

    const token = new k8s.core.v1.Secret(
      `${name}-dns01-token`,
      {
        metadata: { name: DNS01_TOKEN_SECRET.name, namespace: ns, labels: args.labels(DNS01_TOKEN_SECRET.name) },
        type: "Opaque",
        stringData: { [DNS01_TOKEN_SECRET.key]: pulumi.secret(args.cloudflareApiToken) },
      },
      child,
    );

    const issuer = new k8s.apiextensions.CustomResource(
      `${name}-issuer`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Issuer",
        metadata: { name: issuerName, namespace: ns, labels: args.labels(issuerName) },
        spec: {
          acme: {
            server: args.server,
            email: args.email,
            privateKeySecretRef: { name: `${issuerName}-account-key` },
            solvers: [
              {
                selector: { dnsZones: args.dnsZones },
                dns01: { cloudflare: { apiTokenSecretRef: { name: DNS01_TOKEN_SECRET.name, key: DNS01_TOKEN_SECRET.key } } },
              },
            ],
          },
        },
      },
      { parent: this, dependsOn: [...after, token] },
    );

    this.secretNames = issueCertificates(name, args.certificates, ns, args.labels, { kind: "Issuer", name: issuerName }, { parent: this, dependsOn: [...after, issuer] });

    this.registerOutputs({ issuer: issuerName, server: args.server, secretNames: this.secretNames });
  }
}

export interface CaCertificatesArgs {
  /** Namespace of the certificates' Secrets. */
  namespace: pulumi.Input<string>;
  labels: Labeller;
  /** The ClusterIssuer (a CA issuer of the cluster stack) that signs them. */
  clusterIssuer: string;
  certificates: CertificateRequest[];
  /** Resources every object waits for (cert-manager, whose webhook admits Certificates). */
  after?: pulumi.Resource[];
}

/**
 * Certificates signed by an existing CA ClusterIssuer instead of Let's Encrypt: for a cluster the
 * internet cannot reach (the local stack), whose browsers are told to trust that CA. Same key policy
 * as the ACME certificates (ECDSA P-256, new key on renewal).
 */
export class CaCertificates extends pulumi.ComponentResource {
  /** Secret name of each certificate, by Certificate name. */
  readonly secretNames: Record<string, string>;

  constructor(name: string, args: CaCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:edge:CaCertificates", name, {}, opts);
    this.secretNames = issueCertificates(name, args.certificates, args.namespace, args.labels, { kind: "ClusterIssuer", name: args.clusterIssuer }, { parent: this, dependsOn: args.after ?? [] });
    this.registerOutputs({ issuer: args.clusterIssuer, secretNames: this.secretNames });
  }
}
