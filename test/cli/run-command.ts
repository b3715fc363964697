/**
 * A command as tests run it: spawned as npm runs it (`spawned`), where the process boundary is what is
 * tested, or in the test's own process (`inProcess`), for the many cases whose point is the command's
 * answer.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { format } from "node:util";
import { vi } from "vitest";
import { settle } from "../../infra/cli";

export interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = path.resolve(__dirname, "..", "..");

/** The command line of the npm scripts that run a command: `node --import tsx <file>` (package.json). */
export const scriptFor = (file: string) => `node --import tsx ${file}`;

/** `npm run <script> -- ...args` as the script runs it (`scriptFor(file)`, from the repository), without npm's own output. */
export function spawned(file: string, ...args: string[]): Promise<CommandRun> {
  return new Promise((resolve) => {
    const [, ...nodeArgs] = scriptFor(file).split(" ");
    execFile(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, timeout: 100_000, env: { ...process.env, FORCE_COLOR: "0" } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/**
 * The command's `main` run as its process would run it short of exiting: settled by the same `settle`
 * as `runCommand` (the exit code, and on failure the message or the stack on stderr), with everything
 * it prints on stdout and stderr captured. Not concurrent: the capture replaces the worker's console
 * for the call.
 */
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
