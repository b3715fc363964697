import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
// The analyzer's own serialisation of pack metadata and config (what `GetAnalyzerInfo` and
// `Configure` answer the CLI), exercised without starting its gRPC server. Internal to the pinned
// @pulumi/policy (absent from its typings), hence the cast.
import * as protoutil from "@pulumi/policy/protoutil";
import { profileOf } from "../../infra/compliance";
import { isStackControl } from "../../policy/lib/control";
import { controls, enforcementFor, packConfigFor, PACK_NAME, PACK_VERSION } from "../../policy/policies";
import { STACKS } from "../harness";

const ROOT = path.resolve(__dirname, "..", "..");

interface PolicyInfo {
  getName(): string;
  getSeverity(): number;
  getFramework(): { getName(): string; getReference(): string } | undefined;
  getConfigschema(): { getProperties(): { toJavaScript(): unknown } | undefined } | undefined;
}
const { makeAnalyzerInfo, normalizeConfig } = protoutil as unknown as {
  makeAnalyzerInfo(name: string, version: string, level: string, args: object, config: undefined): { getName(): string; getPoliciesList(): PolicyInfo[] };
  normalizeConfig(config: object): object;
};

describe("the policy pack", () => {
  it("names every control uniquely and URL-safely, with severity, framework, tags and remediation", () => {
    const names = controls.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const c of controls) {
      expect(c.name).toMatch(/^[a-z0-9-]{1,100}$/);
      expect(c.name).not.toBe("all");
      expect(["low", "medium", "high", "critical"]).toContain(c.severity);
      expect(c.enforcementLevel).toBe("mandatory");
      expect(c.framework).toBe(c.references[0]);
      for (const r of c.references) {
        expect(["PCI-DSS", "GDPR", "SOC 2"]).toContain(r.name);
        expect(r.reference).not.toBe("");
        expect(r.specification.length).toBeGreaterThan(20);
      }
      const tag = (r: (typeof c.references)[number]) =>
        r.name === "PCI-DSS" ? `pci-dss-4.0.1:${r.reference}` : r.name === "SOC 2" ? `soc2:${r.reference.toLowerCase()}` : expect.stringMatching(/^gdpr:art-/);
      expect(c.tags).toEqual(c.references.map(tag));
      expect(c.remediationSteps.length).toBeGreaterThan(20);
      expect(isStackControl(c) ? "validateStack" in c : typeof (c as any).validateResource === "function").toBe(true);
    }
  });

  it("cites both frameworks across the pack", () => {
    const refs = new Set(controls.flatMap((c) => c.references.map((r) => `${r.name} ${r.reference}`)));
    for (const r of ["PCI-DSS 1.3.1", "PCI-DSS 2.2.6", "PCI-DSS 3.5.1", "PCI-DSS 4.2.1", "PCI-DSS 6.3.3", "PCI-DSS 7.2.5", "PCI-DSS 8.6.2", "PCI-DSS 10.2.1", "PCI-DSS 10.5.1", "PCI-DSS 12.10.1", "GDPR Art. 5(1)(f)", "GDPR Art. 25", "GDPR Art. 32(1)(a)", "GDPR Art. 44"])
      expect(refs).toContain(r);
  });

  it("serialises as the analyzer answers the CLI: severity and framework on every policy", () => {
    const info = makeAnalyzerInfo(PACK_NAME, PACK_VERSION, "mandatory", { policies: controls }, undefined);
    expect(info.getName()).toBe("diaspomoney-policies");
    const policies = info.getPoliciesList();
    expect(policies).toHaveLength(controls.length);
    for (const p of policies) {
      expect(p.getSeverity()).toBeGreaterThan(0);
      expect(p.getFramework()?.getName()).toMatch(/^(PCI-DSS|GDPR)$/);
      expect(p.getFramework()?.getReference()).not.toBe("");
    }
    const images = policies.find((p) => p.getName() === "images-pinned");
    expect(images?.getConfigschema()?.getProperties()?.toJavaScript()).toEqual({ production: { type: "boolean", description: expect.any(String) } });
  });

  it("keeps policy/config/<stack>.json equal to the config the stack's tier and features give", () => {
    for (const stack of STACKS) {
      const file = path.join(ROOT, "policy", "config", `${stack}.json`);
      const onDisk = JSON.parse(fs.readFileSync(file, "utf8"));
      expect(onDisk, `${file} is stale: regenerate with npx tsx infra/compliance/pack-config.ts`).toEqual(packConfigFor(profileOf(stack)));
      // The shape the analyzer accepts (enforcement levels it knows, "all" allowed).
      expect(() => normalizeConfig(onDisk)).not.toThrow();
    }
  });

  it("is mandatory in prod and rct, advisory in dev, and fails closed", () => {
    expect(STACKS.map((s) => packConfigFor(profileOf(s)).all)).toEqual([{ enforcementLevel: "advisory" }, { enforcementLevel: "mandatory" }, { enforcementLevel: "mandatory" }]);
    expect(enforcementFor("production")).toBe("mandatory");
    expect(packConfigFor(profileOf("prod"))["images-pinned"]).toEqual({ enforcementLevel: "mandatory", production: true });
    expect(packConfigFor(profileOf("rct"))["images-pinned"]).toEqual({ enforcementLevel: "mandatory", production: false });
  });

  it("ships as its own package for the CLI, pinned", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "diaspomoney-policies", version: PACK_VERSION, dependencies: { "@pulumi/policy": "1.21.0", "@pulumi/pulumi": "3.248.0" } });
    const yaml = YAML.parse(fs.readFileSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"), "utf8"));
    expect(yaml.runtime).toBe("nodejs");
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "package-lock.json"), "utf8"));
    expect(lock.packages["node_modules/@pulumi/policy"].version).toBe("1.21.0");
    expect(lock.packages["node_modules/@pulumi/pulumi"].version).toBe("3.248.0");
  });

  it("is constructed only by policy/index.ts, never by the project, the plan or a test", () => {
    const offenders: string[] = [];
    const visit = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (["node_modules", "out", "bin", ".git"].includes(e.name)) continue;
        const p = path.join(dir, e.name);
        if (e.isDirectory()) visit(p);
        else if (p.endsWith(".ts") && /new\s+PolicyPack\s*\(/.test(fs.readFileSync(p, "utf8"))) offenders.push(path.relative(ROOT, p));
      }
    };
    for (const d of ["index.ts", "infra", "components", "stacks", "test", "policy"]) {
      const p = path.join(ROOT, d);
      if (fs.statSync(p).isDirectory()) visit(p);
      else if (/new\s+PolicyPack\s*\(/.test(fs.readFileSync(p, "utf8"))) offenders.push(d);
    }
    expect(offenders).toEqual([path.join("policy", "index.ts")]);
    expect(fs.readFileSync(path.join(ROOT, "policy", "index.ts"), "utf8")).toMatch(/new PolicyPack\(PACK_NAME, \{[\s\S]*policies: controls,/);
  });
});
