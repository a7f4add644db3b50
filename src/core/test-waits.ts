/**
 * Test helpers for waiting on something another process or the event loop does, without racing a
 * wall clock: tests wait for the condition itself, and deadlines are only hang guards, long enough
 * for a loaded machine.
 */

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
