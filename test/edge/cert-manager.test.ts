import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import {
  AcmeCertificates,
  CERT_MANAGER_PORTS,
  CertManager,
  certManagerChartValues,
  LETS_ENCRYPT,
  type CertManagerArgs,
} from "../../components/cert-manager";
import { inputs, k8sObject, ofType, planProgram } from "../harness";

const labels = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "test" });

function args(overrides: Partial<CertManagerArgs> = {}): CertManagerArgs {
  return {
    namespace: "cert-manager",
    labels,
    chart: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.21.1" },
    metricsScrapers: { namespaceLabels: { team: "ops" }, podLabels: { app: "prometheus" } },
    ...overrides,
  };
}

describe("cert-manager chart values", () => {
  const values = certManagerChartValues(args()) as any;

  it("logs JSON from every component, through each one's configuration file and the global flag", () => {
    for (const part of [values, values.webhook, values.cainjector]) expect(part.config).toEqual({ logging: { format: "json" } });
    expect(values.global.logFormat).toBe("json");
  });

  it("leaves the CRDs to the cluster stack's PlatformCrds: the chart never installs nor deletes them", () => {
    expect(values.crds).toEqual({ enabled: false });
  });

  it("runs every component twice behind a disruption budget, with resources set", () => {
    for (const part of [values, values.webhook, values.cainjector]) {
      expect(part.replicaCount).toBe(2);
      expect(part.podDisruptionBudget).toEqual({ enabled: true, maxUnavailable: 1 });
      expect(part.resources.limits.memory).toMatch(/Mi$/);
    }
  });

  it("keeps its leader lease in its own namespace and self-checks DNS-01 on public resolvers", () => {
    expect(values.global.leaderElection.namespace).toBe("cert-manager");
    expect(values.dns01RecursiveNameservers).toBe("1.1.1.1:53,1.0.0.1:53");
    expect(values.dns01RecursiveNameserversOnly).toBe(true);
    const v6 = certManagerChartValues(args({ dns01RecursiveNameservers: ["2606:4700:4700::1111"] })) as any;
    expect(v6.dns01RecursiveNameservers).toBe("[2606:4700:4700::1111]:53");
  });

  it("does not rely on Helm hooks", () => {
    expect(values.startupapicheck.enabled).toBe(false);
  });
});

describe("the CertManager component", () => {
  it("closes its namespace and opens only what cert-manager needs", async () => {
    const plan = await planProgram("dev", async () => (new CertManager("cm", args()), {}));
    const ns = inputs(k8sObject(plan, "Namespace", "cert-manager")).metadata.labels;
    expect(ns["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(inputs(k8sObject(plan, "NetworkPolicy", "default-deny", "cert-manager")).spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });

    const controller = inputs(k8sObject(plan, "NetworkPolicy", "cert-manager-controller", "cert-manager")).spec;
    expect(controller.egress[0].ports).toEqual([{ protocol: "TCP", port: 443 }]);
    expect(controller.egress[0].to[0].ipBlock.except).toContain("10.0.0.0/8");
    expect(controller.egress[1].to).toEqual([{ ipBlock: { cidr: "1.1.1.1/32" } }, { ipBlock: { cidr: "1.0.0.1/32" } }]);
    expect(controller.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { team: "ops" } }, podSelector: { matchLabels: { app: "prometheus" } } }],
        ports: [{ protocol: "TCP", port: CERT_MANAGER_PORTS.metrics }],
      },
    ]);

    // Without configured API server addresses the webhook accepts the cluster's private networks, never the internet.
    const webhook = inputs(k8sObject(plan, "NetworkPolicy", "cert-manager-webhook", "cert-manager")).spec;
    const sources = webhook.ingress[0].from.map((p: any) => p.ipBlock.cidr);
    expect(sources).not.toContain("0.0.0.0/0");
    expect(sources).toContain("10.0.0.0/8");
    expect(webhook.ingress[0].ports).toEqual([{ protocol: "TCP", port: CERT_MANAGER_PORTS.webhook }]);
  });

  it("restricts API traffic to the API server's addresses when they are known", async () => {
    const plan = await planProgram("dev", async () => (new CertManager("cm", args({ apiServer: { cni: "calico", cidrs: ["203.0.113.5/32"] } })), {}));
    const api = inputs(k8sObject(plan, "NetworkPolicy", "cert-manager-api-server", "cert-manager")).spec;
    expect(api.egress).toEqual([{ to: [{ ipBlock: { cidr: "203.0.113.5/32" } }], ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] }]);
    const webhook = inputs(k8sObject(plan, "NetworkPolicy", "cert-manager-webhook", "cert-manager")).spec;
    expect(webhook.ingress[0].from).toEqual([{ ipBlock: { cidr: "203.0.113.5/32" } }]);
  });
});

describe("the AcmeCertificates component", () => {
  async function plan() {
    return planProgram("dev", async () => {
      new AcmeCertificates("acme", {
        namespace: "shop",
        labels,
        server: LETS_ENCRYPT.staging,
        email: "ops@example.org",
        cloudflareApiToken: pulumi.secret("token-that-must-not-leak"),
        dnsZones: ["example.org"],
        certificates: [
          { name: "www", dnsNames: ["www.example.org"], secretName: "www-tls" },
          { name: "api", dnsNames: ["api.example.org"], secretName: "api-tls" },
        ],
      });
      return {};
    });
  }

  it("solves DNS-01 on Cloudflare with a token kept in a Secret next to the Issuer", async () => {
    const p = await plan();
    const issuer = inputs(k8sObject(p, "Issuer", "letsencrypt", "shop")).spec.acme;
    expect(issuer.server).toBe("https://acme-staging-v02.api.letsencrypt.org/directory");
    expect(issuer.solvers).toEqual([
      { selector: { dnsZones: ["example.org"] }, dns01: { cloudflare: { apiTokenSecretRef: { name: "cloudflare-dns01-token", key: "api-token" } } } },
    ]);
    expect(inputs(k8sObject(p, "Secret", "cloudflare-dns01-token", "shop")).stringData).toEqual({ "api-token": "[secret]" });
    expect(JSON.stringify(p)).not.toContain("token-that-must-not-leak");
  });

  it("issues one ECDSA certificate per request, rotating the key on renewal", async () => {
    const p = await plan();
    const certs = ofType(p, "kubernetes:cert-manager.io/v1:Certificate").map((c) => inputs(c).spec);
    expect(certs.map((c) => [c.dnsNames, c.secretName])).toEqual([
      [["www.example.org"], "www-tls"],
      [["api.example.org"], "api-tls"],
    ]);
    for (const c of certs) {
      expect(c.privateKey).toEqual({ algorithm: "ECDSA", size: 256, rotationPolicy: "Always" });
      expect(c.issuerRef).toEqual({ group: "cert-manager.io", kind: "Issuer", name: "letsencrypt" });
    }
  });
});
