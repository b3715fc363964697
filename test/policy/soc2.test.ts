import { describe, expect, it } from "vitest";
import { FRAMEWORKS, gdpr, pci, refLabel, SOC2, SOC2_CROSSWALK, unmappedReferences, withSoc2 } from "../../policy/lib/frameworks";
import { controls } from "../../policy/policies";

const soc2Of = (name: string) =>
  controls
    .find((c) => c.name === name)!
    .references.filter((r) => r.name === "SOC 2")
    .map((r) => r.reference);

describe("SOC 2 in the policy pack", () => {
  it("maps every PCI DSS and GDPR requirement a control cites to Trust Services Criteria", () => {
    expect(unmappedReferences(controls.flatMap((c) => c.references))).toEqual([]);
    for (const c of controls) expect(c.references.some((r) => r.name === "SOC 2"), c.name).toBe(true);
  });

  it("reports a cited requirement the crosswalk does not know", () => {
    expect(unmappedReferences([pci("99.9", "A requirement the crosswalk has never seen."), gdpr("Art. 6", "Lawfulness of processing.")])).toEqual(["PCI-DSS 99.9", "GDPR Art. 6"]);
    expect(withSoc2([pci("99.9", "A requirement the crosswalk has never seen.")]).map(refLabel)).toEqual(["PCI-DSS 99.9"]);
  });

  it("adds each criterion once, after the control's own references, in order of first mention", () => {
    const refs = withSoc2([pci("4.2.1", "x".repeat(30)), gdpr("Art. 32(1)(a)", "y".repeat(30)), pci("8.3.2", "z".repeat(30))]);
    expect(refs.map(refLabel)).toEqual(["PCI-DSS 4.2.1", "GDPR Art. 32(1)(a)", "PCI-DSS 8.3.2", "SOC 2 CC6.7", "SOC 2 CC6.1"]);
    expect(withSoc2([SOC2.transmission, pci("4.2.1", "x".repeat(30))]).map(refLabel)).toEqual(["SOC 2 CC6.7", "PCI-DSS 4.2.1"]);
  });

  it("cites the criteria an auditor asks for first, on the controls that meet them", () => {
    const cited = new Set(controls.flatMap((c) => c.references.filter((r) => r.name === "SOC 2").map((r) => r.reference)));
    for (const criterion of ["CC6.1", "CC6.6", "CC6.7", "CC7.2", "CC8.1", "A1.2"]) expect(cited).toContain(criterion);
    expect(soc2Of("namespace-default-deny")).toContain("CC6.6");
    expect(soc2Of("waf-managed-rulesets")).toContain("CC6.6");
    expect(soc2Of("traefik-minimum-tls13")).toEqual(["CC6.7", "CC6.1"]);
    expect(soc2Of("audit-logging")).toContain("CC7.2");
    expect(soc2Of("images-pinned")).toContain("CC8.1");
    expect(soc2Of("backups-daily-with-retention")).toContain("A1.2");
  });

  it("keeps the crosswalk to criteria the pack defines, with their texts", () => {
    const defined = new Set(Object.values(SOC2).map(refLabel));
    for (const [req, criteria] of Object.entries(SOC2_CROSSWALK)) {
      expect(req).toMatch(/^(PCI-DSS \d+\.\d+\.\d+|GDPR Art\. \d+)/);
      for (const c of criteria) expect(defined.has(refLabel(c)), `${req} → ${refLabel(c)}`).toBe(true);
    }
    expect(FRAMEWORKS.map((f) => f.name)).toEqual(["PCI-DSS", "GDPR", "SOC 2"]);
  });
});
