import type * as k8s from "@pulumi/kubernetes";

/**
 * NetworkPolicy building blocks every component uses the same way: the Kubernetes API server and
 * "the internet". One definition, so that a fix (a range to exclude, a port to add) reaches every
 * policy at once.
 */

type EgressRule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;
type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));

/**
 * Where the Kubernetes API server listens. NetworkPolicies see the endpoints behind the `kubernetes`
 * Service, whose addresses differ per cluster: the caller narrows `cidrs` when it knows them.
 */
export interface ApiServerAccess {
  /** CIDRs of the API server endpoints. Default: any address (`0.0.0.0/0`, `::/0`). */
  cidrs?: string[];
  /** Default: 443 and 6443 (the Service port and the usual endpoint port). */
  ports?: number[];
}

/** Egress rule to the Kubernetes API server. */
export function apiServerEgress(api: ApiServerAccess | undefined): EgressRule {
  return {
    to: (api?.cidrs ?? ["0.0.0.0/0", "::/0"]).map((cidr) => ({ ipBlock: { cidr } })),
    ports: tcp(...(api?.ports ?? [443, 6443])),
  };
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
