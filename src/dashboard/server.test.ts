import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SWEEP_PAGES } from "../cli/dashboard.js";
import { appPage, startDashboard, type Dashboard } from "./server.js";
import { writeCheckpoint, writeRun } from "./test-runs.js";

describe("dashboard API", () => {
  let dashboard: Dashboard;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "dash-api-"));
    writeCheckpoint(writeRun(root, "r1", 4, { torn: true }), 2);
    const assets = join(root, ".assets");
    mkdirSync(assets);
    writeFileSync(join(assets, "app.js"), "/* app */");
    writeFileSync(join(assets, "app.css"), "body{}");
    dashboard = await startDashboard({ root, port: 0, assetsDir: assets });
  });
  afterAll(async () => dashboard?.close());

  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(new URL(path, dashboard.url));
    return { status: res.status, body: res.headers.get("content-type")?.includes("json") === true ? await res.json() : await res.text() };
  };

  it("binds loopback and serves the page and its assets", async () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await get("/")).body).toContain('src="/assets/app.js"');
    expect((await get("/assets/app.js")).body).toBe("/* app */");
  });

  it("lists runs and tails metrics from an offset", async () => {
    const { body } = await get("/api/runs");
    expect((body as { runs: { name: string; step: number }[] }).runs.map((r) => [r.name, r.step])).toEqual([["r1", 4]]);
    const all = (await get("/api/runs/r1/metrics")).body as { lines: unknown[]; notices: string[]; next: number; nextLine: number };
    expect(all.lines).toHaveLength(6);
    expect(all.notices).toHaveLength(1);
    const tail = (await get(`/api/runs/r1/metrics?from=${all.next}&line=${all.nextLine}`)).body as { lines: unknown[] };
    expect(tail.lines).toEqual([]);
  });

  it("replays only listed game files and refuses traversal", async () => {
    const files = (await get("/api/runs/r1/games")).body as { path: string }[];
    expect(files.map((f) => f.path)).toEqual(["transcripts/step-000002.jsonl", "transcripts/step-000004.jsonl"]);
    const games = (await get("/api/runs/r1/games?path=transcripts%2Fstep-000002.jsonl")).body as { replays: { frames: unknown[] }[] };
    expect(games.replays.map((r) => r.frames.length)).toEqual([5, 2]);
    expect((await get("/api/runs/r1/games?path=..%2F..%2Fetc%2Fpasswd")).status).toBe(404);
    expect((await get("/api/runs/..%2Fx/metrics")).status).toBe(400);
    expect((await get("/api/runs/nope/metrics")).status).toBe(404);
    expect((await get("/api/runs/r1/metrics?from=-1")).status).toBe(400);
  });

  it("indexes a run's games and replays one by file and index", async () => {
    const index = (await get("/api/runs/r1/game-index")).body as { gameId: string; path: string; index: number }[];
    expect(index.map((g) => g.gameId)).toEqual(["TicTacToe-v0", "TicTacToe-v0", "KuhnPoker-v1-1round", "TicTacToe-v0", "ConnectFour-v0"]);
    const one = (await get("/api/runs/r1/games?path=transcripts%2Fstep-000004.jsonl&index=0")).body as { gameId: string; frames: unknown[] };
    expect([one.gameId, one.frames.length]).toEqual(["KuhnPoker-v1-1round", 2]);
    expect((await get("/api/runs/r1/games?path=transcripts%2Fstep-000004.jsonl&index=9")).status).toBe(404);
    expect((await get("/api/runs/r1/games?path=transcripts%2Fstep-000004.jsonl&index=-1")).status).toBe(400);
  });

  it("lists checkpoints as policy specs and says who acts first per game", async () => {
    expect((await get("/api/checkpoints")).body).toEqual([{ run: "r1", step: 2, spec: "r1/step-2" }]);
    const games = (await get("/api/games")).body as { id: string; seats: [string, string] }[];
    const seats = Object.fromEntries(games.map((g) => [g.id, g.seats]));
    expect(seats["TicTacToe-v0"]).toEqual(["moves first", "moves second"]);
    expect(seats["KuhnPoker-v1-1round"]).toEqual(["acts second", "acts first"]);
    expect(seats["KuhnPoker-v1"]).toEqual(["acts first in even rounds", "acts first in odd rounds"]);
  });

  it("plays a game through the API and names a bad policy", async () => {
    const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(new URL(path, dashboard.url), { method: "POST", body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const start = await post("/api/play", { gameId: "TicTacToe-v0", policy: "random", seat: 1, seed: 2 });
    expect(start.status).toBe(200);
    expect((start.body.turns as unknown[]).length).toBe(1);
    const legal = start.body.legal as string[];
    const moved = await post(`/api/play/${String(start.body.id)}`, { move: legal[0] });
    expect((moved.body.turns as unknown[]).length).toBe(3);
    const bad = await post("/api/play", { gameId: "TicTacToe-v0", policy: "no-such-policy", seat: 0 });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toMatch(/Unknown policy "no-such-policy"/);
  });

  it("escapes a closing script tag in inlined report code", () => {
    expect(appPage("t", { js: 'x="</script>"', css: "" })).not.toContain('x="</script>"');
  });
});

describe("dashboard sweeps", () => {
  let dashboard: Dashboard;
  let root: string;

  beforeAll(async () => {
    // A sweep launched elsewhere (its grid says out: elsewhere) and then looked at here: 2 configs
    // × 2 seeds, 3 runs finished at step 4, one still at step 2.
    root = mkdtempSync(join(tmpdir(), "dash-sweeps-"));
    const sweep = join(root, "demo");
    const grid = { name: "demo", out: "/elsewhere", preset: "default", base: { steps: 4 }, seeds: [0, 1], vary: { rae: [true, false] }, parallel: 1 };
    const runs = [];
    for (const cell of ["rae=on", "rae=off"]) {
      for (const seed of [0, 1]) {
        const done = !(cell === "rae=off" && seed === 1);
        const dir = writeRun(join(sweep, cell), `seed-${seed}`, done ? 4 : 2, { total: 4 });
        if (done) writeCheckpoint(dir, 4);
        runs.push({ cell, seed, dir, status: done ? "done" : "running" });
      }
    }
    writeFileSync(join(sweep, "sweep.json"), JSON.stringify({ format: "spiral.sweep/1", name: "demo", grid, runs }));
    dashboard = await startDashboard({ root, port: 0, assetsDir: join(root, "no-assets"), sweeps: SWEEP_PAGES });
  });
  afterAll(async () => dashboard?.close());

  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(new URL(path, dashboard.url));
    return { status: res.status, body: await res.text() };
  };

  it("lists the sweeps under the root with their progress", async () => {
    expect(JSON.parse((await get("/api/sweeps")).body)).toEqual([{ name: "demo", runs: 4, done: 3, failed: 0, running: 1 }]);
  });

  it("renders a sweep's live report from its runs: finished seeds only, median/IQR curves, intervals", async () => {
    const { status, body } = await get("/sweeps/demo");
    expect(status).toBe(200);
    expect(body).toMatch(/<h1>Sweep demo<\/h1>/);
    // rae=off has one finished seed of two; its unfinished run does not count.
    expect(body).toMatch(/rae=on \(2\/2 seeds\)/);
    expect(body).toMatch(/rae=off \(1\/2 seeds\)/);
    // Both finished rae=on runs end at TicTacToe non-loss 0.6 (evalLine(4)): mean 60.0%, zero-width interval.
    expect(body).toMatch(/<td>TicTacToe-v0 vs random: non-loss<\/td><td>60\.0% \[60\.0%, 60\.0%\]<\/td><td>60\.0%<\/td>/);
    expect(body.match(/<polyline /g)?.length).toBeGreaterThan(2);
    expect((await get("/sweeps/nope")).status).toBe(404);
    expect((await get("/sweeps/..%2F..")).status).toBe(400);
  });
});
