import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

export interface ContainerResources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface NamespaceBudget {
  cpu: { requests: string; limits: string };
  memory: { requests: string; limits: string };
  pods: number;
  persistentVolumeClaims: number;
  storage: string;
  /** What the LimitRange gives a container that sets no requests or limits. */
  containerDefaults: ContainerResources;
}

export interface SecureNamespaceArgs {
  /** The namespace name, used as is. */
  name: string;
  /** Labels put on the namespace and on every object in it. */
  labels: Record<string, string>;
  /**
   * Pod Security Standards. `enforce` rejects pods; `warn` and `audit` report them. Both default to
   * `restricted`; lower `enforce` only for workloads (operators, databases) that cannot meet it.
   */
  podSecurity?: { enforce?: PodSecurityLevel; warn?: PodSecurityLevel; audit?: PodSecurityLevel };
  budget: NamespaceBudget;
  /**
   * Services exposed outside the cluster. Kubernetes counts every port of a LoadBalancer Service
   * against `services.nodeports` (it allocates node ports for them), so an entry point with two ports
   * needs `{ loadBalancers: 1, nodePorts: 2 }`. Default: none, so NodePort and LoadBalancer Services
   * are refused by the quota.
   */
  exposure?: { loadBalancers: number; nodePorts: number };
  /**
   * Where DNS lives. Every pod may reach it on 53/UDP and 53/TCP; nothing else is allowed by default.
   * Defaults to kube-system pods labelled `k8s-app: kube-dns` (CoreDNS on most distributions).
   */
  dns?: { namespace: string; podLabels: Record<string, string> };
}

/** The Pod Security admission version the labels pin; "latest" would change meaning on upgrade. */
export const POD_SECURITY_VERSION = "v1.33";

/**
 * A namespace that starts closed: Pod Security Standards labels, a ResourceQuota and a LimitRange
 * sized by the caller, a default-deny NetworkPolicy for ingress and egress, and the one opening every
 * pod needs (DNS). Whatever runs in it must then declare the traffic it needs.
 */
export class SecureNamespace extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  readonly name: pulumi.Output<string>;
  readonly quota: k8s.core.v1.ResourceQuota;
  readonly limitRange: k8s.core.v1.LimitRange;
  readonly defaultDeny: k8s.networking.v1.NetworkPolicy;
  readonly allowDns: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: SecureNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:platform:SecureNamespace", name, {}, opts);
    const enforce = args.podSecurity?.enforce ?? "restricted";
    const warn = args.podSecurity?.warn ?? "restricted";
    const audit = args.podSecurity?.audit ?? "restricted";
    const dns = args.dns ?? { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } };
    const labels = args.labels;

    this.namespace = new k8s.core.v1.Namespace(
      name,
      {
        metadata: {
          name: args.name,
          labels: {
            ...labels,
            "kubernetes.io/metadata.name": args.name,
            "pod-security.kubernetes.io/enforce": enforce,
            "pod-security.kubernetes.io/enforce-version": POD_SECURITY_VERSION,
            "pod-security.kubernetes.io/warn": warn,
            "pod-security.kubernetes.io/warn-version": POD_SECURITY_VERSION,
            "pod-security.kubernetes.io/audit": audit,
            "pod-security.kubernetes.io/audit-version": POD_SECURITY_VERSION,
          },
        },
      },
      { parent: this },
    );
    this.name = this.namespace.metadata.name;
    const meta = (suffix: string) => ({ name: suffix, namespace: this.name, labels });
    const child = { parent: this, dependsOn: [this.namespace] };

    const b = args.budget;
    const exposure = args.exposure ?? { loadBalancers: 0, nodePorts: 0 };
    this.quota = new k8s.core.v1.ResourceQuota(
      `${name}-quota`,
      {
        metadata: meta("budget"),
        spec: {
          hard: {
            "requests.cpu": b.cpu.requests,
            "limits.cpu": b.cpu.limits,
            "requests.memory": b.memory.requests,
            "limits.memory": b.memory.limits,
            pods: String(b.pods),
            persistentvolumeclaims: String(b.persistentVolumeClaims),
            "requests.storage": b.storage,
            "services.loadbalancers": String(exposure.loadBalancers),
            "services.nodeports": String(exposure.nodePorts),
          },
        },
      },
      child,
    );

    this.limitRange = new k8s.core.v1.LimitRange(
      `${name}-limits`,
      {
        metadata: meta("container-defaults"),
        spec: {
          limits: [
            {
              type: "Container",
              defaultRequest: { ...b.containerDefaults.requests },
              default: { ...b.containerDefaults.limits },
            },
          ],
        },
      },
      child,
    );

    this.defaultDeny = new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      {
        metadata: meta("default-deny"),
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      },
      child,
    );

    this.allowDns = new k8s.networking.v1.NetworkPolicy(
      `${name}-allow-dns`,
      {
        metadata: meta("allow-dns-egress"),
        spec: {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": dns.namespace } },
                  podSelector: { matchLabels: dns.podLabels },
                },
              ],
              ports: [
                { protocol: "UDP", port: 53 },
                { protocol: "TCP", port: 53 },
              ],
            },
          ],
        },
      },
      child,
    );

    this.registerOutputs({
      name: this.name,
      podSecurity: { enforce, warn, audit },
      quota: this.quota.spec.hard,
      defaultDeny: true,
    });
  }
}
