import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/**
 * NetworkPolicy building blocks every component uses the same way: the Kubernetes API server, the
 * nodes, and "the internet". One definition, so that a fix (a range to exclude, a port to add, a CNI
 * to support) reaches every policy at once.
 *
 * The API server and the nodes are not pods, so a NetworkPolicy can name them only by address
 * (`ipBlock`). Calico matches such rules; Cilium does not (unless the cluster runs with
 * `policy-cidr-match-mode=nodes`): it gives the API server and the nodes identities of their own, the
 * entities `kube-apiserver`, `remote-node` and `host`, which only a CiliumNetworkPolicy can name. So
 * a component asks for API-server (or node) access in two places that this module keeps consistent:
 * the rules it spreads into its NetworkPolicy ({@link apiServerEgress}, {@link apiServerIngress},
 * {@link nodeEgress}: address rules, none on Cilium) and, for the same pods, the companion policy
 * {@link ciliumClusterAccess} (entities, on Cilium only). Cilium adds the allows of both kinds of
 * policy together, so the namespace's default deny holds on either CNI.
 */

type EgressRule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;
type IngressRule = k8s.types.input.networking.v1.NetworkPolicyIngressRule;
type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type LabelSelector = k8s.types.input.meta.v1.LabelSelector;

export const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));

/** The network plugin that enforces the cluster's policies (`kubernetes.cni` in the deployment config). */
export type Cni = "calico" | "cilium" | "other";

/**
 * The cluster's network as the policies of its pods need it: the CNI, and where the Kubernetes API
 * server listens. NetworkPolicies see the endpoints behind the `kubernetes` Service, whose addresses
 * differ per cluster: `cidrs` narrows the rules when they are known. Build it with
 * {@link apiServerAccess} from the deployment config.
 */
export interface ApiServerAccess {
  cni: Cni;
  /** CIDRs of the API server endpoints. Default: any address (`0.0.0.0/0`, `::/0`); refused in production by the config. */
  cidrs?: string[];
  /** Default: 443 and 6443 (the Service port and the usual endpoint port). */
  ports?: number[];
}

/** The descriptor of the deployment config's `kubernetes` block (`cni`, `apiServerCidrs`). */
export function apiServerAccess(kubernetes: { cni: Cni; apiServerCidrs?: string[] }): ApiServerAccess {
  return { cni: kubernetes.cni, ...(kubernetes.apiServerCidrs ? { cidrs: [...kubernetes.apiServerCidrs] } : {}) };
}

const ANY_ADDRESS = ["0.0.0.0/0", "::/0"];
export const API_SERVER_PORTS = [443, 6443];

function onCilium(api: ApiServerAccess | undefined): boolean {
  return api?.cni === "cilium";
}

/**
 * NetworkPolicy egress rules to the API server, to spread into the policy's `egress`: one `ipBlock`
 * rule, or none on Cilium, where {@link ciliumClusterAccess} carries the access. `undefined` (a
 * caller that does not know the cluster) gets the address rule.
 */
export function apiServerEgress(api: ApiServerAccess | undefined): EgressRule[] {
  if (onCilium(api)) return [];
  return [{ to: (api?.cidrs ?? ANY_ADDRESS).map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(...(api?.ports ?? API_SERVER_PORTS)) }];
}

/**
 * NetworkPolicy ingress rules from the control plane (admission webhooks, aggregated APIs) on `ports`:
 * from the API server's addresses, else from `unknownCidrs`; none on Cilium (see {@link ciliumClusterAccess}).
 */
export function apiServerIngress(api: ApiServerAccess | undefined, ports: number[], unknownCidrs: string[]): IngressRule[] {
  if (onCilium(api)) return [];
  return [{ from: (api?.cidrs ?? unknownCidrs).map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(...ports) }];
}

/**
 * NetworkPolicy egress rules to the nodes' own ports (kubelets): nodes have no pod labels, so any
 * address on those ports; none on Cilium (see {@link ciliumClusterAccess}).
 */
export function nodeEgress(api: ApiServerAccess | undefined, ports: number[]): EgressRule[] {
  if (onCilium(api)) return [];
  return [{ to: ANY_ADDRESS.map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(...ports) }];
}

/** What some pods need of the cluster itself, which on Cilium only entities can express. */
export interface ClusterAccess {
  /** Egress to the API server, on the ports of {@link ApiServerAccess} (default 443 and 6443). */
  apiServer?: boolean;
  /** Egress to the nodes (`remote-node`, `host`) on these ports: kubelets. */
  nodePorts?: number[];
  /** Ingress from the API server on these ports: admission webhooks the control plane calls. */
  fromApiServerPorts?: number[];
}

export const CILIUM_NETWORK_POLICY = { apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy" } as const;
/** Entities of the API server and of the nodes in Cilium's policy language. */
export const CILIUM_ENTITIES = { apiServer: ["kube-apiserver"], nodes: ["remote-node", "host"] } as const;

const ciliumPorts = (ports: number[]) => [{ ports: ports.map((port) => ({ port: String(port), protocol: "TCP" })) }];

/**
 * The spec of the CiliumNetworkPolicy that gives the pods of `podSelector` what {@link ClusterAccess}
 * asks, by entity (`cilium.io/v2`: `endpointSelector`, `egress[].toEntities`, `ingress[].fromEntities`,
 * `toPorts[].ports[] {port: "<number>", protocol: TCP}`). Undefined when nothing is asked.
 */
export function ciliumClusterAccessSpec(podSelector: LabelSelector, access: ClusterAccess, api?: ApiServerAccess): Record<string, unknown> | undefined {
  const egress: Record<string, unknown>[] = [];
  const ingress: Record<string, unknown>[] = [];
  if (access.apiServer) egress.push({ toEntities: [...CILIUM_ENTITIES.apiServer], toPorts: ciliumPorts(api?.ports ?? API_SERVER_PORTS) });
  if (access.nodePorts?.length) egress.push({ toEntities: [...CILIUM_ENTITIES.nodes], toPorts: ciliumPorts(access.nodePorts) });
  if (access.fromApiServerPorts?.length) ingress.push({ fromEntities: [...CILIUM_ENTITIES.apiServer], toPorts: ciliumPorts(access.fromApiServerPorts) });
  if (egress.length === 0 && ingress.length === 0) return undefined;
  return {
    description: "API server and node access that NetworkPolicy ipBlocks cannot express on Cilium (components/network.ts)",
    endpointSelector: podSelector,
    ...(egress.length ? { egress } : {}),
    ...(ingress.length ? { ingress } : {}),
  };
}

export interface CiliumClusterAccessArgs {
  /** Name and namespace of the CiliumNetworkPolicy (by convention the NetworkPolicy's name and `-cluster-access`). */
  metadata: k8s.types.input.meta.v1.ObjectMeta;
  /** The pods: the same selector as their NetworkPolicy. */
  podSelector: LabelSelector;
  access: ClusterAccess;
  api: ApiServerAccess | undefined;
}

/**
 * On Cilium, registers the CiliumNetworkPolicy of {@link ciliumClusterAccessSpec} next to the pods'
 * NetworkPolicy; on any other CNI registers nothing (the address rules of the NetworkPolicy do the
 * work, and such a cluster has no `cilium.io` CRD). Call it wherever a NetworkPolicy uses
 * {@link apiServerEgress}, {@link apiServerIngress} or {@link nodeEgress}.
 */
export function ciliumClusterAccess(name: string, args: CiliumClusterAccessArgs, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource | undefined {
  if (!onCilium(args.api)) return undefined;
  const spec = ciliumClusterAccessSpec(args.podSelector, args.access, args.api);
  if (!spec) return undefined;
  return new k8s.apiextensions.CustomResource(name, { ...CILIUM_NETWORK_POLICY, metadata: args.metadata, spec }, opts);
}

/** Private, shared (carrier-grade NAT), link-local (cloud metadata) and loopback IPv4 ranges. */
export const NON_PUBLIC_IPV4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"];
/** Unique-local, link-local and loopback IPv6 ranges. */
export const NON_PUBLIC_IPV6 = ["fc00::/7", "fe80::/10", "::1/128"];

/** Public addresses only: the cluster's own networks and the cloud metadata service stay closed. */
export const PUBLIC_IP_BLOCKS = [
  { cidr: "0.0.0.0/0", except: NON_PUBLIC_IPV4 },
  { cidr: "::/0", except: NON_PUBLIC_IPV6 },
];

/** {@link PUBLIC_IP_BLOCKS} as NetworkPolicy peers. */
export const PUBLIC_INTERNET: Peer[] = PUBLIC_IP_BLOCKS.map((ipBlock) => ({ ipBlock }));
