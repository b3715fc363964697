import { describe, expect, it } from "vitest";
import { LOGIN_OUTCOMES, PAYMENT_OUTCOMES, recordLoginAttempt, recordPaymentAttempt, webMetrics, type PaymentOutcome } from "../src/lib/metrics";

/** Values of one counter in the registry, by outcome. */
async function byOutcome(name: string): Promise<Record<string, number>> {
  const metric = (await webMetrics().registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!metric) throw new Error(`${name} is not registered`);
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.outcome), v.value]));
}

describe("the business counters anomaly detection reads", () => {
  it("expose every outcome from the start, at zero", async () => {
    expect(await byOutcome("app_payment_attempts_total")).toEqual({ succeeded: 0, declined: 0, failed: 0 });
    expect(await byOutcome("app_login_attempts_total")).toEqual({ succeeded: 0, failed: 0 });
    expect(PAYMENT_OUTCOMES).toEqual(["succeeded", "declined", "failed"]);
    expect(LOGIN_OUTCOMES).toEqual(["succeeded", "failed"]);
  });

  it("count attempts by outcome", async () => {
    recordPaymentAttempt("succeeded");
    recordPaymentAttempt("succeeded");
    recordPaymentAttempt("declined");
    recordLoginAttempt("failed");
    expect(await byOutcome("app_payment_attempts_total")).toEqual({ succeeded: 2, declined: 1, failed: 0 });
    expect(await byOutcome("app_login_attempts_total")).toEqual({ succeeded: 0, failed: 1 });
  });

  it("fold an outcome outside the closed set into failed, so no caller can add a series", async () => {
    recordPaymentAttempt("timeout" as PaymentOutcome);
    recordPaymentAttempt("<script>" as PaymentOutcome);
    const values = await byOutcome("app_payment_attempts_total");
    expect(Object.keys(values).sort()).toEqual(["declined", "failed", "succeeded"]);
    expect(values.failed).toBe(2);
  });
});
