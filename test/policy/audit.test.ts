import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { afterAll, describe, expect, it } from "vitest";
import { auditPlan } from "../../infra/compliance";
import { resourceArgs, stackResources } from "../../infra/compliance/evaluate";
import type { ControlResult } from "../../infra/compliance/evaluate";
import { assertNoSecrets, formatFindings, frameworkSummary, renderMarkdown, writeAuditArtefacts } from "../../infra/compliance/report";
import { GDPR, PCI, withSoc2 } from "../../policy/lib/frameworks";
import { leakedPlaceholders } from "../../infra/plan/run";
import { controls, PACK_NAME, PACK_VERSION } from "../../policy/policies";
import { cachedPlan, STACKS } from "../harness";
import { deployment, planOf, urnOf } from "./harness";

describe("the offline adapter", () => {
  const provider = { type: "pulumi:providers:kubernetes", name: "kubernetes", inputs: { context: "eu-par-prod" } };
  const web = { ...deployment(), provider: `${urnOf(provider)}::kubernetes-id`, protect: true, dependsOn: [urnOf(provider)] };
  const plan = planOf([provider, web], { compliance: { policyPack: { name: "p" } } });

  it("hands validateResource what the engine does: type, inputs, URN, name, options, provider, config", () => {
    const record = plan.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    const args = resourceArgs(record, plan, () => ({ production: true }));
    expect(args).toMatchObject({ type: "kubernetes:apps/v1:Deployment", urn: record.urn, name: "web-deployment", opts: { protect: true, parent: record.parent } });
    expect(args.isType(k8s.apps.v1.Deployment)).toBe(true);
    expect(args.isType(k8s.apps.v1.StatefulSet)).toBe(false);
    expect(args.asType(k8s.apps.v1.Deployment)?.spec?.replicas).toBe(3);
    expect(args.provider).toMatchObject({ type: "pulumi:providers:kubernetes", name: "kubernetes", props: { context: "eu-par-prod" } });
    expect(args.getConfig()).toEqual({ production: true });
    expect(() => args.notApplicable("out of scope")).toThrow("out of scope");
    // A copy: a policy cannot change what the next one sees.
    (args.props as any).spec.replicas = 99;
    expect((record.inputs as any).spec.replicas).toBe(3);
  });

  it("hands validateStack linked resources, and the stack's outputs as its props", () => {
    const resources = stackResources(plan);
    const d = resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    expect(d.parent?.type).toBe("pulumi:pulumi:Stack");
    expect(d.dependencies.map((x) => x.name)).toEqual(["kubernetes"]);
    expect(d.provider?.name).toBe("kubernetes");
    expect(resources.find((r) => r.type === "pulumi:pulumi:Stack")?.props).toEqual({ compliance: { policyPack: { name: "p" } } });
  });
});

describe.each(STACKS)("the audit of %s", (stack) => {
  it("evaluates every control of the pack without error, on evidence, never showing a secret", async () => {
    const plan = await cachedPlan(stack);
    const audit = await auditPlan(plan);
    expect(audit.controls.map((c) => c.name)).toEqual(controls.map((c) => c.name));
    expect(audit.controls.filter((c) => c.status === "error").map((c) => `${c.name}: ${c.reason}`)).toEqual([]);
    for (const c of audit.controls) {
      if (c.status === "pass") expect(c.evidence.length, c.name).toBeGreaterThan(0);
      if (c.status === "not-applicable") expect(c.reason, c.name).toBeTruthy();
    }
    const md = renderMarkdown(audit);
    expect(() => assertNoSecrets(md)).not.toThrow();
    expect(leakedPlaceholders(audit)).toEqual([]);
    expect(md).toContain(`# Compliance audit: stack \`${stack}\``);
  });

  it("publishes a compliance output the pack finds true, with no secret", async () => {
    const plan = await cachedPlan(stack);
    const out = plan.outputs.compliance as any;
    expect(out.policyPack).toMatchObject({ name: PACK_NAME, version: PACK_VERSION, controls: controls.length, enforcement: stack === "dev" ? "advisory" : "mandatory" });
    expect(JSON.stringify(out)).not.toContain("[secret]");
    expect(out.frameworks).toEqual(["PCI-DSS v4.0.1", "GDPR (EU) 2016/679", "SOC 2 (AICPA Trust Services Criteria 2017: security, availability, confidentiality)"]);
    const audit = await auditPlan(plan);
    expect(audit.controls.find((c) => c.name === "compliance-output-consistent")?.status).toBe("pass");
  });
});

describe("the prod audit", () => {
  it("passes every mandatory control", async () => {
    const audit = await auditPlan(await cachedPlan("prod"));
    expect(audit.tier).toBe("production");
    expect(formatFindings(audit), "failing controls").not.toMatch(/✖/);
    expect(audit.summary.mandatoryFailures).toBe(0);
  });
});

describe("the report", () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "audit-"));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
  it("writes audit.md and audit.json with every control, its references and evidence", async () => {
    const audit = await auditPlan(await cachedPlan("rct"));
    const dir = fs.mkdtempSync(path.join(scratch, "report-"));
    const [md, json] = writeAuditArtefacts(audit, dir);
    const text = fs.readFileSync(md, "utf8");
    for (const c of controls) expect(text).toContain(`### ${c.name}`);
    expect(text).toContain("| [namespace-pod-security-labels](#namespace-pod-security-labels) | high | mandatory | PASS |");
    expect(text).toContain("- PCI-DSS 4.2.1: Strong cryptography");
    expect(JSON.parse(fs.readFileSync(json, "utf8")).summary.total).toBe(controls.length);
  });

  it("summarises the audit per framework: a requirement is not met as soon as one control citing it fails", () => {
    const control = (name: string, status: ControlResult["status"], refs: Parameters<typeof withSoc2>[0]): ControlResult => ({
      name,
      description: name,
      severity: "high",
      enforcementLevel: "mandatory",
      references: withSoc2(refs),
      remediation: "",
      status,
      violations: [],
      evidence: [],
      evaluated: 1,
    });
    const summary = frameworkSummary({
      controls: [
        control("tls", "pass", [PCI.strongCryptoInTransit, GDPR.encryption]),
        control("waf", "fail", [PCI.webAttacks, GDPR.integrity]),
        control("atlas", "not-applicable", [GDPR.transfers]),
      ],
    });
    expect(summary.map((f) => [f.name, f.requirements, f.met, f.notMet, f.notAssessed])).toEqual([
      ["PCI-DSS", 2, 1, ["6.4.2"], []],
      ["GDPR", 3, 1, ["Art. 5(1)(f)"], ["Art. 44"]],
      ["SOC 2", 4, 1, ["CC6.1", "CC6.6"], ["C1.1"]],
    ]);
    // CC6.1 is cited by the passing TLS control too: one failing control is enough to leave it unmet.
    expect(summary[2].controls).toEqual({ total: 3, passed: 1, failed: 1, notApplicable: 1, errors: 0 });
  });

  it("prints the per-framework summary under the pack's line, and writes it to audit.md and audit.json", async () => {
    const audit = await auditPlan(await cachedPlan("rct"));
    const lines = formatFindings(audit).split("\n");
    expect(lines[0]).toMatch(/^Policy pack /);
    expect(lines.slice(1, 4).map((l) => l.trim().split(":")[0])).toEqual(["PCI-DSS", "GDPR", "SOC 2"]);
    expect(lines[3]).toMatch(/^ {2}SOC 2: \d+\/\d+ requirements met/);
    expect(renderMarkdown(audit)).toMatch(/\| SOC 2 \(AICPA Trust Services Criteria 2017[^|]*\| \d+ \/ \d+ \|/);
    const dir = fs.mkdtempSync(path.join(scratch, "frameworks-"));
    const [, json] = writeAuditArtefacts(audit, dir);
    expect(JSON.parse(fs.readFileSync(json, "utf8")).frameworks.map((f: { name: string }) => f.name)).toEqual(["PCI-DSS", "GDPR", "SOC 2"]);
  });

  it("refuses to write anything shaped like a credential", () => {
    expect(() => assertNoSecrets("value: offline-placeholder-for-diaspomoney-platform-smtpPassword")).toThrow(/offline placeholder/);
    expect(() => assertNoSecrets(`key: ${"AKIA"}${"ABCDEFGHIJKLMNOP"}`)).toThrow(/AWS access key id/);
  });
});
