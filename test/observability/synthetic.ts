/**
 * Synthetic traffic with the shape real traffic has: a daily cycle (quiet at 02:00 UTC, busiest at
 * 14:00), quieter weekends, and noise; one value per minute, from promtool's time zero (Thursday
 * 1 January 1970, 00:00 UTC). Deterministic: the same seed gives the same series.
 */

export const MINUTES_PER_DAY = 24 * 60;

/** Day of the week of day `d` after time zero: 0 Sunday … 6 Saturday (day 0 is a Thursday). */
export function weekday(day: number): number {
  return (4 + day) % 7;
}

/** Share of the weekday peak at `hour` (0–24): 0.15 at 02:00, 1 at 14:00. */
export function dailyShape(hour: number): number {
  return 0.15 + 0.85 * Math.sin((Math.PI * (hour - 2)) / 24) ** 2;
}

/** A window of minutes [from, to) where the rate is multiplied by `factor` (0 for an outage). */
export interface Surge {
  from: number;
  to: number;
  factor: number;
}

/** Minute index of `day` days and `hour` hours after time zero. */
export function at(day: number, hour: number, minute = 0): number {
  return day * MINUTES_PER_DAY + hour * 60 + minute;
}

/** Mulberry32: a small, good-enough deterministic generator. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TrafficOptions {
  /** Events per second at the weekday peak. */
  peak: number;
  days: number;
  /** Standard deviation of the per-minute noise, relative to the level (0.05: 5 %). */
  noise: number;
  seed: number;
  /** Share of the weekday level on Saturdays and Sundays. Default 0.5. */
  weekend?: number;
  surges?: Surge[];
}

/** Events per second, one value per minute. */
export function weeklyRates(o: TrafficOptions): number[] {
  const rnd = random(o.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const out: number[] = [];
  for (let m = 0; m < o.days * MINUTES_PER_DAY; m++) {
    const day = Math.floor(m / MINUTES_PER_DAY);
    const hour = (m % MINUTES_PER_DAY) / 60;
    const week = weekday(day) === 0 || weekday(day) === 6 ? (o.weekend ?? 0.5) : 1;
    const surge = (o.surges ?? []).filter((s) => m >= s.from && m < s.to).reduce((f, s) => f * s.factor, 1);
    out.push(Math.max(0, o.peak * dailyShape(hour) * week * (1 + o.noise * gauss()) * surge));
  }
  return out;
}

/** A counter sampled every minute whose rate is `rates` (events per second). */
export function counter(rates: readonly number[]): number[] {
  let total = 0;
  return rates.map((r) => (total += r * 60));
}

/** Element-wise `a * share` (a counter's share of the traffic). */
export function scaled(rates: readonly number[], share: number | ((minute: number) => number)): number[] {
  return rates.map((r, m) => r * (typeof share === "number" ? share : share(m)));
}

/** Element-wise sum of rate series. */
export function plus(a: readonly number[], b: readonly number[]): number[] {
  return a.map((v, i) => v + b[i]);
}

/** promtool's `values` notation for explicit samples, one per interval. */
export function promtoolValues(samples: readonly number[]): string {
  return samples.map((v) => String(Math.round(v * 1000) / 1000)).join(" ");
}
