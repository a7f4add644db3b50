import { afterEach, describe, expect, it } from "vitest";
import { INTERRUPT_EXIT_CODE, onInterrupt, type Interrupt } from "./interrupt.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("onInterrupt", () => {
  let interrupt: Interrupt | undefined;
  afterEach(() => interrupt?.dispose());

  it("aborts at the first signal, exits with 130 at the second, and takes a forwarded echo for the same press", async () => {
    const calls: string[] = [];
    interrupt = onInterrupt(
      { first: (s) => calls.push(`first ${s}`), second: (s) => calls.push(`second ${s}`) },
      { echoMs: 50, exit: (code) => calls.push(`exit ${code}`) },
    );
    expect(interrupt.signal.aborted).toBe(false);
    process.emit("SIGINT", "SIGINT");
    expect(interrupt.signal.aborted).toBe(true);
    process.emit("SIGINT", "SIGINT"); // the same Ctrl-C, forwarded by a launcher
    expect(calls).toEqual(["first SIGINT"]);
    await sleep(60);
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
