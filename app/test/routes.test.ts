import { describe, expect, it } from "vitest";
import { methodLabel } from "../src/lib/metrics";
import { routeLabeler, UNMATCHED } from "../src/lib/routes";

describe("route labels of the request histogram", () => {
  const label = routeLabeler([
    { page: "/api/users/me", regex: "^/api/users/me(?:/)?$" },
    { page: "/api/health", regex: "^/api/health(?:/)?$" },
    { page: "/api/users/[id]", regex: "^/api/users/([^/]+?)(?:/)?$" },
  ]);

  it("uses the route pattern, not the URL", () => {
    expect(label("/api/health")).toBe("/api/health");
    expect(label("/api/health/?probe=1")).toBe("/api/health");
    expect(label("/api/users/42")).toBe("/api/users/[id]");
    expect(label("/api/users/me")).toBe("/api/users/me");
  });

  it("folds Next.js assets and unknown paths into a few values", () => {
    expect(label("/_next/static/chunks/abc123.js")).toBe("/_next/static");
    expect(label("/_next/image?url=x")).toBe("/_next/image");
    expect(label("/_next/webpack-hmr")).toBe("/_next");
    expect(label("/wp-admin/install.php")).toBe(UNMATCHED);
    expect(label(undefined)).toBe(UNMATCHED);
  });

  it("folds unusual HTTP methods into one value", () => {
    expect(methodLabel("get")).toBe("GET");
    expect(methodLabel("PROPFIND")).toBe("OTHER");
    expect(methodLabel(undefined)).toBe("OTHER");
  });
});
