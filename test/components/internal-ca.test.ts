import * as k8s from "@pulumi/kubernetes";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { durationHours, InternalCA, leafCertificateSpec, validityProblems, type InternalCAArgs, type IssuerRef } from "../../components/internal-ca";
import { inputs, k8sObject, ofType, planProgram } from "../harness";

const labels = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "test", "app.kubernetes.io/managed-by": "pulumi" });
const args = (over: Partial<InternalCAArgs> = {}): InternalCAArgs => ({
  name: "team-ca",
  selfSignedIssuerName: "team-selfsigned",
  namespace: "cert-manager",
  labels,
  ...over,
});
const issuer: IssuerRef = { name: "team-ca", kind: "ClusterIssuer", group: "cert-manager.io" };

describe("durations", () => {
  it("read Go durations in hours, minutes and seconds", () => {
    expect(durationHours("43800h")).toBe(43800);
    expect(durationHours("720h0m0s")).toBe(720);
    expect(durationHours("90m")).toBe(1.5);
    fc.assert(fc.property(fc.nat(100_000), fc.nat(59), (h, m) => durationHours(`${h}h${m}m`) === h + m / 60));
  });

  it("refuse anything else", () => {
    for (const bad of ["", "5y", "1d", "h", "10 h", "-1h"]) expect(() => durationHours(bad), bad).toThrow(/not a duration/);
  });
});

describe("validity windows", () => {
  it("accept a renewal between a tenth and nine tenths of the lifetime", () => {
    expect(validityProblems("ca", "43800h", "8760h")).toEqual([]);
    expect(validityProblems("leaf", "2160h", "720h")).toEqual([]);
  });

  it("reject a renewal at or past the lifetime, or so early or late that it is likely a typo", () => {
    expect(validityProblems("ca", "8760h", "8760h")).toEqual(["ca: renewBefore 8760h must be shorter than the duration 8760h"]);
    expect(validityProblems("ca", "8760h", "0h")).toHaveLength(1);
    expect(validityProblems("leaf", "2160h", "1h")[0]).toMatch(/between a tenth and nine tenths/);
    expect(validityProblems("leaf", "2160h", "2100h")[0]).toMatch(/between a tenth and nine tenths/);
  });
});

describe("issued certificates", () => {
  it("default to an ECDSA P-256 server certificate, PKCS #8, a new key at each renewal, 90 days renewed at 60", () => {
    expect(leafCertificateSpec({ secretName: "web-tls", issuer, dnsNames: ["web.ns.svc"] })).toEqual({
      secretName: "web-tls",
      dnsNames: ["web.ns.svc"],
      usages: ["server auth", "digital signature"],
      duration: "2160h",
      renewBefore: "720h",
      privateKey: { algorithm: "ECDSA", size: 256, encoding: "PKCS8", rotationPolicy: "Always" },
      issuerRef: issuer,
    });
  });

  it("carry a subject, usages, key, validity and Secret labels only when asked", () => {
    const spec = leafCertificateSpec({
      secretName: "db-tls",
      issuer,
      commonName: "db",
      organizations: ["Org"],
      usages: ["server auth", "client auth"],
      key: { algorithm: "RSA", size: 4096 },
      duration: "8760h",
      renewBefore: "2160h",
      secretLabels: { team: "data" },
    });
    expect(spec).toMatchObject({
      commonName: "db",
      subject: { organizations: ["Org"] },
      usages: ["server auth", "client auth"],
      privateKey: { algorithm: "RSA", size: 4096, encoding: "PKCS8" },
      duration: "8760h",
      secretTemplate: { labels: { team: "data" } },
    });
    expect(leafCertificateSpec({ secretName: "x", issuer }).subject).toBeUndefined();
  });

  it("refuse a validity window that renews too late", () => {
    expect(() => leafCertificateSpec({ secretName: "x", issuer, duration: "720h", renewBefore: "720h" })).toThrow(/certificate "x": renewBefore 720h/);
  });
});

describe("an InternalCA", () => {
  it("chains a ClusterIssuer to a CA certificate signed by a self-signed Issuer, all in the namespace given", async () => {
    const plan = await planProgram("dev", async () => {
      const ca = new InternalCA("ca", args());
      return { issuerRef: ca.issuerRef, secretName: ca.secretName };
    });
    const selfSigned = k8sObject(plan, "Issuer", "team-selfsigned", "cert-manager");
    const cert = k8sObject(plan, "Certificate", "team-ca", "cert-manager");
    const clusterIssuer = k8sObject(plan, "ClusterIssuer", "team-ca");
    expect(inputs(selfSigned).spec).toEqual({ selfSigned: {} });
    expect(inputs(cert).spec).toEqual({
      isCA: true,
      commonName: "team-ca",
      secretName: "team-ca",
      secretTemplate: { labels: labels("team-ca") },
      duration: "43800h",
      renewBefore: "8760h",
      privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Never" },
      usages: ["cert sign", "crl sign", "digital signature"],
      issuerRef: { name: "team-selfsigned", kind: "Issuer", group: "cert-manager.io" },
    });
    expect(inputs(cert).metadata.annotations).toEqual({ "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "600" });
    expect(inputs(clusterIssuer).metadata.namespace).toBeUndefined();
    expect(inputs(clusterIssuer).spec).toEqual({ ca: { secretName: "team-ca" } });
    expect(cert.dependsOn).toContain(selfSigned.urn);
    expect(clusterIssuer.dependsOn).toContain(cert.urn);
    expect(plan.outputs).toEqual({ issuerRef: issuer, secretName: "team-ca" });
  });

  it("makes every object wait for what `after` names, and applies the retention to the CA certificate only", async () => {
    const plan = await planProgram("dev", async () => {
      const webhook = new k8s.core.v1.ConfigMap("stand-in-for-cert-manager", { metadata: { name: "x" } });
      new InternalCA("ca", args({ after: [webhook], retention: { protect: true, retainOnDelete: true } }));
      return {};
    });
    const webhook = plan.resources.find((r) => r.name === "stand-in-for-cert-manager")!;
    const objects = [...ofType(plan, "kubernetes:cert-manager.io/v1:Issuer"), ...ofType(plan, "kubernetes:cert-manager.io/v1:Certificate"), ...ofType(plan, "kubernetes:cert-manager.io/v1:ClusterIssuer")];
    expect(objects).toHaveLength(3);
    for (const o of objects) expect(o.dependsOn, o.name).toContain(webhook.urn);
    expect(objects.filter((o) => o.protect && o.retainOnDelete).map((o) => inputs(o).kind)).toEqual(["Certificate"]);
  });

  it("takes the key, subject and validity it is given", async () => {
    const plan = await planProgram("dev", async () => {
      new InternalCA("ca", args({ key: { algorithm: "RSA", size: 4096 }, commonName: "Team CA", organizations: ["Team"], duration: "87600h", renewBefore: "17520h" }));
      return {};
    });
    expect(inputs(k8sObject(plan, "Certificate", "team-ca")).spec).toMatchObject({
      commonName: "Team CA",
      subject: { organizations: ["Team"] },
      privateKey: { algorithm: "RSA", size: 4096, rotationPolicy: "Never" },
      duration: "87600h",
      renewBefore: "17520h",
    });
  });

  it("refuses a CA that would renew too late, before registering anything", async () => {
    const plan = await planProgram("dev", async () => {
      expect(() => new InternalCA("ca", args({ duration: "8760h", renewBefore: "9000h" }))).toThrow(/internal CA "team-ca": renewBefore 9000h/);
      return {};
    });
    expect(plan.resources.filter((r) => r.type.startsWith("diaspomoney:") || r.type.startsWith("kubernetes:cert-manager"))).toEqual([]);
  });
});
