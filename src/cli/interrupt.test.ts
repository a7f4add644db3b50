import { afterEach, describe, expect, it, vi } from "vitest";
import { INTERRUPT_EXIT_CODE, onInterrupt, type Interrupt } from "./interrupt.js";

describe("onInterrupt", () => {
  let interrupt: Interrupt | undefined;
  afterEach(() => {
    interrupt?.dispose();
    vi.restoreAllMocks();
  });

  it("aborts at the first signal, exits with 130 at the second, and takes a forwarded echo for the same press", () => {
    // The clock the echo window is measured on, set by hand: a real one could run past 50 ms
    // between two lines of this test on a loaded machine.
    let now = 1000;
    vi.spyOn(performance, "now").mockImplementation(() => now);
    const calls: string[] = [];
    interrupt = onInterrupt(
      { first: (s) => calls.push(`first ${s}`), second: (s) => calls.push(`second ${s}`) },
      { echoMs: 50, exit: (code) => calls.push(`exit ${code}`) },
    );
    expect(interrupt.signal.aborted).toBe(false);
    process.emit("SIGINT", "SIGINT");
    expect(interrupt.signal.aborted).toBe(true);
    now += 49.9;
    process.emit("SIGINT", "SIGINT"); // the same Ctrl-C, forwarded by a launcher
    expect(calls).toEqual(["first SIGINT"]);
    now += 0.1; // 50 ms after the first: a second press
    process.emit("SIGTERM", "SIGTERM");
    expect(calls).toEqual(["first SIGINT", "second SIGTERM", `exit ${INTERRUPT_EXIT_CODE}`]);
  });

  it("removes its listeners when disposed", () => {
    const before = process.listenerCount("SIGINT");
    const own = onInterrupt({ first: () => {}, second: () => {} });
    expect(process.listenerCount("SIGINT")).toBe(before + 1);
    own.dispose();
    expect(process.listenerCount("SIGINT")).toBe(before);
  });
});
