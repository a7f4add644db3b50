/**
 * The dashboard's HTTP server (node:http, no framework): the bundled web app plus a JSON API over
 * a directory of run directories.
 *
 *   GET  /                                  the app (dist/web/app.js and app.css)
 *   GET  /api/runs                          RunSummary[] (run-reader.ts)
 *   GET  /api/runs/:run/metrics?from=B&line=L  metrics lines from byte B: the client polls this
 *                                           with the returned `next`/`nextLine` for live updates
 *   GET  /api/runs/:run/games               game files of the run (replay.ts)
 *   GET  /api/runs/:run/games?path=P        the games of one listed file, replayed frame by frame
 *   GET  /api/runs/:run/games?path=P&index=I  one game of a listed file, replayed
 *   GET  /api/runs/:run/game-index          every recorded game's summary (game, step, seats, outcome)
 *   GET  /api/checkpoints                   complete checkpoints of every run, as policy specs
 *   GET  /api/games                         game ids, reference agents and who acts first
 *   POST /api/play {gameId, policy, seat, seed}  starts a game against a policy spec (play.ts)
 *   POST /api/play/:id {move}               the person's reply; answers after the policy's moves
 *
 * Errors are JSON `{ "error": "..." }` with status 400 (bad request) or 404 (no such run/file).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { agentOf, openPolicy, parsePolicySpec, type OpenedPolicy } from "../policy/policy-spec.js";
import type { Agent } from "../games/agent.js";
import { referenceAgentNames } from "../games/agent-registry.js";
import { kuhnFirstSeat } from "../games/kuhn-poker.js";
import { getGame, listGames } from "../games/registry.js";
import { checkpointName } from "../rl/run-dir.js";
import { PlaySessions } from "./play.js";
import { indexGames, listGameFiles, readGameFile, readOneGame } from "./replay.js";
import { isRunName, listRuns, readMetricsFrom } from "./run-reader.js";

/** dist/web, from src/dashboard (tests, tsx) and dist/dashboard (the built CLI) alike. */
export const DEFAULT_ASSETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../dist/web");

export interface DashboardOptions {
  readonly root: string;
  readonly port: number;
  readonly host?: string;
  readonly assetsDir?: string;
  /** Sampling settings for checkpoint and endpoint opponents in the play view. */
  readonly temperature?: number;
  readonly maxNewTokens?: number;
}

export interface Dashboard {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The app's page: loads the bundle; `data` (the report) is inlined when given. */
export function appPage(title: string, body: { js: string; css: string } | null): string {
  const head = body === null
    ? '<link rel="stylesheet" href="/assets/app.css"><script type="module" src="/assets/app.js"></script>'
    : `<style>${body.css}</style>`;
  const tail = body === null ? "" : `<script>${body.js.replace(/<\/script/gi, "<\\/script")}</script>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>${escapeHtml(title)}</title>${head}</head><body><div id="app"></div>${tail}</body></html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function readAssets(assetsDir = DEFAULT_ASSETS_DIR): Promise<{ js: string; css: string }> {
  if (!existsSync(join(assetsDir, "app.js"))) {
    throw new Error(`Expected the built web app in ${assetsDir} (app.js, app.css); run \`npm run build\` first`);
  }
  return { js: await readFile(join(assetsDir, "app.js"), "utf8"), css: await readFile(join(assetsDir, "app.css"), "utf8") };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new HttpError(400, "Expected a JSON object body");
}

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

function runDir(root: string, name: string): string {
  if (!isRunName(name)) throw new HttpError(400, `Expected a run name (one path segment); got "${name}"`);
  const dir = join(root, name);
  if (!existsSync(dir)) throw new HttpError(404, `No run ${name} in ${root}`);
  return dir;
}

/** Opens policy specs once each; a relative checkpoint path is also tried under the runs root. */
function policyOpener(root: string, options: DashboardOptions): (spec: string, gameId: string) => Promise<Agent> {
  const opened = new Map<string, Promise<OpenedPolicy>>();
  return async (text, gameId) => {
    const underRoot = join(root, text);
    const specText = !isAbsolute(text) && !existsSync(text) && existsSync(underRoot) ? underRoot : text;
    let player = opened.get(specText);
    if (player === undefined) {
      player = openPolicy(parsePolicySpec(specText), { temperature: options.temperature ?? 0.6, maxNewTokens: options.maxNewTokens ?? 256 });
      opened.set(specText, player);
      player.catch(() => opened.delete(specText));
    }
    return agentOf(await player, gameId, getGame(gameId).info);
  };
}

/**
 * How each seat starts, in words for the seat picker: the seat that acts first at the start, or
 * for Kuhn poker, where the first to act alternates by round (Player 1 opens round 1).
 */
export function seatRoles(gameId: string): [string, string] {
  const game = getGame(gameId);
  if (gameId.startsWith("KuhnPoker")) {
    const rounds = typeof game.info.params?.rounds === "number" ? game.info.params.rounds : 1;
    const first = kuhnFirstSeat(0);
    if (rounds === 1) return first === 0 ? ["acts first", "acts second"] : ["acts second", "acts first"];
    return first === 0 ? ["acts first in odd rounds", "acts first in even rounds"] : ["acts first in even rounds", "acts first in odd rounds"];
  }
  const toAct = game.toAct(game.init(0));
  if (toAct.length !== 1) return ["", ""];
  return toAct[0] === 0 ? ["moves first", "moves second"] : ["moves second", "moves first"];
}

export function dashboardHandler(options: DashboardOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const root = resolve(options.root);
  const assetsDir = options.assetsDir ?? DEFAULT_ASSETS_DIR;
  const sessions = new PlaySessions(policyOpener(root, options));
  const json = (res: ServerResponse, value: unknown): void => send(res, 200, JSON.stringify(value), "application/json");

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
    if (req.method === "GET" && parts.length === 0) return send(res, 200, appPage("spiral dashboard", null), "text/html; charset=utf-8");
    if (req.method === "GET" && parts[0] === "assets" && (parts[1] === "app.js" || parts[1] === "app.css")) {
      const path = join(assetsDir, parts[1]);
      if (!existsSync(path)) throw new HttpError(404, `The web app is not built (${path} is missing); run \`npm run build\``);
      return send(res, 200, await readFile(path, "utf8"), parts[1].endsWith(".js") ? "text/javascript" : "text/css");
    }
    if (parts[0] !== "api") throw new HttpError(404, `No page ${url.pathname}`);
    if (req.method === "GET" && parts[1] === "runs" && parts.length === 2) return json(res, { root, runs: await listRuns(root) });
    if (req.method === "GET" && parts[1] === "runs" && parts.length === 4 && parts[3] === "metrics") {
      const from = Number(url.searchParams.get("from") ?? "0");
      const line = Number(url.searchParams.get("line") ?? "1");
      if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(line) || line < 1) throw new HttpError(400, "Expected from ≥ 0 and line ≥ 1 (integers)");
      return json(res, await readMetricsFrom(runDir(root, parts[2] ?? ""), from, line));
    }
    if (req.method === "GET" && parts[1] === "runs" && parts.length === 4 && parts[3] === "games") {
      const dir = runDir(root, parts[2] ?? "");
      const files = await listGameFiles(dir);
      const path = url.searchParams.get("path");
      if (path === null) return json(res, files);
      if (!files.some((f) => f.path === path)) throw new HttpError(404, `No game file ${path} in run ${parts[2] ?? ""}`);
      const index = url.searchParams.get("index");
      if (index === null) return json(res, await readGameFile(dir, path));
      if (!/^\d+$/.test(index)) throw new HttpError(400, `Expected index to be a game number ≥ 0; got "${index}"`);
      return json(res, await readOneGame(dir, path, Number(index)).catch((e: Error) => {
        throw new HttpError(404, e.message);
      }));
    }
    if (req.method === "GET" && parts[1] === "runs" && parts.length === 4 && parts[3] === "game-index") {
      return json(res, await indexGames(runDir(root, parts[2] ?? "")));
    }
    if (req.method === "GET" && parts[1] === "checkpoints" && parts.length === 2) {
      const runs = await listRuns(root);
      return json(res, runs.flatMap((r) => r.checkpoints.map((step) => ({ run: r.name, step, spec: `${r.name}/${checkpointName(step)}` }))));
    }
    if (req.method === "GET" && parts[1] === "games" && parts.length === 2) {
      return json(res, listGames().map(({ info }) => ({ id: info.id, name: info.name, references: referenceAgentNames(info.id), seats: seatRoles(info.id) })));
    }
    if (req.method === "POST" && parts[1] === "play" && parts.length === 2) {
      const body = await readBody(req);
      const seat = body.seat === 1 ? 1 : 0;
      if (typeof body.gameId !== "string" || typeof body.policy !== "string") throw new HttpError(400, "Expected {gameId, policy, seat, seed}");
      const seed = typeof body.seed === "number" && Number.isSafeInteger(body.seed) ? body.seed : 0;
      return json(res, await sessions.start(body.gameId, body.policy, seat, seed).catch((e: Error) => {
        throw new HttpError(400, e.message);
      }));
    }
    if (req.method === "POST" && parts[1] === "play" && parts.length === 3) {
      const body = await readBody(req);
      if (typeof body.move !== "string") throw new HttpError(400, "Expected {move: string}");
      return json(res, await sessions.move(parts[2] ?? "", body.move).catch((e: Error) => {
        throw new HttpError(404, e.message);
      }));
    }
    throw new HttpError(404, `No API route ${req.method ?? "?"} ${url.pathname}`);
  };

  return async (req, res) => {
    try {
      await route(req, res);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      send(res, status, JSON.stringify({ error: (e as Error).message }), "application/json");
    }
  };
}

/** Starts the server; port 0 picks a free port. Binds 127.0.0.1 unless told otherwise. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const handler = dashboardHandler(options);
  const server = createServer((req, res) => void handler(req, res));
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port, host, () => ok());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    server,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
