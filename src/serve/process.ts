/**
 * `spiral serve` as a child process (tests and benches of endpoint actors: real servers on
 * loopback that can be killed). From TypeScript sources the CLI runs through tsx, from dist/
 * through the compiled CLI, as bin/spiral.js runs it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface ServeProcess {
  /** Base URL ending in /v1. */
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the server wrote on stderr so far. */
  readonly stderr: () => string;
  /** SIGTERM (or `signal`), resolved once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `spiral serve ARGS` (add `--port 0` for a free port) and resolves once it listens. */
export function startServeProcess(args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ServeProcess> {
  const fromSources = import.meta.url.endsWith(".ts");
  const main = fileURLToPath(new URL(fromSources ? "../cli/main.ts" : "../cli/main.js", import.meta.url));
  const code = `import { runCli } from ${JSON.stringify(main)}; await runCli(["node", "spiral", "serve", ...${JSON.stringify(args)}]);`;
  const child = spawn(process.execPath, [...(fromSources ? ["--import", "tsx"] : []), "--input-type=module", "-e", code], {
    stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env },
  });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`spiral serve did not start within ${(options.timeoutMs ?? 60_000) / 1000} s: ${stderr.slice(-500)}`));
    }, options.timeoutMs ?? 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`spiral serve exited (code ${code}) before listening: ${stderr.slice(-500)}`));
    });
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /serving \S+ at (http:\/\/\S+\/v1)/.exec(stdout);
      if (m === null) return;
      clearTimeout(timer);
      const url = m[1] as string;
      resolve({
        url, port: Number(new URL(url).port), child, stderr: () => stderr,
        async stop(signal = "SIGTERM") {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
  });
}
