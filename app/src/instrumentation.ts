import type { Instrumentation } from "next";

/**
 * Errors thrown by route handlers and pages: Next.js answers 500 itself, so the custom server never
 * sees them; this hook is where they are logged and sent to Sentry.
 */
export const onRequestError: Instrumentation.onRequestError = async (err, request, context) => {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const [{ createLogger }, { sentry }] = await Promise.all([import("./lib/log"), import("./lib/sentry")]);
  const route = context.routePath;
  createLogger("next").error("request failed", { err, route, method: request.method, routeType: context.routeType });
  await sentry().captureException(err, { tags: { route, method: request.method } });
};
