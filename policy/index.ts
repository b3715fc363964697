// The policy pack as the Pulumi CLI runs it (`pulumi preview --policy-pack policy --policy-pack-config
// policy/config/<stack>.json`). Constructing a PolicyPack starts the analyzer's gRPC server: this file
// is never imported by the project, its tests or the offline audit, which use ./policies instead.
import { PolicyPack } from "@pulumi/policy";
import { controls, PACK_NAME } from "./policies";

new PolicyPack(PACK_NAME, {
  displayName: "DiaspoMoney PCI-DSS and GDPR controls",
  description: "PCI-DSS v4.0.1 and GDPR controls for the DiaspoMoney platform: workloads, network, TLS, data, secrets, protection and audit logging.",
  // Fail closed: a run without pack config is held to the production bar.
  enforcementLevel: "mandatory",
  tags: ["pci-dss", "gdpr", "kubernetes", "cloudflare", "mongodb-atlas"],
  policies: controls,
});
