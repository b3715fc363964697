/**
 * The routing tree walked by Alertmanager's own tool (`amtool config routes test`, Debian's
 * `prometheus-alertmanager`, 0.25), against the pure walker the other tests use (`receiversFor`):
 * the two must agree on every case, the heartbeat and the anomaly alerts' teams included.
 * Skipped where amtool is not installed, except in CI.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { alertRoute, inhibitRules, receivers, receiversFor, type Matcher, type Route } from "../../components/alerts";

function find(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v amtool"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}
const AMTOOL = find();

const matcher = (m: Matcher) => `${m.name}${m.matchType}${JSON.stringify(m.value)}`;

/** An AlertmanagerConfig route as Alertmanager's own configuration file writes it. */
function toAlertmanager(r: Route): Record<string, unknown> {
  return {
    ...(r.receiver ? { receiver: r.receiver } : {}),
    ...(r.matchers ? { matchers: r.matchers.map(matcher) } : {}),
    ...(r.continue ? { continue: true } : {}),
    ...(r.groupBy ? { group_by: r.groupBy } : {}),
    ...(r.groupWait ? { group_wait: r.groupWait } : {}),
    ...(r.groupInterval ? { group_interval: r.groupInterval } : {}),
    ...(r.repeatInterval ? { repeat_interval: r.repeatInterval } : {}),
    ...(r.routes ? { routes: r.routes.map(toAlertmanager) } : {}),
  };
}

function amtoolRoutes(labels: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), "amtool-"));
  try {
    const config = {
      route: toAlertmanager(alertRoute()),
      inhibit_rules: inhibitRules().map((i) => ({ source_matchers: i.sourceMatch.map(matcher), target_matchers: i.targetMatch.map(matcher), equal: i.equal })),
      receivers: Object.values(receivers).map((name) => ({ name })),
    };
    writeFileSync(join(dir, "alertmanager.yml"), stringify(config));
    const args = ["config", "routes", "test", `--config.file=${join(dir, "alertmanager.yml")}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
    const r = spawnSync(AMTOOL!, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`amtool failed: ${r.stdout}${r.stderr}`);
    return r.stdout.trim().split(",");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!AMTOOL && process.env.CI !== "true")("the routing tree, walked by amtool", () => {
  it.each([
    [{ alertname: "Watchdog", severity: "none" }, [receivers.heartbeat]],
    [{ alertname: "InfoInhibitor", severity: "none" }, [receivers.discard]],
    [{ alertname: "KafkaOfflinePartitions", severity: "critical", team: "platform" }, [receivers.critical]],
    [{ alertname: "ApiTrafficAnomaly", severity: "warning", team: "security", family: "auth" }, [receivers.security, receivers.warning]],
    [{ alertname: "PaymentFailureAnomaly", severity: "warning", team: "payments" }, [receivers.payments, receivers.warning]],
    [{ alertname: "PaymentErrorRateHigh", severity: "critical", team: "payments" }, [receivers.payments, receivers.critical]],
    [{ alertname: "KubeQuotaInfo", severity: "info" }, [receivers.discard]],
    [{ alertname: "Mystery" }, [receivers.warning]],
  ])("routes %o to %o, as the pure walker does", (labels, expected) => {
    expect(amtoolRoutes(labels)).toEqual(expected);
    expect(receiversFor(alertRoute(), labels)).toEqual(expected);
  });
});
