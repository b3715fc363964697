import type { PolicyComplianceFramework } from "@pulumi/policy";

/** One requirement of a compliance framework that a control helps satisfy. */
export interface FrameworkRef extends PolicyComplianceFramework {
  name: FrameworkName;
}

/** The frameworks the pack maps its controls to, in the order reports list them. */
export const FRAMEWORKS = [
  { name: "PCI-DSS", title: "PCI-DSS v4.0.1" },
  { name: "GDPR", title: "GDPR (EU) 2016/679" },
  { name: "SOC 2", title: "SOC 2 (AICPA Trust Services Criteria 2017: security, availability, confidentiality)" },
] as const;
export type FrameworkName = (typeof FRAMEWORKS)[number]["name"];

/** PCI DSS v4.0.1 requirement `reference`, with the requirement's text (abridged). */
export function pci(reference: string, specification: string): FrameworkRef {
  return { name: "PCI-DSS", version: "4.0.1", reference, specification };
}

/** GDPR (Regulation (EU) 2016/679) article, e.g. `Art. 32(1)(a)`. */
export function gdpr(reference: string, specification: string): FrameworkRef {
  return { name: "GDPR", version: "2016/679", reference, specification };
}

/** AICPA Trust Services Criterion, e.g. `CC6.1`, with the criterion's text (abridged). */
export function soc2(reference: string, specification: string): FrameworkRef {
  return { name: "SOC 2", version: "TSC 2017 (2022)", reference, specification };
}

/** `PCI-DSS 4.2.1`, `GDPR Art. 32(1)(a)`: how a reference reads in messages and reports. */
export function refLabel(ref: FrameworkRef): string {
  return `${ref.name} ${ref.reference}`;
}

/** A tag per reference, for Pulumi Cloud's policy views (`pci-dss-4.0.1:4.2.1`, `gdpr:art-32-1-a`). */
export function refTag(ref: FrameworkRef): string {
  if (ref.name === "PCI-DSS") return `pci-dss-${ref.version}:${ref.reference}`;
  if (ref.name === "SOC 2") return `soc2:${ref.reference.toLowerCase()}`;
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

/** The Trust Services Criteria the pack's controls support (texts abridged from the AICPA's). */
export const SOC2 = {
  logicalAccess: soc2("CC6.1", "Logical access security software, infrastructure and architectures protect information assets from security events (including encryption of data)."),
  userRegistration: soc2("CC6.2", "Users are registered and authorized before system credentials are issued and access is granted."),
  leastPrivilege: soc2("CC6.3", "Access to data, software and functions is authorized, modified or removed based on roles, responsibilities and least privilege."),
  boundary: soc2("CC6.6", "Logical access security measures protect against threats from sources outside the system boundaries."),
  transmission: soc2("CC6.7", "Transmission, movement and removal of information is restricted to authorized users and processes, and protected during transmission."),
  malware: soc2("CC6.8", "Controls prevent or detect and act upon the introduction of unauthorized or malicious software."),
  configuration: soc2("CC7.1", "Detection and monitoring procedures identify configuration changes that introduce vulnerabilities, and susceptibilities to newly discovered ones."),
  monitoring: soc2("CC7.2", "System components and their operation are monitored for anomalies indicative of malicious acts, natural disasters and errors, which are analysed as possible security events."),
  incidents: soc2("CC7.3", "Security events are evaluated to determine whether they could or did result in a failure to meet objectives (security incidents)."),
  recovery: soc2("CC7.5", "Activities to recover from identified security incidents are identified, developed and implemented."),
  changeManagement: soc2("CC8.1", "Changes to infrastructure, data, software and procedures are authorized, designed, configured, documented, tested, approved and implemented."),
  evaluations: soc2("CC4.1", "Ongoing and/or separate evaluations ascertain whether the components of internal control are present and functioning."),
  capacity: soc2("A1.1", "Current processing capacity and use of system components are maintained, monitored and evaluated to manage capacity demand."),
  backups: soc2("A1.2", "Environmental protections, software, data backup processes and recovery infrastructure are designed, implemented, operated, maintained and monitored."),
  confidentialIdentified: soc2("C1.1", "Confidential information is identified and maintained to meet the objectives related to confidentiality."),
  confidentialDisposed: soc2("C1.2", "Confidential information is disposed of to meet the objectives related to confidentiality."),
} as const;

/**
 * Which Trust Services Criteria each PCI DSS and GDPR requirement the pack cites supports: a control's
 * SOC 2 references follow from the requirements it already checks, so a control cannot cite one
 * framework and forget the other. Our crosswalk (neither the AICPA nor the PCI SSC publishes one
 * between these two); a test fails on a cited requirement that is not in it.
 */
export const SOC2_CROSSWALK: Readonly<Record<string, readonly FrameworkRef[]>> = {
  "PCI-DSS 1.2.1": [SOC2.boundary],
  "PCI-DSS 1.2.5": [SOC2.boundary],
  "PCI-DSS 1.3.1": [SOC2.boundary],
  "PCI-DSS 1.3.2": [SOC2.boundary, SOC2.transmission],
  "PCI-DSS 1.4.2": [SOC2.boundary],
  "PCI-DSS 1.4.4": [SOC2.boundary, SOC2.logicalAccess],
  "PCI-DSS 2.2.1": [SOC2.configuration],
  "PCI-DSS 2.2.4": [SOC2.configuration],
  "PCI-DSS 2.2.6": [SOC2.configuration, SOC2.logicalAccess],
  "PCI-DSS 2.2.7": [SOC2.transmission],
  "PCI-DSS 3.5.1": [SOC2.logicalAccess],
  "PCI-DSS 3.6.1": [SOC2.logicalAccess],
  "PCI-DSS 3.7.4": [SOC2.logicalAccess, SOC2.changeManagement],
  "PCI-DSS 4.2.1": [SOC2.transmission],
  "PCI-DSS 6.3.2": [SOC2.malware],
  "PCI-DSS 6.3.3": [SOC2.configuration],
  "PCI-DSS 6.4.2": [SOC2.boundary],
  "PCI-DSS 6.5.1": [SOC2.changeManagement],
  "PCI-DSS 7.2.2": [SOC2.leastPrivilege],
  "PCI-DSS 7.2.5": [SOC2.leastPrivilege],
  "PCI-DSS 8.2.1": [SOC2.userRegistration, SOC2.logicalAccess],
  "PCI-DSS 8.3.2": [SOC2.logicalAccess, SOC2.transmission],
  "PCI-DSS 8.6.2": [SOC2.logicalAccess],
  "PCI-DSS 10.2.1": [SOC2.monitoring],
  "PCI-DSS 10.5.1": [SOC2.monitoring],
  "PCI-DSS 12.10.1": [SOC2.backups, SOC2.recovery],
  "GDPR Art. 5(1)(e)": [SOC2.confidentialDisposed],
  "GDPR Art. 5(1)(f)": [SOC2.logicalAccess],
  "GDPR Art. 5(2)": [SOC2.evaluations],
  "GDPR Art. 25": [SOC2.logicalAccess],
  "GDPR Art. 32(1)(a)": [SOC2.logicalAccess],
  "GDPR Art. 32(1)(b)": [SOC2.capacity],
  "GDPR Art. 32(1)(c)": [SOC2.backups],
  "GDPR Art. 33": [SOC2.incidents],
  "GDPR Art. 44": [SOC2.confidentialIdentified],
};

/** `refs` followed by the SOC 2 criteria they support (each once, in order of first mention). */
export function withSoc2(refs: readonly FrameworkRef[]): FrameworkRef[] {
  const own = refs.filter((r) => r.name !== "SOC 2");
  const seen = new Set(refs.filter((r) => r.name === "SOC 2").map(refLabel));
  const added: FrameworkRef[] = [];
  for (const r of own) {
    for (const c of SOC2_CROSSWALK[refLabel(r)] ?? []) {
      if (seen.has(refLabel(c))) continue;
      seen.add(refLabel(c));
      added.push(c);
    }
  }
  return [...refs, ...added];
}

/** The PCI DSS and GDPR references among `refs` that the crosswalk does not map. */
export function unmappedReferences(refs: readonly FrameworkRef[]): string[] {
  return [...new Set(refs.filter((r) => r.name !== "SOC 2" && !(refLabel(r) in SOC2_CROSSWALK)).map(refLabel))];
}
