import type { PolicyComplianceFramework } from "@pulumi/policy";

/** One requirement of a compliance framework that a control helps satisfy. */
export interface FrameworkRef extends PolicyComplianceFramework {
  name: "PCI-DSS" | "GDPR";
}

/** PCI DSS v4.0.1 requirement `reference`, with the requirement's text (abridged). */
export function pci(reference: string, specification: string): FrameworkRef {
  return { name: "PCI-DSS", version: "4.0.1", reference, specification };
}

/** GDPR (Regulation (EU) 2016/679) article, e.g. `Art. 32(1)(a)`. */
export function gdpr(reference: string, specification: string): FrameworkRef {
  return { name: "GDPR", version: "2016/679", reference, specification };
}

/** `PCI-DSS 4.2.1`, `GDPR Art. 32(1)(a)`: how a reference reads in messages and reports. */
export function refLabel(ref: FrameworkRef): string {
  return `${ref.name} ${ref.reference}`;
}

/** A tag per reference, for Pulumi Cloud's policy views (`pci-dss-4.0.1:4.2.1`, `gdpr:art-32-1-a`). */
export function refTag(ref: FrameworkRef): string {
  if (ref.name === "PCI-DSS") return `pci-dss-${ref.version}:${ref.reference}`;
  return `gdpr:${ref.reference.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
}

// The requirements the pack cites, written once so that every control quotes them the same way.
export const PCI = {
  nscConfig: pci("1.2.1", "Configuration standards for network security controls are defined, implemented and maintained."),
  portsApproved: pci("1.2.5", "All services, protocols and ports allowed are identified, approved and have a defined business need."),
  inboundRestricted: pci("1.3.1", "Inbound traffic to the CDE is restricted to only that which is necessary; all other traffic is specifically denied."),
  outboundRestricted: pci("1.3.2", "Outbound traffic from the CDE is restricted to only that which is necessary; all other traffic is specifically denied."),
  untrustedInbound: pci("1.4.2", "Inbound traffic from untrusted networks to trusted networks is restricted to authorized, publicly accessible services."),
  storageNotExposed: pci("1.4.4", "System components that store cardholder data are not directly accessible from untrusted networks."),
  configStandards: pci("2.2.1", "Configuration standards are developed, implemented and maintained for all system components."),
  necessaryOnly: pci("2.2.4", "Only necessary services, protocols, daemons and functions are enabled; all unnecessary functionality is removed or disabled."),
  securityParameters: pci("2.2.6", "System security parameters are configured to prevent misuse."),
  adminEncrypted: pci("2.2.7", "All non-console administrative access is encrypted using strong cryptography."),
  storedDataUnreadable: pci("3.5.1", "PAN is rendered unreadable anywhere it is stored (strong cryptography)."),
  keysProtected: pci("3.6.1", "Procedures are defined and implemented to protect cryptographic keys used to protect stored account data."),
  strongCryptoInTransit: pci("4.2.1", "Strong cryptography and security protocols safeguard PAN during transmission over open, public networks."),
  inventory: pci("6.3.2", "An inventory of bespoke, custom and third-party software components is maintained."),
  patching: pci("6.3.3", "All system components are protected from known vulnerabilities by installing applicable security patches/updates."),
  webAttacks: pci("6.4.2", "Public-facing web applications are protected by an automated technical solution that detects and prevents web-based attacks."),
  changeControl: pci("6.5.1", "Changes to all system components in the production environment are made according to established procedures."),
  leastPrivilege: pci("7.2.2", "Access is assigned to users, including privileged users, based on job classification and least privileges."),
  systemAccounts: pci("7.2.5", "All application and system accounts and related access privileges are assigned and managed based on least privilege."),
  authRequired: pci("8.2.1", "All users are assigned a unique ID before access to system components or cardholder data is allowed."),
  authFactorsProtected: pci("8.3.2", "Strong cryptography renders all authentication factors unreadable during transmission and storage."),
  noHardcodedPasswords: pci("8.6.2", "Passwords/passphrases for application and system accounts are not hard coded in scripts, configuration files or source code."),
  auditLogs: pci("10.2.1", "Audit logs are enabled and active for all system components and cardholder data."),
  auditRetention: pci("10.5.1", "Audit log history is retained for at least 12 months, with at least the most recent three months immediately available."),
  incidentResponse: pci("12.10.1", "An incident response plan exists, including business recovery and continuity procedures and data backup processes."),
} as const;

export const GDPR = {
  storageLimitation: gdpr("Art. 5(1)(e)", "Personal data is kept no longer than necessary for the purposes of the processing (storage limitation)."),
  integrity: gdpr("Art. 5(1)(f)", "Personal data is processed with appropriate security, including protection against unauthorised access, loss or damage."),
  accountability: gdpr("Art. 5(2)", "The controller is responsible for, and able to demonstrate, compliance (accountability)."),
  byDesign: gdpr("Art. 25", "Data protection by design and by default."),
  encryption: gdpr("Art. 32(1)(a)", "Pseudonymisation and encryption of personal data."),
  resilience: gdpr("Art. 32(1)(b)", "Ongoing confidentiality, integrity, availability and resilience of processing systems and services."),
  restore: gdpr("Art. 32(1)(c)", "Ability to restore the availability and access to personal data in a timely manner after an incident."),
  breachDetection: gdpr("Art. 33", "Personal data breaches are notified; detecting and documenting them requires audit trails."),
  transfers: gdpr("Art. 44", "Transfers of personal data outside the EU/EEA only under the conditions of Chapter V."),
} as const;
