/**
 * Test set-up (vitest `setupFiles` of the platform project): the SDK's promise traces short and
 * unmapped in the test workers (infra/plan/promise-traces.ts), for the tests that run components on
 * Pulumi's mocks as well as for those that plan through the offline engine, which installs them too.
 * Nothing of the program changes: under the Pulumi CLI the SDK records its traces as it always does.
 */
import { shortenPromiseTraces } from "../../infra/plan/promise-traces";

shortenPromiseTraces();
