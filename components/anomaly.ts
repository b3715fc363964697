import type { AlertingRule, RecordingRule, RuleGroup, Severity, Team } from "./alerts";
import { familyPathPattern, familyRouterPattern, type ApiFamily } from "./api-families";

/**
 * Anomaly detection as Prometheus rules generated from one table of signals (infra/anomaly.ts), in
 * the way of the SLO rules: what a fixed threshold misses, because "normal" moves with the hour and
 * the day of the week.
 *
 * For each signal three layers of rules are generated:
 * 1. its current value over 5 minutes (`anomaly:<signal>:<op>`), per API family where it has one;
 * 2. its baselines, recorded every 5 minutes so that alerts stay cheap:
 *    - the prediction (`…:prediction`): the mean over the hour centred on the same time one week
 *      earlier (weekly seasonality: Monday 9:00 is compared with last Monday 9:00, not with Sunday
 *      night), or the rolling mean of the past week (`…:avg_over_time_1w`) while there is no week of
 *      history yet;
 *    - the deviation from it (`…:deviation`) and the standard deviation of that deviation over the
 *      past week (`…:deviation:stddev_over_time_1w`): how far off the prediction usually is;
 * 3. the alert: the deviation in standard deviations (a z-score) beyond the signal's threshold in its
 *    direction, and larger than `minChange` times the prediction (so that steady growth, which a week
 *    of small deviations makes significant, does not page), while the signal's traffic guard (now or
 *    a week ago) is above its minimum: below it, a handful of requests is noise.
 *
 * During the first week the prediction is the rolling mean, so the z-score is the classic one against
 * a rolling baseline; from the second week on, it is the seasonal comparison. The standard deviation
 * is floored (`stddevFloor`): after a perfectly flat week (no error at all) any change would be
 * infinitely many deviations away.
 */

/** What a signal measures. The per-family kinds carry a `family` label; the others are per namespace. */
export type AnomalySource =
  /** The app's requests per second, per API family. */
  | { kind: "appRequests" }
  /** Share of the app's answers that are 5xx, per API family. */
  | { kind: "appErrorRatio" }
  /** 95th percentile of the app's request duration, per API family. */
  | { kind: "appLatencyP95" }
  /** Requests Traefik answers itself with one of `codes` (rate limit 429, body too large 413), per API family. */
  | { kind: "edgeRefusals"; codes: readonly string[] }
  /** Rate of a counter of the app, optionally restricted by label matchers (`outcome="failed"`). */
  | { kind: "counter"; metric: string; matchers?: string }
  /** Share of a counter's increments that match `failing` (`outcome!="succeeded"`). */
  | { kind: "counterRatio"; metric: string; failing: string };

export interface AnomalySignal {
  /** snake_case id, part of the recorded series' names. */
  name: string;
  /** Name of the alert. */
  alert: string;
  /** What the signal is, in words, for summaries and panel titles ("Requests"). */
  title: string;
  source: AnomalySource;
  unit: "requests/second" | "events/second" | "ratio" | "seconds";
  /** Which deviations are anomalies: a rise, a fall, or both. */
  direction: "up" | "down" | "both";
  /** Fire beyond this many standard deviations from the prediction. */
  zScore: number;
  /** …and only when the change is also larger than this fraction of the prediction (0.5: 50 %). */
  minChange: number;
  /** Smallest standard deviation believed, in the signal's unit. */
  stddevFloor: number;
  /** Only while `signal` (now or a week ago) is at least `min`: the minimum-traffic guard. */
  guard: { signal: string; min: number };
  for: string;
  severity: Severity;
  /** Who hears about it. Default: the family's team for per-family signals, else platform. */
  team?: Team;
}

export interface AnomalyOptions {
  signals: readonly AnomalySignal[];
  families: readonly ApiFamily[];
  /** Namespace of the app and Traefik. */
  appNamespace: string;
  /** Name of the site route whose per-family IngressRoutes Traefik counts refusals on (`app`). */
  siteRoute: string;
  runbookBaseUrl: string;
}

/** Baselines: the past week, and the hour centred on the same time a week ago (offset 1w − 30 min). */
export const BASELINE = { window: "1w", seasonalRange: "1h", seasonalOffset: "167h30m", interval: "5m" } as const;

const PER_FAMILY = new Set<AnomalySource["kind"]>(["appRequests", "appErrorRatio", "appLatencyP95", "edgeRefusals"]);

export function isPerFamily(signal: Pick<AnomalySignal, "source">): boolean {
  return PER_FAMILY.has(signal.source.kind);
}

/** The series names of a signal: its current value and its baselines. */
export function anomalySeries(signal: Pick<AnomalySignal, "name" | "source">) {
  const op = { appRequests: "rate5m", edgeRefusals: "rate5m", counter: "rate5m", appErrorRatio: "ratio_rate5m", counterRatio: "ratio_rate5m", appLatencyP95: "p95_5m" }[signal.source.kind];
  const value = `anomaly:${signal.name}:${op}`;
  return {
    value,
    avg: `${value}:avg_over_time_1w`,
    prediction: `${value}:prediction`,
    deviation: `${value}:deviation`,
    stddev: `${value}:deviation:stddev_over_time_1w`,
  };
}

/** Everything wrong with a signal table; empty when rules can be generated from it. */
export function anomalyProblems(signals: readonly AnomalySignal[]): string[] {
  const problems: string[] = [];
  const byName = new Map<string, AnomalySignal>();
  for (const s of signals) {
    if (!/^[a-z][a-z0-9_]*$/.test(s.name)) problems.push(`signal "${s.name}": the name must be snake_case`);
    if (byName.has(s.name)) problems.push(`signal "${s.name}" is defined twice`);
    byName.set(s.name, s);
  }
  for (const s of signals) {
    if (!(s.zScore > 0)) problems.push(`signal "${s.name}": zScore must be positive (got ${s.zScore})`);
    if (!(s.minChange >= 0)) problems.push(`signal "${s.name}": minChange must be 0 or more (got ${s.minChange})`);
    if (!(s.stddevFloor > 0)) problems.push(`signal "${s.name}": stddevFloor must be positive (got ${s.stddevFloor}), or a flat week divides by zero`);
    if (!(s.guard.min > 0)) problems.push(`signal "${s.name}": the traffic guard's minimum must be positive (got ${s.guard.min})`);
    if (!/^\d+[smh]$/.test(s.for)) problems.push(`signal "${s.name}": for must be a duration such as 10m (got ${s.for})`);
    const guard = byName.get(s.guard.signal);
    if (!guard) problems.push(`signal "${s.name}": its guard names no signal ("${s.guard.signal}")`);
    else if (isPerFamily(s) !== isPerFamily(guard)) {
      problems.push(`signal "${s.name}": its guard "${guard.name}" must be ${isPerFamily(s) ? "per family" : "per namespace"} like the signal`);
    }
  }
  return problems;
}

/** The PromQL of a signal's current value. */
export function signalExpr(signal: AnomalySignal, o: Pick<AnomalyOptions, "families" | "appNamespace" | "siteRoute">): string {
  const ns = `namespace="${o.appNamespace}"`;
  const paths = familyPathPattern(o.families);
  const routers = familyRouterPattern(o.appNamespace, o.siteRoute, o.families);
  const byRoute = (inner: string, extraBy = "") =>
    `sum by (namespace, family${extraBy}) (label_replace(${inner}, "family", "$1", "route", "${paths}"))`;
  const requests = (extra = "") => `rate(http_request_duration_seconds_count{${ns},route=~"${paths}"${extra}}[5m])`;
  const s = signal.source;
  switch (s.kind) {
    case "appRequests":
      return byRoute(requests());
    case "appErrorRatio":
      // A family with no 5xx yet has no 5xx series: count it as 0 rather than absent, so that the first
      // burst of errors has a baseline to be compared with. No traffic: no ratio (not NaN, which would
      // poison a week of baseline).
      return `(\n  ${byRoute(requests(',status=~"5.."'))}\n  or 0 * ${byRoute(requests())}\n)\n/ (${byRoute(requests())} > 0)`;
    case "appLatencyP95":
      // histogram_quantile gives NaN where a family had no request: `>= 0` drops those samples.
      return `histogram_quantile(0.95, ${byRoute(`rate(http_request_duration_seconds_bucket{${ns},route=~"${paths}"}[5m])`, ", le")}) >= 0`;
    case "edgeRefusals": {
      const byRouter = (extra: string) =>
        `sum by (namespace, family) (label_replace(rate(traefik_router_requests_total{${ns},router=~"${routers}"${extra}}[5m]), "family", "$1", "router", "${routers}"))`;
      return `${byRouter(`,code=~"${s.codes.join("|")}"`)}\nor 0 * ${byRouter("")}`;
    }
    case "counter": {
      const total = `sum by (namespace) (rate(${s.metric}{${ns}}[5m]))`;
      return s.matchers ? `sum by (namespace) (rate(${s.metric}{${ns},${s.matchers}}[5m]))\nor 0 * ${total}` : total;
    }
    case "counterRatio": {
      const total = `sum by (namespace) (rate(${s.metric}{${ns}}[5m]))`;
      return `(\n  sum by (namespace) (rate(${s.metric}{${ns},${s.failing}}[5m]))\n  or 0 * ${total}\n)\n/ (${total} > 0)`;
    }
  }
}

/** The three rule groups of anomaly detection: current values, baselines, alerts. */
export function anomalyRuleGroups(o: AnomalyOptions): RuleGroup[] {
  const problems = anomalyProblems(o.signals);
  if (problems.length > 0) throw new Error(`Invalid anomaly signals:\n  - ${problems.join("\n  - ")}`);
  const byName = new Map(o.signals.map((s) => [s.name, s]));
  const ns = `namespace="${o.appNamespace}"`;

  const values: RuleGroup = {
    name: "anomaly.recording",
    interval: "30s",
    rules: o.signals.map((s): RecordingRule => ({ record: anomalySeries(s).value, expr: signalExpr(s, o) })),
  };

  const baselines: RuleGroup = {
    name: "anomaly-baselines.recording",
    interval: BASELINE.interval,
    rules: o.signals.flatMap((s): RecordingRule[] => {
      const n = anomalySeries(s);
      return [
        { record: n.avg, expr: `avg_over_time(${n.value}[${BASELINE.window}])` },
        {
          record: n.prediction,
          expr: `avg_over_time(${n.value}[${BASELINE.seasonalRange}] offset ${BASELINE.seasonalOffset})\nor ${n.avg}`,
        },
        { record: n.deviation, expr: `${n.value} - ${n.prediction}` },
        { record: n.stddev, expr: `stddev_over_time(${n.deviation}[${BASELINE.window}])` },
      ];
    }),
  };

  const alerts: AlertingRule[] = o.signals.flatMap((s) => {
    const scopes: { selector: string; team: Team; family?: ApiFamily }[] = isPerFamily(s)
      ? o.families.map((f) => ({ selector: `{${ns},family="${f.name}"}`, team: s.team ?? f.team, family: f }))
      : [{ selector: `{${ns}}`, team: s.team ?? "platform" }];
    const n = anomalySeries(s);
    const g = anomalySeries(byName.get(s.guard.signal)!);
    const on = isPerFamily(s) ? "namespace, family" : "namespace";
    return scopes.map(({ selector, team, family }): AlertingRule => {
      const d = `(${n.value}${selector} - ${n.prediction}${selector})`;
      const sd = `clamp_min(${n.stddev}${selector}, ${s.stddevFloor})`;
      const change = `${s.minChange} * ${n.prediction}${selector}`;
      const condition = {
        up: `${d} / ${sd} > ${s.zScore}\nand on (${on})\n${d} > ${change}`,
        down: `${d} / ${sd} < -${s.zScore}\nand on (${on})\n${d} < -${change}`,
        both: `abs${d} / ${sd} > ${s.zScore}\nand on (${on})\nabs${d} > ${change}`,
      }[s.direction];
      const guard = `(${g.value}${selector} >= ${s.guard.min} or ${g.prediction}${selector} >= ${s.guard.min})`;
      const where = family ? `${family.pathPrefix}/* in {{ $labels.namespace }}` : "{{ $labels.namespace }}";
      const way = { up: "above", down: "below", both: "away from" }[s.direction];
      return {
        alert: s.alert,
        expr: `${condition}\nand on (${on})\n${guard}`,
        for: s.for,
        labels: { severity: s.severity, team, ...(family ? { family: family.name } : {}) },
        annotations: {
          summary: `${s.title} of ${family ? family.pathPrefix : "the app"} unusual for the time of week`,
          description:
            `${s.title} of ${where} is more than ${s.zScore} standard deviations and ${s.minChange * 100} % ${way} ` +
            `the same hour last week; dashboard "DiaspoMoney / Anomalies".`,
          runbook_url: `${o.runbookBaseUrl}/${s.alert}`,
        },
      };
    });
  });

  return [values, baselines, { name: "anomaly.alerts", rules: alerts }];
}
