/**
 * The register of accepted exceptions: findings the compliance owners reviewed and accepted, each
 * with its reason and compensating measures. A matching finding is reported as holding *by
 * exception* (visible in the audit report), never silently dropped. Adding an entry is a reviewed
 * change to this file; nobody can exempt a resource from the resource's own code.
 */
export interface AcceptedException {
  control: string;
  /** Kubernetes kind (or the Pulumi type's last segment) and name of the resource. */
  kind: string;
  name: string;
  /** Property paths the exception covers. */
  property: RegExp;
  reason: string;
}

export const EXCEPTIONS: AcceptedException[] = [
  {
    control: "read-only-root-filesystem",
    kind: "RedisCluster",
    name: "redis",
    property: /^spec\.redis(Leader|Follower)\.securityContext\.readOnlyRootFilesystem$/,
    reason:
      "the OT redis image's entrypoint writes /etc/redis/redis.conf at start; the container still runs non-root with no capabilities, no privilege escalation and seccomp RuntimeDefault, and its data is on the persistent volume",
  },
];
