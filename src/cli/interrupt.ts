/**
 * Ctrl-C for long commands: the first SIGINT (or SIGTERM) asks the work to stop at its next safe
 * point (an AbortSignal it polls), the second one ends the process at once.
 *
 * A signal that comes within `echoMs` of the first is taken as the same Ctrl-C: launchers that
 * forward signals to their child (tsx, concurrently, some `npm run` set-ups) deliver one key press
 * twice, once from the terminal and once forwarded, a few milliseconds apart.
 */

export interface InterruptHandlers {
  /** The first signal: the work was asked to stop. */
  readonly first: (signal: NodeJS.Signals) => void;
  /** The second signal: called just before the process exits with code 130. */
  readonly second: (signal: NodeJS.Signals) => void;
}

export interface Interrupt {
  /** Aborted at the first signal. */
  readonly signal: AbortSignal;
  /** Removes the listeners; signals behave as before. */
  readonly dispose: () => void;
}

export const INTERRUPT_EXIT_CODE = 130;

export interface InterruptOptions {
  readonly signals?: readonly NodeJS.Signals[];
  /** Signals this close after the first count as the same press. */
  readonly echoMs?: number;
  /** Ends the process (tests pass their own). */
  readonly exit?: (code: number) => void;
}

export function onInterrupt(
  handlers: InterruptHandlers,
  { signals = ["SIGINT", "SIGTERM"], echoMs = 250, exit = (code: number) => process.exit(code) }: InterruptOptions = {},
): Interrupt {
  const controller = new AbortController();
  let firstAt: number | undefined;
  const listener = (signal: NodeJS.Signals) => {
    const at = performance.now();
    if (firstAt === undefined) {
      firstAt = at;
      controller.abort();
      handlers.first(signal);
    } else if (at - firstAt >= echoMs) {
      handlers.second(signal);
      exit(INTERRUPT_EXIT_CODE);
    }
  };
  for (const s of signals) process.on(s, listener);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) process.off(s, listener);
    },
  };
}
