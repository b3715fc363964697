/**
 * A command run in the test's own process, as its process would run it short of exiting: `main` with
 * the arguments, settled by the same `settle` as `runCommand` (the exit code, and on failure the
 * message or the stack on stderr), with everything it prints on stdout and stderr captured. For the
 * many cases whose point is the command's answer; commands.test.ts spawns each command once to prove
 * the process boundary itself. Not concurrent: the capture replaces the worker's console for the call.
 */
import { format } from "node:util";
import { vi } from "vitest";
import { settle } from "../../infra/cli";

export interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function inProcess(main: (argv: string[]) => Promise<number> | number, ...argv: string[]): Promise<CommandRun> {
  let stdout = "";
  let stderr = "";
  const toOut = (...args: unknown[]) => void (stdout += `${format(...args)}\n`);
  const toErr = (...args: unknown[]) => void (stderr += `${format(...args)}\n`);
  const spies = [
    vi.spyOn(console, "log").mockImplementation(toOut),
    vi.spyOn(console, "info").mockImplementation(toOut),
    vi.spyOn(console, "error").mockImplementation(toErr),
    vi.spyOn(console, "warn").mockImplementation(toErr),
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)),
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)),
  ];
  try {
    const code = await settle(() => main(argv));
    return { code, stdout, stderr };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}
