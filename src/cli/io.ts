/**
 * The terminal as the game commands see it: text out, lines in. Commands take a `CliIo` so tests
 * drive them with scripted input and capture their output.
 */
import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";
import { createInterface } from "node:readline";

export interface CliIo {
  /** Writes text to standard output (no newline added). */
  readonly out: (text: string) => void;
  /** Writes text to standard error (no newline added). */
  readonly err: (text: string) => void;
  /** The next line of standard input without its newline, or null at end of input. */
  readonly readLine: () => Promise<string | null>;
}

/** The process's own stdin/stdout/stderr. Lines are read on demand, so input can be piped in. */
export function processIo(): CliIo {
  let lines: AsyncIterator<string> | undefined;
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    readLine: async () => {
      lines ??= createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
      const next = await lines.next();
      if (next.done === true) return null;
      // A terminal echoes what was typed; piped input is echoed here so transcripts read the same.
      if (!process.stdin.isTTY) process.stdout.write(`${next.value}\n`);
      return next.value;
    },
  };
}

/** An io over fixed input lines that records what was written: for tests. */
export function scriptedIo(input: readonly string[]): CliIo & { readonly stdout: () => string; readonly stderr: () => string } {
  let out = "";
  let err = "";
  let next = 0;
  return {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    readLine: async () => input[next++] ?? null,
    stdout: () => out,
    stderr: () => err,
  };
}

/** Reads a non-negative integer option, naming the option in the error. */
export function parseIntegerOption(value: string, option: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new Error(`${option} expects an integer; got "${value}"`);
  return n;
}

/** An integer option that must be at least 1. */
export function positiveIntegerOption(value: string, option: string): number {
  const n = parseIntegerOption(value, option);
  if (n < 1) throw new Error(`${option} expects an integer ≥ 1; got "${value}"`);
  return n;
}

/** A finite number option that `ok` accepts; `expected` says what is wanted. */
export function numberOption(value: string, option: string, ok: (x: number) => boolean, expected: string): number {
  const x = Number(value);
  if (value.trim() === "" || !Number.isFinite(x) || !ok(x)) throw new Error(`${option} expects ${expected}; got "${value}"`);
  return x;
}

/**
 * Refuses an output file that could not be written, before the work that fills it (a played game,
 * a benchmark, an export): its folder must exist and be writable, and the path must not be a
 * folder. A typo in the path then costs a second, not the results.
 */
export function checkOutputFile(path: string, option: string): void {
  const dir = dirname(path);
  let info;
  try {
    info = statSync(dir);
  } catch {
    throw new Error(`${option} ${path}: the folder ${dir} does not exist (create it first, or give another path)`);
  }
  if (!info.isDirectory()) throw new Error(`${option} ${path}: ${dir} is a file, not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(`${option} ${path}: the folder ${dir} is not writable`);
  }
  let existing;
  try {
    existing = statSync(path);
  } catch {
    return;
  }
  if (existing.isDirectory()) throw new Error(`${option} ${path}: is a folder; expected a file name`);
}

/** Awaits a server's start; a port in use is said as the user can act on it. */
export async function listening<T>(start: Promise<T>, port: number | undefined, host: string | undefined): Promise<T> {
  try {
    return await start;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    throw new Error(`--port ${port ?? ""}: ${host ?? ""}:${port ?? ""} is already in use (another server?); pick another port, or 0 for a free one`, { cause: e });
  }
}
