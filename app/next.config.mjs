import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

/** @type {import("next").NextConfig} */
const nextConfig = {
  // A self-contained server folder (traced node_modules included): what the image ships. Built with
  // Turbopack (`next build`); scripts/assemble.mjs flattens it into dist/ and re-points the symlinks
  // Turbopack makes for serverExternalPackages (.next/node_modules/<name>-<hash>).
  output: "standalone",
  // The app is an npm workspace: its dependencies are hoisted to the repository's node_modules,
  // so tracing has to start from the repository root to find them.
  outputFileTracingRoot: path.join(here, ".."),
  // Loaded with Node's require at run time instead of being bundled: the custom server
  // (src/server.ts) and the route handlers then share one copy of each (one metrics registry, one
  // connection pool), and native/optional requires inside the drivers keep working.
  serverExternalPackages: ["prom-client", "mongodb", "ioredis", "kafkajs"],
  // The app serves no optimised images: without the optimiser, sharp and its native libvips stay
  // out of the image (less to patch, 20 MB smaller). Turbopack's trace of the Next.js server still
  // lists them: scripts/assemble.mjs applies these excludes to dist/.
  images: { unoptimized: true },
  outputFileTracingExcludes: { "*": ["node_modules/sharp/**", "node_modules/@img/**"] },
  // scripts/build.mjs (`npm run build`) runs this type check itself, with the same command, beside the
  // assembly of dist/ instead of before it, and fails the build on a type error: it asks next build to
  // leave it out. Any other next build runs it.
  typescript: { ignoreBuildErrors: process.env.NEXT_BUILD_TYPE_CHECK === "beside" },
  // Turbopack's build cache (.next/cache/) makes a rebuild about twice as fast and costs a build about
  // 2.5 CPU-s to write. scripts/build.mjs skips it on a checkout's first build (no dist/ yet: a fresh
  // clone, CI, the image's build), which no later build reads; its rebuilds write it, and the ones after
  // read it. Any other next build keeps Next.js's default (written).
  experimental: { turbopackFileSystemCacheForBuild: process.env.NEXT_BUILD_CACHE !== "skip" },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
