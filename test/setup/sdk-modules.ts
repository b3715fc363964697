/**
 * Test set-up (vitest `setupFiles`, first): the SDK modules a plan never uses (TypeScript's compiler
 * and npm's Arborist, which `@pulumi/pulumi` requires when it loads) load on first use, as in
 * `npm run plan` (infra/plan/lazy-modules.ts): each test worker loads the SDK in a third of the time.
 * Code that uses them gets them as before.
 */
import { deferUnusedSdkModules } from "../../infra/plan/lazy-modules";

deferUnusedSdkModules();
