import type { SloThresholds } from "../components/alerts";

/**
 * DiaspoMoney's service levels and alert thresholds, as data. Every alert rule and every dashboard
 * threshold line is generated from this table (components/alerts.ts, components/dashboards.ts):
 * change a value here, and the rules, the dashboards and the tests follow.
 *
 * Values are in the base units Prometheus uses (seconds, ratios, requests per second), so the
 * number written here is the number that appears in the PromQL. `seed` quotes the line of the
 * infrastructure schema (infrastructure-schema.md, "Métriques et Monitoring") a value comes from;
 * values without one are ours, with the reason next to them.
 */
export const thresholds = {
  latencyP95: { value: 0.2, unit: "seconds", seed: "Response Time < 200ms (95th percentile)" },
  errorRate: { value: 0.001, unit: "ratio", seed: "Error Rate < 0.1%" },
  availability: { value: 0.999, unit: "ratio", seed: "Uptime > 99.9%", windowDays: 30 },
  throughput: {
    value: 1000,
    unit: "requests/second",
    seed: "Throughput > 1000 req/s (the tested capacity)",
    // Warn while there is still headroom to scale out: at 80 % of the tested capacity.
    warnAtFraction: 0.8,
  },
  cpu: { value: 0.7, unit: "ratio", seed: "CPU Usage < 70%" },
  memory: { value: 0.8, unit: "ratio", seed: "Memory Usage < 80%" },
  disk: { value: 0.85, unit: "ratio", seed: "Disk Usage < 85%" },
  networkLatency: { value: 0.05, unit: "seconds", seed: "Network Latency < 50ms" },
  // Daily backups (stacks/*.ts mongodb.backup.schedule) plus two hours for a slow run.
  backupAge: { value: 26 * 3600, unit: "seconds" },
  // cert-manager renews 30 days before expiry: 14 days left means renewal has failed for two weeks.
  certificateExpiry: { value: 14 * 24 * 3600, unit: "seconds" },
  // Sustained 401/403 per second that looks like credential stuffing rather than users mistyping.
  authFailures: { value: 5, unit: "requests/second" },
  // Payments have their own budget so that a payment outage is not diluted in overall traffic.
  paymentErrorRate: { value: 0.001, unit: "ratio" },
} as const satisfies SloThresholds;
