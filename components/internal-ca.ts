import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { awaitAnnotations } from "./lifecycle";

/**
 * A private certificate authority managed by cert-manager, and the helpers that issue certificates
 * from it. The CA exists so that servers inside the cluster (databases, brokers) present certificates
 * whose chain a client in another namespace can verify: cert-manager copies the CA certificate into
 * the `ca.crt` key of every Secret it issues, in any namespace.
 */

type Labeller = (name: string) => Record<string, string>;

/** A cert-manager issuer, as `issuerRef` (and operators' `issuerConf`) name it. */
export interface IssuerRef {
  name: string;
  kind: "Issuer" | "ClusterIssuer";
  group: "cert-manager.io";
}

/** Key of a certificate. ECDSA P-256 unless said otherwise: small, fast, supported by every client we run. */
export type KeySpec = { algorithm: "ECDSA"; size: 256 | 384 } | { algorithm: "RSA"; size: 2048 | 3072 | 4096 };

/** Annotation that makes `pulumi up` wait until cert-manager has written the Secret (pulumi-kubernetes ≥ 4.18). */
export const WAIT_FOR_READY = { "pulumi.com/waitFor": "condition=Ready" } as const;

export interface LeafCertificate {
  /** Secret (type kubernetes.io/tls) cert-manager writes: `tls.crt`, `tls.key` and `ca.crt`. */
  secretName: string;
  issuer: IssuerRef;
  dnsNames?: string[];
  commonName?: string;
  /** Subject organizations. Default none. */
  organizations?: string[];
  /** Default `["server auth", "digital signature"]`. */
  usages?: string[];
  /** Default 2160h (90 days). */
  duration?: string;
  /** Default 720h (30 days): the Secret is rewritten a month before expiry. */
  renewBefore?: string;
  key?: KeySpec;
  /** Labels put on the Secret cert-manager writes. */
  secretLabels?: Record<string, string>;
}

/** How a server component gets its certificates from an issuer its caller owns. */
export interface IssuedTls {
  issuer: IssuerRef;
  /** Resources the certificates wait for: the issuer, once it can sign. */
  after?: pulumi.Resource[];
  /** Defaults: {@link LEAF_VALIDITY}, unless the component says otherwise. */
  duration?: string;
  renewBefore?: string;
}

/** Default lifetime of issued (leaf) certificates, and how long before expiry they are renewed. */
export const LEAF_VALIDITY = { duration: "2160h", renewBefore: "720h" } as const;

/**
 * `Certificate.spec` of a certificate issued by `issuer`. The key is PKCS #8, the only encoding every
 * consumer here reads (Kafka's PEM key store requires it), and a new key is generated at each renewal.
 */
export function leafCertificateSpec(c: LeafCertificate): Record<string, unknown> {
  const key = c.key ?? { algorithm: "ECDSA", size: 256 };
  const duration = c.duration ?? LEAF_VALIDITY.duration;
  const renewBefore = c.renewBefore ?? LEAF_VALIDITY.renewBefore;
  const problems = validityProblems(`certificate "${c.secretName}"`, duration, renewBefore);
  if (problems.length) throw new Error(problems.join("\n"));
  return {
    secretName: c.secretName,
    ...(c.secretLabels ? { secretTemplate: { labels: c.secretLabels } } : {}),
    ...(c.commonName ? { commonName: c.commonName } : {}),
    ...(c.organizations?.length ? { subject: { organizations: c.organizations } } : {}),
    ...(c.dnsNames?.length ? { dnsNames: c.dnsNames } : {}),
    usages: c.usages ?? ["server auth", "digital signature"],
    duration,
    renewBefore,
    privateKey: { ...key, encoding: "PKCS8", rotationPolicy: "Always" },
    issuerRef: { ...c.issuer },
  };
}

/** Hours in a Go duration string such as `43800h` or `720h0m0s` (what cert-manager accepts). */
export function durationHours(d: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m || d === "") throw new Error(`"${d}" is not a duration such as 43800h`);
  return Number(m[1] ?? 0) + Number(m[2] ?? 0) / 60 + Number(m[3] ?? 0) / 3600;
}

/**
 * Problems of a validity window, one message each (empty when fine): the renewal must start after
 * issuance and leave time before expiry, here at least a tenth of the lifetime on each side.
 */
export function validityProblems(what: string, duration: string, renewBefore: string): string[] {
  const total = durationHours(duration);
  const before = durationHours(renewBefore);
  const problems: string[] = [];
  if (before <= 0 || before >= total) problems.push(`${what}: renewBefore ${renewBefore} must be shorter than the duration ${duration}`);
  else if (before < total / 10 || before > (total * 9) / 10) {
    problems.push(`${what}: renewBefore ${renewBefore} should fall between a tenth and nine tenths of the duration ${duration}`);
  }
  return problems;
}

export interface InternalCAArgs {
  /** Name of the CA Certificate, of its Secret and of the ClusterIssuer that signs with it. */
  name: string;
  /** Name of the self-signed Issuer that signs the CA certificate itself. */
  selfSignedIssuerName: string;
  /**
   * cert-manager's cluster resource namespace (the namespace it runs in, by default): a ClusterIssuer
   * reads its CA Secret there and nowhere else.
   */
  namespace: pulumi.Input<string>;
  labels: Labeller;
  /** Subject of the CA certificate. Default: `name`, no organization. */
  commonName?: string;
  organizations?: string[];
  /** Default ECDSA P-256. */
  key?: KeySpec;
  /** Default 43800h (5 years). */
  duration?: string;
  /** Default 8760h (1 year before expiry). */
  renewBefore?: string;
  /**
   * Options of the CA Certificate: `protect` and `retainOnDelete` where clients must keep trusting it
   * (production). The Secret itself is cert-manager's and survives the Certificate's deletion.
   */
  retention?: Pick<pulumi.CustomResourceOptions, "protect" | "retainOnDelete">;
  /**
   * Resources every object waits for: cert-manager, whose webhook admits Issuers and Certificates,
   * where this stack installs it. A component's own `dependsOn` would not reach its children.
   */
  after?: pulumi.Resource[];
  /** Make `pulumi up` wait for the CA certificate to be issued (see `awaitAnnotations`). Default true. */
  awaitReadiness?: boolean;
}

/**
 * A CA for one environment: a self-signed Issuer that signs only the CA certificate, the CA certificate
 * (its key kept across renewals, so that what clients already trust stays valid), and a ClusterIssuer
 * that issues certificates from it in any namespace.
 */
export class InternalCA extends pulumi.ComponentResource {
  readonly selfSignedIssuer: k8s.apiextensions.CustomResource;
  readonly certificate: k8s.apiextensions.CustomResource;
  readonly clusterIssuer: k8s.apiextensions.CustomResource;
  /** What `issuerRef` must say to be issued by this CA. */
  readonly issuerRef: IssuerRef;
  /** Secret, in the cert-manager namespace, holding the CA key pair. */
  readonly secretName: string;

  constructor(name: string, args: InternalCAArgs, opts?: pulumi.ComponentResourceOptions) {
    const duration = args.duration ?? "43800h";
    const renewBefore = args.renewBefore ?? "8760h";
    // Before registering anything: a CA that renews too late or constantly leaves no half-built PKI.
    const problems = validityProblems(`internal CA "${args.name}"`, duration, renewBefore);
    if (problems.length) throw new Error(problems.join("\n"));
    super("diaspomoney:security:InternalCA", name, {}, opts);
    const after = args.after ?? [];
    const meta = (objName: string, namespaced = true) => ({
      name: objName,
      ...(namespaced ? { namespace: args.namespace } : {}),
      labels: args.labels(objName),
    });
    this.secretName = args.name;
    this.issuerRef = { name: args.name, kind: "ClusterIssuer", group: "cert-manager.io" };

    this.selfSignedIssuer = new k8s.apiextensions.CustomResource(
      `${name}-selfsigned`,
      { apiVersion: "cert-manager.io/v1", kind: "Issuer", metadata: meta(args.selfSignedIssuerName), spec: { selfSigned: {} } },
      { parent: this, dependsOn: after },
    );

    this.certificate = new k8s.apiextensions.CustomResource(
      `${name}-certificate`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        // The ClusterIssuer is unusable until the CA Secret exists: dependents wait for it.
        metadata: { ...meta(args.name), annotations: awaitAnnotations("Certificate", args.awaitReadiness) },
        spec: {
          isCA: true,
          commonName: args.commonName ?? args.name,
          ...(args.organizations?.length ? { subject: { organizations: args.organizations } } : {}),
          secretName: args.name,
          secretTemplate: { labels: args.labels(args.name) },
          duration,
          renewBefore,
          // A renewed CA certificate keeps the key (and the subject): certificates issued before and
          // CA files clients already hold stay valid across the renewal. A new key would break both.
          privateKey: { ...(args.key ?? { algorithm: "ECDSA", size: 256 }), rotationPolicy: "Never" },
          usages: ["cert sign", "crl sign", "digital signature"],
          issuerRef: { name: args.selfSignedIssuerName, kind: "Issuer", group: "cert-manager.io" },
        },
      },
      { parent: this, dependsOn: [...after, this.selfSignedIssuer], ...args.retention },
    );

    this.clusterIssuer = new k8s.apiextensions.CustomResource(
      `${name}-issuer`,
      { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: meta(args.name, false), spec: { ca: { secretName: args.name } } },
      { parent: this, dependsOn: [...after, this.certificate] },
    );

    this.registerOutputs({
      issuerRef: this.issuerRef,
      secretName: this.secretName,
      namespace: args.namespace,
      duration,
      renewBefore,
      key: args.key ?? { algorithm: "ECDSA", size: 256 },
    });
  }
}
