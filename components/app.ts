import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ContainerResources } from "./namespaces";
import { PUBLIC_INTERNET } from "./network";

/** How a new version reaches users. */
export type ReleaseStrategy =
  | { strategy: "rolling" }
  /** A second Deployment runs `canaryImage` and receives `canaryWeight` % of the route's traffic. */
  | { strategy: "canary"; canaryImage: string; canaryWeight: number }
  /** Two full-size colours; the route sends everything to `active`. Switching is a config change. */
  | { strategy: "blueGreen"; blueImage: string; greenImage: string; active: "blue" | "green" };

/** One Deployment + Service of the app, and the share of the route's traffic it gets. */
export interface ReleaseVariant {
  /** Deployment and Service name, and `app.kubernetes.io/instance` of its pods. */
  name: string;
  track: "stable" | "canary" | "blue" | "green";
  image: string;
  minReplicas: number;
  maxReplicas: number;
  /** Percentage of the route's traffic; 0 for a standby colour. */
  weight: number;
}

/**
 * The Deployments a release strategy needs, with sizes and route weights. A canary is sized in
 * proportion to its share of the traffic (at least one pod) so that its pods see the same load per
 * pod as the stable ones; both colours of a blue/green release are full size, so a switch or a
 * rollback never waits for pods to start.
 */
export function releaseVariants(base: string, image: string, release: ReleaseStrategy, replicas: number, maxReplicas: number): ReleaseVariant[] {
  switch (release.strategy) {
    case "rolling":
      return [{ name: base, track: "stable", image, minReplicas: replicas, maxReplicas, weight: 100 }];
    case "canary": {
      const w = release.canaryWeight;
      const canaryMin = Math.max(1, Math.ceil((replicas * w) / 100));
      return [
        { name: base, track: "stable", image, minReplicas: replicas, maxReplicas, weight: 100 - w },
        { name: `${base}-canary`, track: "canary", image: release.canaryImage, minReplicas: canaryMin, maxReplicas: Math.max(canaryMin, Math.ceil((maxReplicas * w) / 100)), weight: w },
      ];
    }
    case "blueGreen":
      return (["blue", "green"] as const).map((colour) => ({
        name: `${base}-${colour}`,
        track: colour,
        image: colour === "blue" ? release.blueImage : release.greenImage,
        minReplicas: replicas,
        maxReplicas,
        weight: release.active === colour ? 100 : 0,
      }));
  }
}

/** A Service the route sends traffic to, with its weight. */
export interface AppRouteTarget {
  service: string;
  port: number;
  weight: number;
}

export interface AppDeploymentArgs {
  namespace: pulumi.Input<string>;
  /** Labels put on every object; `app.kubernetes.io/name` names the app (`web`). */
  labels: Record<string, string>;
  /** The stable subset of `labels` that selects the app's pods (all variants). */
  selectorLabels: Record<string, string>;
  /** Base name of Deployments, Services and other objects. Default `web`. */
  name?: string;
  image: string;
  /** Default `{ strategy: "rolling" }`. */
  release?: ReleaseStrategy;
  /** Replicas of the (main) Deployment, and the HorizontalPodAutoscaler's minimum. */
  replicas: number;
  maxReplicas: number;
  resources: ContainerResources;
  /** Container port, named `http`; the Services expose it under the same number. Default 3000. */
  port?: number;
  /** Secret (same namespace) whose keys become environment variables: the database connections. */
  connectionSecretName: pulumi.Input<string>;
  /**
   * CA certificate the data services' TLS certificates chain to, mounted read-only at `mountPath`
   * (only the `key` item of the Secret: never a private key). The connection Secret names the file.
   */
  trust?: { secretName: pulumi.Input<string>; key: string; mountPath: string };
  /** Secret (same namespace) holding the Sentry DSN; optional in the pod, so Sentry never blocks a start. */
  sentry?: { secretName: pulumi.Input<string>; key?: string };
  /** Plain, non-secret environment variables (for example APP_ENVIRONMENT). */
  env?: Record<string, string>;
  /**
   * Field-level encryption keys: one 256-bit key is generated per id, oldest first, and the last
   * one is active. Append an id to rotate; remove one only once no stored value uses it.
   * Default `["k1"]`. `keyOptions` protects the key material (losing it loses the data).
   */
  fieldEncryption?: { keyIds?: string[]; keyOptions?: Pick<pulumi.CustomResourceOptions, "protect" | "retainOnDelete"> };
  /** Target utilisation of the HorizontalPodAutoscaler, in % of requests. Defaults 70 (CPU), 80 (memory). */
  autoscaling?: { cpuUtilization?: number; memoryUtilization?: number };
  network: {
    /** Pods of the same namespace allowed to connect to the app's port (the proxy, the scraper). */
    ingressFrom: Record<string, string>[];
    /** Namespace of the databases, and the TCP ports the app may reach there. */
    dataNamespace: pulumi.Input<string>;
    dataPorts: number[];
    /** Allow HTTPS to addresses outside the private ranges (error reporting). Default true. */
    publicHttps?: boolean;
  };
  /** Seconds between SIGTERM and SIGKILL. Default 35: 5 s pre-stop pause + the server's 25 s drain + margin. */
  terminationGracePeriodSeconds?: number;
  /** Pause before SIGTERM, while endpoints and the proxy forget the pod. Default 5. */
  preStopSleepSeconds?: number;
}

const UID = 10001;
const INSTANCE = "app.kubernetes.io/instance";

/**
 * The DiaspoMoney web workload: its Deployment(s) and Services per release strategy, autoscaling
 * (HPA on CPU and memory, VPA recommendations), disruption budgets, spreading over zones and
 * hosts, Pod Security `restricted` settings, probes, a generated field-encryption keyring, its
 * ServiceAccount (no API token) and its NetworkPolicy.
 */
export class AppDeployment extends pulumi.ComponentResource {
  readonly variants: ReleaseVariant[];
  readonly deployments: Record<string, k8s.apps.v1.Deployment> = {};
  readonly services: Record<string, k8s.core.v1.Service> = {};
  readonly routeTargets: AppRouteTarget[];
  readonly fieldEncryptionSecret: k8s.core.v1.Secret;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: AppDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:app:AppDeployment", name, {}, opts);
    const base = args.name ?? "web";
    const port = args.port ?? 3000;
    const release = args.release ?? { strategy: "rolling" };
    const labels = args.labels;
    const ns = args.namespace;
    const child = { parent: this };
    const meta = (objectName: string, extra: Record<string, string> = {}) => ({ name: objectName, namespace: ns, labels: { ...labels, ...extra } });

    this.variants = releaseVariants(base, args.image, release, args.replicas, args.maxReplicas);

    const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: meta(base), automountServiceAccountToken: false }, child);

    const keyIds = args.fieldEncryption?.keyIds ?? ["k1"];
    const activeKeyId = keyIds[keyIds.length - 1];
    const keys = keyIds.map((id) => ({
      id,
      bytes: new random.RandomBytes(`${name}-field-key-${id}`, { length: 32 }, { ...child, ...args.fieldEncryption?.keyOptions }),
    }));
    this.fieldEncryptionSecret = new k8s.core.v1.Secret(
      `${name}-field-encryption`,
      {
        metadata: meta(`${base}-field-encryption`),
        type: "Opaque",
        stringData: {
          FIELD_ENCRYPTION_KEYS: pulumi.secret(pulumi.all(keys.map((k) => pulumi.interpolate`${k.id}:${k.bytes.base64}`)).apply((entries) => entries.join(","))),
          FIELD_ENCRYPTION_ACTIVE_KEY: activeKeyId,
        },
      },
      child,
    );

    const sentryKey = args.sentry?.key ?? "SENTRY_DSN";
    const cpu = args.autoscaling?.cpuUtilization ?? 70;
    const memory = args.autoscaling?.memoryUtilization ?? 80;

    for (const v of this.variants) {
      const selector = { ...args.selectorLabels, [INSTANCE]: v.name };
      const podLabels = { ...labels, ...selector };
      const probe = (path: string, periodSeconds: number, timeoutSeconds: number, failureThreshold: number) => ({
        httpGet: { path, port: "http", scheme: "HTTP" },
        periodSeconds,
        timeoutSeconds,
        failureThreshold,
      });

      const deployment = new k8s.apps.v1.Deployment(
        `${name}-${v.name}`,
        {
          metadata: meta(v.name, { [INSTANCE]: v.name }),
          spec: {
            // The initial size only: afterwards the HorizontalPodAutoscaler owns `replicas`
            // (see ignoreChanges below).
            replicas: v.minReplicas,
            revisionHistoryLimit: 5,
            selector: { matchLabels: selector },
            strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
            template: {
              metadata: {
                labels: podLabels,
                // A key rotation changes the active key: restart the pods so they pick it up.
                annotations: { "field-encryption-keys": keyIds.join(",") },
              },
              spec: {
                serviceAccountName: serviceAccount.metadata.name,
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                terminationGracePeriodSeconds: args.terminationGracePeriodSeconds ?? 35,
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: UID,
                  runAsGroup: UID,
                  fsGroup: UID,
                  seccompProfile: { type: "RuntimeDefault" },
                },
                topologySpreadConstraints: [
                  // Losing a zone must leave most replicas running.
                  { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: selector }, matchLabelKeys: ["pod-template-hash"] },
                  { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector }, matchLabelKeys: ["pod-template-hash"] },
                ],
                containers: [
                  {
                    name: base,
                    image: v.image,
                    imagePullPolicy: "IfNotPresent",
                    ports: [{ name: "http", containerPort: port, protocol: "TCP" }],
                    env: [
                      { name: "PORT", value: String(port) },
                      { name: "APP_RELEASE", value: v.image },
                      { name: "APP_TRACK", value: v.track },
                      ...Object.entries(args.env ?? {}).map(([k, value]) => ({ name: k, value })),
                      ...(args.sentry
                        ? [{ name: "SENTRY_DSN", valueFrom: { secretKeyRef: { name: args.sentry.secretName, key: sentryKey, optional: true } } }]
                        : []),
                    ],
                    envFrom: [{ secretRef: { name: args.connectionSecretName } }, { secretRef: { name: this.fieldEncryptionSecret.metadata.name } }],
                    resources: { requests: { ...args.resources.requests }, limits: { ...args.resources.limits } },
                    securityContext: {
                      runAsNonRoot: true,
                      runAsUser: UID,
                      runAsGroup: UID,
                      allowPrivilegeEscalation: false,
                      readOnlyRootFilesystem: true,
                      privileged: false,
                      capabilities: { drop: ["ALL"] },
                      seccompProfile: { type: "RuntimeDefault" },
                    },
                    // Up to 60 s to start; liveness and readiness only count once it has.
                    startupProbe: probe("/api/health", 2, 2, 30),
                    // Readiness checks the databases (1.5 s bound per check in the app).
                    readinessProbe: probe("/api/health/ready", 5, 3, 2),
                    // Liveness never depends on the databases: an outage must not restart every pod.
                    livenessProbe: probe("/api/health", 10, 2, 3),
                    // Keeps serving while the endpoint removal reaches kube-proxy and Traefik.
                    lifecycle: { preStop: { sleep: { seconds: args.preStopSleepSeconds ?? 5 } } },
                    volumeMounts: [
                      { name: "tmp", mountPath: "/tmp" },
                      { name: "next-cache", mountPath: "/app/.next/cache" },
                      ...(args.trust ? [{ name: "data-tls", mountPath: args.trust.mountPath, readOnly: true }] : []),
                    ],
                  },
                ],
                volumes: [
                  { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                  { name: "next-cache", emptyDir: { sizeLimit: "256Mi" } },
                  ...(args.trust
                    ? [{ name: "data-tls", secret: { secretName: args.trust.secretName, items: [{ key: args.trust.key, path: args.trust.key }], defaultMode: 0o444 } }]
                    : []),
                ],
              },
            },
          },
        },
        { ...child, ignoreChanges: ["spec.replicas"] },
      );
      this.deployments[v.name] = deployment;

      this.services[v.name] = this.service(name, v.name, selector, port, meta(v.name, { [INSTANCE]: v.name }));

      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-${v.name}-hpa`,
        {
          metadata: meta(v.name, { [INSTANCE]: v.name }),
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
            minReplicas: v.minReplicas,
            maxReplicas: v.maxReplicas,
            metrics: [
              { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: cpu } } },
              { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: memory } } },
            ],
            // Up fast on a traffic spike, down slowly so a dip does not throw away warm pods.
            behavior: {
              scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Percent", value: 100, periodSeconds: 30 }] },
              scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 20, periodSeconds: 60 }] },
            },
          },
        },
        child,
      );

      // Recommendations only (updateMode Off): requests stay as reviewed in the stack file, and
      // VPA never fights the HPA, which scales on the same CPU and memory signals.
      new k8s.apiextensions.CustomResource(
        `${name}-${v.name}-vpa`,
        {
          apiVersion: "autoscaling.k8s.io/v1",
          kind: "VerticalPodAutoscaler",
          metadata: meta(v.name, { [INSTANCE]: v.name }),
          spec: {
            targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
            updatePolicy: { updateMode: "Off" },
            resourcePolicy: { containerPolicies: [{ containerName: base, controlledResources: ["cpu", "memory"] }] },
          },
        },
        child,
      );

      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-${v.name}-pdb`,
        {
          metadata: meta(v.name, { [INSTANCE]: v.name }),
          spec: {
            maxUnavailable: 1,
            selector: { matchLabels: selector },
            // A pod that never became ready must not block node drains.
            unhealthyPodEvictionPolicy: "AlwaysAllow",
          },
        },
        child,
      );
    }

    // No `web` alias of the active colour in blue/green: a ServiceMonitor selecting the app's
    // Services by name would then scrape the active pods twice and double every request count.

    this.routeTargets = this.variants
      .filter((v) => release.strategy !== "blueGreen" || v.weight > 0)
      .map((v) => ({ service: v.name, port, weight: v.weight }));

    const publicHttps = args.network.publicHttps ?? true;
    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta(base),
        spec: {
          podSelector: { matchLabels: args.selectorLabels },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            {
              from: args.network.ingressFrom.map((podLabels) => ({ podSelector: { matchLabels: podLabels } })),
              ports: [{ protocol: "TCP", port }],
            },
          ],
          egress: [
            {
              to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.network.dataNamespace } } }],
              ports: args.network.dataPorts.map((p) => ({ protocol: "TCP", port: p })),
            },
            ...(publicHttps
              ? [
                  {
                    // Public addresses only: HTTPS to the cluster's own services (the API server
                    // included) stays closed.
                    to: PUBLIC_INTERNET,
                    ports: [{ protocol: "TCP", port: 443 }],
                  },
                ]
              : []),
          ],
        },
      },
      child,
    );

    this.registerOutputs({
      strategy: release.strategy,
      variants: this.variants,
      routeTargets: this.routeTargets,
      deployments: Object.keys(this.deployments),
      services: Object.keys(this.services),
      serviceAccount: serviceAccount.metadata.name,
      fieldEncryption: { secretName: this.fieldEncryptionSecret.metadata.name, keyIds, activeKeyId },
      networkPolicy: this.networkPolicy.metadata.name,
    });
  }

  private service(name: string, serviceName: string, selector: Record<string, string>, port: number, metadata: k8s.types.input.meta.v1.ObjectMeta): k8s.core.v1.Service {
    return new k8s.core.v1.Service(
      `${name}-${serviceName}-svc`,
      {
        metadata,
        spec: { type: "ClusterIP", selector, ports: [{ name: "http", port, targetPort: "http", protocol: "TCP" }] },
      },
      { parent: this },
    );
  }
}
