/**
 * Test helpers for waiting on something another process or the event loop does, without racing a
 * wall clock: tests wait for the condition itself, and deadlines are only hang guards, long enough
 * for a loaded machine.
 */
import { vi } from "vitest";

/**
 * Waits until `done()` holds, checking every `everyMs` milliseconds (0: at every turn of the event
 * loop, for a condition that work in this process makes true step by step); fails after
 * `timeoutMs`, saying what it waited for.
 */
export async function until(
  what: string,
  done: () => boolean | Promise<boolean>,
  { timeoutMs = 60_000, everyMs = 5 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  // Date.now, not performance.now: tests that set the clock of the code under test mock the latter.
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => (everyMs === 0 ? setImmediate(r) : setTimeout(r, everyMs)));
  }
}

/**
 * Code to put at the start of a child's `node -e` script: once what the child has written to
 * stderr matches `pattern`, the child stops dead (its main thread blocks) right after that write,
 * for up to `holdMs`. A test that kills the child when it sees the line then kills it exactly
 * there, however fast the child would otherwise have gone on (stderr into a pipe is written
 * synchronously on Linux, so the line is out before the child blocks).
 */
export function freezeAfterStderr(pattern: RegExp, holdMs = 120_000): string {
  return [
    "{",
    "  const write = process.stderr.write.bind(process.stderr);",
    "  let seen = '';",
    "  let frozen = false;",
    "  process.stderr.write = (chunk, ...rest) => {",
    "    const ok = write(chunk, ...rest);",
    "    seen += String(chunk);",
    `    if (!frozen && new RegExp(${JSON.stringify(pattern.source)}, ${JSON.stringify(pattern.flags)}).test(seen)) {`,
    "      frozen = true;",
    `      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${holdMs});`,
    "    }",
    "    return ok;",
    "  };",
    "}",
  ].join("\n");
}

/** A server a test can kill: its base URL (ending in /v1) and a stop that resolves once it exited. */
export interface Killable {
  readonly url: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Once armed, the next completion request to one of `victims()` first kills them all (SIGKILL,
 * awaited) and then goes out, so it meets a dead server: the kill lands while that work is in
 * flight, whatever the machine's speed. Spies on the global fetch until `restore()`.
 */
export function killOnNextCompletion(victims: () => readonly Killable[], { armed = false } = {}) {
  const realFetch = globalThis.fetch;
  let killed = false;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (armed && url.endsWith("/completions") && victims().some((v) => url.startsWith(v.url))) {
      armed = false;
      await Promise.all(victims().map((v) => v.stop("SIGKILL")));
      killed = true;
    }
    return realFetch(input, init);
  });
  return { arm: () => void (armed = true), killed: () => killed, restore: () => spy.mockRestore() };
}
