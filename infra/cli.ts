// What every command (`plan`, `plan -- diff`, `audit`, `adopt`, `smoke`, `bench`) does when it fails,
// so that they all keep one contract (docs/commands.md):
//   0  done;
//   1  a bug or an unexpected failure: the stack trace, to report;
//   2  a mistake the user fixes from the message alone (an argument, a file, the configuration, the
//      output folder): the message, no stack trace, nothing written.

import { credentialKind } from "./config/credentials";

/**
 * A command-line argument as a message may show it: quoted and cut to 80 characters, or, when it is
 * shaped like a credential (a URL with a password, a token), only what it looks like.
 */
export function shownArgument(arg: string): string {
  const kind = credentialKind(arg);
  if (kind) return `(an argument that looks like ${kind}, not shown)`;
  return JSON.stringify(arg.length > 80 ? `${arg.slice(0, 77)}...` : arg);
}

/** A mistake on the command line: the message, then the command's usage. */
export class UsageError extends Error {
  constructor(message: string, usage?: string) {
    super(usage ? `${message}\n${usage}` : message);
    this.name = "UsageError";
  }
}

/**
 * The errors whose message says all there is to fix. Matched by name rather than class: the commands
 * load the SDK and the program lazily, so these classes may not be loaded when the command fails.
 */
export const USER_ERRORS: ReadonlySet<string> = new Set([
  "UsageError",
  "UnknownStackError",
  "ConfigError",
  "ClusterContractError",
  "SecretLeakError",
  "OutputError",
  "PlanFileError",
]);

export function isUserError(err: unknown): err is Error {
  return err instanceof Error && USER_ERRORS.has(err.name);
}

/** The exit code of a failure: 2 for the user's mistake, 1 for anything else. */
export function exitCodeOf(err: unknown): 1 | 2 {
  return isUserError(err) ? 2 : 1;
}

/** What a failure prints on stderr: the message of a user's mistake, the stack of anything else. */
export function describeFailure(err: unknown): string {
  if (isUserError(err)) return err.message;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/**
 * A command's `main` run to its exit code: its result, or for a failure the code above after
 * `report` (stderr) has printed what to fix or the stack. What `runCommand` does short of exiting.
 */
export async function settle(main: () => Promise<number> | number, report: (text: string) => void = console.error): Promise<number> {
  try {
    return await main();
  } catch (err) {
    report(describeFailure(err));
    return exitCodeOf(err);
  }
}

/** Runs a command's `main` as the process: `settle`, then exit with its code. */
export function runCommand(main: () => Promise<number>): void {
  void settle(main).then((code) => process.exit(code));
}
