/**
 * End-to-end: the dashboard in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core). Synthetic runs (no training): one with a malformed middle line and a torn last
 * line, runs whose heartbeat says running, finished, interrupted, or running from a dead pid, and
 * two realistic "demo" runs for overlays and screenshots. Checks the runs table (status, eval
 * columns, sorting, filtering), chart hover values, per-run colours across cards, synced zoom and
 * its reset, CSV/PNG downloads, live updates, game filters and the replay player, a full TicTacToe
 * game played by clicking the board, the negotiation offer search, a bad policy's error, the
 * report, and the phone width (390 px: the page never scrolls sideways).
 *
 * Screenshots of every page at 1400 and 390 px go to test-results/dashboard/; with
 * SPIRAL_DOCS_SCREENSHOTS=1 they are also written to docs/dashboard/ (the documentation's copies).
 * Skipped, with a message, only when /usr/bin/chromium is absent outside CI; in CI (.ci/run
 * installs it) a missing browser is a failure.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport } from "./report.js";
import { startDashboard, type Dashboard } from "./server.js";
import { stepLine, writeCheckpoint, writeDemoRun, writeHeartbeat, writeRun } from "./test-runs.js";

const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
const inCi = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false";
if (!present && !inCi) console.warn(`dashboard e2e skipped: ${CHROMIUM} is not installed (apt-get install -y chromium); .ci/run installs it in CI`);
const SHOTS = resolve("test-results/dashboard");
/** The page's getComputedStyle: these functions run in the browser, and this file is typechecked without DOM types. */
type Styles = { getComputedStyle(e: unknown): { backgroundColor: string } };
const BACKGROUND = (e: unknown): string => (globalThis as unknown as Styles).getComputedStyle(e).backgroundColor;
const DOCS = process.env.SPIRAL_DOCS_SCREENSHOTS === "1" ? resolve("docs/dashboard") : null;

describe.skipIf(!present && !inCi)("dashboard in headless Chromium", () => {
  let browser: BrowserContext;
  let dashboard: Dashboard;
  let page: Page;
  let root: string;
  let assets: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "dash-e2e-"));
    assets = join(root, ".assets");
    execFileSync(process.execPath, [resolve("web/build.mjs"), assets]);
    dashboard = await startDashboard({ root, port: 0, assetsDir: assets });
    mkdirSync(SHOTS, { recursive: true });
    if (DOCS !== null) mkdirSync(DOCS, { recursive: true });
    // A fresh profile per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "dash-chromium-")), {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
      viewport: { width: 1400, height: 900 },
      acceptDownloads: true,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // The runs last, after the slow browser start: a "running" heartbeat turns stale (crashed)
    // after 60 s, and the first test reads it as fresh (1 s old) on however slow a machine.
    writeHeartbeat(writeRun(root, "e2e-run", 6, { torn: true, total: 10 }), { pid: process.pid, hostname: hostname(), step: 6, totalSteps: 10, state: "running" });
    const finished = writeRun(root, "finished-run", 4);
    writeHeartbeat(finished, { pid: process.pid, hostname: hostname(), step: 4, totalSteps: 4, state: "finished", ageSeconds: 300 });
    writeCheckpoint(finished, 4);
    // A pid far above Linux's default pid_max: no such process.
    writeHeartbeat(writeRun(root, "killed-run", 3, { total: 10 }), { pid: 4_000_000, hostname: hostname(), step: 3, totalSteps: 10, state: "running", ageSeconds: 5 });
    writeHeartbeat(writeRun(root, "ctrlc-run", 2, { total: 10 }), { pid: 4_000_001, hostname: hostname(), step: 2, totalSteps: 10, state: "interrupted", ageSeconds: 900 });
    const demoA = writeDemoRun(root, "demo-a", 120, 1, { total: 200 });
    writeHeartbeat(demoA, { pid: process.pid, hostname: hostname(), step: 120, totalSteps: 200, state: "running", startedSecondsAgo: 760 });
    writeCheckpoint(demoA, 100);
    writeHeartbeat(writeDemoRun(root, "demo-b", 200, 2, { skill: 1.3 }), { pid: process.pid, hostname: hostname(), step: 200, totalSteps: 200, state: "finished", ageSeconds: 4000, startedSecondsAgo: 5300 });
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
  });

  const cell = (run: string, col: string): ReturnType<Page["locator"]> => page.locator(`tr[data-run="${run}"] td[data-col="${col}"]`);
  const names = async (): Promise<string[]> => page.locator('tr[data-testid="run-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-run") ?? ""));

  /** Hovers a chart at a fraction of its plot width and returns the tooltip's text. */
  const hover = async (chart: string, fx: number): Promise<string> => {
    const over = page.locator(`[data-chart="${chart}"] .u-over`);
    await over.scrollIntoViewIfNeeded();
    const box = await over.boundingBox();
    if (box === null) throw new Error(`no plot area for ${chart}`);
    await page.mouse.move(box.x + 1, box.y + 1);
    await page.mouse.move(box.x + 1 + (box.width - 2) * fx, box.y + box.height / 2); // inside the edges
    const tip = page.locator(`[data-chart="${chart}"] [data-testid="tooltip"]`);
    await tip.waitFor({ state: "visible" });
    return (await tip.textContent()) ?? "";
  };

  const swatch = async (chart: string, run: string): Promise<string> =>
    page.locator(`[data-chart="${chart}"] .tt-row[data-run="${run}"] .swatch`).first().evaluate(BACKGROUND);

  it("lists the runs with status from the heartbeat, evaluation columns, sorting and filtering", async () => {
    await page.goto(dashboard.url);
    await page.locator('tr[data-testid="run-row"][data-run="e2e-run"]').waitFor();
    const status = async (run: string): Promise<string | null> => cell(run, "status").textContent();
    expect(await status("e2e-run")).toBe("running");
    expect(await status("finished-run")).toBe("finished");
    expect(await status("killed-run")).toBe("crashed");
    expect(await status("ctrlc-run")).toBe("interrupted");
    expect(await cell("killed-run", "status").locator(".status").getAttribute("title")).toMatch(/pid 4000000 on this host is no longer running/);
    expect(await cell("e2e-run", "step").textContent()).toBe("6 / 10");
    // Win rate vs random at the last evaluation (step 6): 0.3 + 0.05 · 6; invalid as a percentage (0.1 / 6).
    expect(await cell("e2e-run", "eval:TicTacToe-v0 vs random").textContent()).toBe("60.0%");
    expect(await cell("e2e-run", "invalid").textContent()).toBe("1.7%");
    expect(await cell("e2e-run", "kuhn").textContent()).toBe("0.38");
    expect(await cell("demo-a", "eval:KuhnPoker-v1 vs nash").textContent()).toMatch(/^\d+\.\d%$/);
    expect(await cell("demo-a", "eta").textContent()).toMatch(/^\d+m \d\ds$/); // 80 steps at ~6 s plus evals
    expect(await cell("finished-run", "eta").textContent()).toBe("–");
    expect(await cell("demo-b", "duration").textContent()).toBe("21m 40s"); // started 5300 s ago, last beat 4000 s ago
    // Sorting by step, ascending then descending; missing values last.
    await page.click('[data-testid="sort"][data-col="step"]');
    expect(await names()).toEqual(["ctrlc-run", "killed-run", "finished-run", "e2e-run", "demo-a", "demo-b"]);
    await page.click('[data-testid="sort"][data-col="step"]');
    expect((await names())[0]).toBe("demo-b");
    await page.fill('[data-testid="run-filter"]', "demo");
    expect(await names()).toEqual(["demo-b", "demo-a"]);
    await page.fill('[data-testid="run-filter"]', "");
    await page.locator('[data-testid="status-filter"]').selectOption("crashed");
    expect(await names()).toEqual(["killed-run"]);
    await page.locator('[data-testid="status-filter"]').selectOption("");
  });

  it("shows every series' value at the cursor, smoothed with the raw value, and intervals for rates", async () => {
    await page.goto(`${dashboard.url}#/runs/e2e-run`);
    const loss = page.locator('[data-chart="loss"]');
    await loss.locator("canvas").waitFor();
    expect(await loss.getAttribute("data-points")).toBe("6");
    // Steps 1..6 span the plot: 40% of the width is step 3, where the loss is 1/3.
    await page.locator('[data-testid="smoothing"]').fill("0");
    let tip = await hover("loss", 0.4);
    expect(tip).toContain("step 3");
    expect(tip).toContain("0.333");
    await page.locator('[data-testid="smoothing"]').fill("0.5");
    tip = await hover("loss", 0.4);
    // Debiased EMA with weight 0.5 over 1, 1/2, 1/3: (0.125·1 + 0.25·0.5 + 0.5·0.333) / 0.875 ≈ 0.476.
    expect(tip).toContain("0.476");
    expect(tip).toContain("(raw 0.333)");
    // Eval win rate at step 4 (0.5) with its interval [0.4, 0.6], drawn as percentages.
    tip = await hover("eval-TicTacToe-v0 vs random-win", 0.5);
    expect(tip).toContain("step 4");
    expect(tip).toContain("50.0% [40.0%, 60.0%]");
    tip = await hover("invalid-rate", 0);
    expect(tip).toMatch(/invalid rate\s*\d+\.\d%/);
    expect(await page.locator('[data-testid="notices"]').textContent()).toContain("line 4: skipped");
  });

  it("updates live as lines are appended, completing a torn line", async () => {
    appendFileSync(join(root, "e2e-run", "metrics.jsonl"), `Rate":0}\n${JSON.stringify(stepLine(7))}\n${JSON.stringify(stepLine(8))}\n`);
    // A string predicate: it runs in the page, and this file is typechecked without DOM types.
    await page.waitForFunction(`document.querySelector('[data-chart="loss"]')?.getAttribute("data-points") === "8"`, undefined, { timeout: 30_000 });
    // The completed line (step 99, only an invalid rate) is read once whole; still one notice.
    expect(await page.locator('[data-chart="invalid-rate"]').getAttribute("data-points")).toBe("9");
    expect(await page.locator('[data-testid="notices"] li').count()).toBe(1);
  });

  it("overlays runs with one colour per run in every card and a shared legend", async () => {
    await page.goto(`${dashboard.url}#/runs/demo-a,demo-b`);
    await page.locator('[data-chart="loss"] canvas').waitFor();
    expect(await page.locator('[data-chart="loss"]').getAttribute("data-points")).toBe(String(120 + 200));
    const legend = await page.locator('[data-testid="legend-run"]').evaluateAll((els) => els.map((e) => [e.getAttribute("data-run"), (globalThis as unknown as Styles).getComputedStyle(e.querySelector(".swatch")).backgroundColor]));
    expect(legend).toEqual([["demo-a", "rgb(31, 119, 180)"], ["demo-b", "rgb(214, 39, 40)"]]);
    for (const chart of ["loss", "kl", "eval-KuhnPoker-v1 vs nash-win", "baseline-TicTacToe-v0"]) {
      await hover(chart, 0.3);
      expect(await swatch(chart, "demo-a"), chart).toBe("rgb(31, 119, 180)");
      expect(await swatch(chart, "demo-b"), chart).toBe("rgb(214, 39, 40)");
    }
    // The baseline card has two seats per run: four rows, still two colours.
    expect(await page.locator('[data-chart="baseline-TicTacToe-v0"] .tt-row').count()).toBe(4);
    // Hiding a run in the legend removes it from every card.
    await page.click('[data-testid="legend-run"][data-run="demo-b"]');
    expect(await page.locator('[data-chart="loss"]').getAttribute("data-points")).toBe("120");
    await page.click('[data-testid="legend-run"][data-run="demo-b"]');
    expect(await page.locator('[data-chart="loss"]').getAttribute("data-points")).toBe("320");
  });

  it("zooms every chart together and resets; switches the x axis and the log scale", async () => {
    const over = page.locator('[data-chart="loss"] .u-over');
    await over.scrollIntoViewIfNeeded();
    const box = await over.boundingBox();
    if (box === null) throw new Error("no plot");
    const reset = page.locator('[data-testid="reset-zoom"]');
    expect(await reset.isDisabled()).toBe(true);
    await page.mouse.move(box.x + box.width * 0.5, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.75, box.y + 20, { steps: 5 });
    await page.mouse.up();
    expect(await reset.isDisabled()).toBe(false);
    // Another card follows: its left edge is now past step 90 (the loss chart spans steps 1..200).
    const tip = await hover("kl", 0.01);
    const step = Number(/step (\d+)/.exec(tip)?.[1]);
    expect(step).toBeGreaterThan(90);
    await reset.click();
    expect(await reset.isDisabled()).toBe(true);
    expect(await hover("kl", 0)).toContain("step 1");
    await page.locator('[data-testid="x-axis"]').selectOption("samples");
    expect(await hover("loss", 0)).toContain("samples 128");
    await page.locator('[data-testid="x-axis"]').selectOption("time");
    expect(await hover("loss", 1)).toMatch(/training time \d+m \d\ds/);
    await page.locator('[data-testid="x-axis"]').selectOption("step");
    await page.locator('[data-chart="loss"] [data-testid="log"]').click();
    expect(await page.locator('[data-chart="loss"] [data-testid="log"]').getAttribute("aria-pressed")).toBe("true");
    expect(await hover("loss", 0.5)).toContain("step");
    await page.locator('[data-chart="loss"] [data-testid="log"]').click();
  });

  it("downloads a chart as CSV and as PNG", async () => {
    const [csv] = await Promise.all([page.waitForEvent("download"), page.locator('[data-chart="kuhn"] [data-testid="csv"]').click()]);
    expect(csv.suggestedFilename()).toBe("Kuhn_exploitability.csv");
    const text = readFileSync(await csv.path(), "utf8").split("\n");
    expect(text[0]).toBe("run,curve,step,value,low,high");
    expect(text.filter((l) => l.startsWith("demo-a,exploitability,"))).toHaveLength(12);
    const [png] = await Promise.all([page.waitForEvent("download"), page.locator('[data-chart="loss"] [data-testid="png"]').click()]);
    expect(png.suggestedFilename()).toBe("Loss.png");
    const bytes = readFileSync(await png.path());
    expect(bytes.subarray(1, 4).toString()).toBe("PNG");
    expect(bytes.length).toBeGreaterThan(5000);
  });

  it("filters recorded games and replays one with the keyboard, a move list and the winning line", async () => {
    await page.goto(`${dashboard.url}#/games/e2e-run`);
    const position = page.locator('[data-testid="position"]');
    await position.waitFor();
    const rows = page.locator('[data-testid="game-row"]');
    expect(await rows.count()).toBe(5);
    expect(await position.textContent()).toBe("0 / 5");
    expect(await page.locator('[data-testid="reply"] .raw').textContent()).toBe("I take the centre. [4]");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    expect(await position.textContent()).toBe("2 / 5");
    expect(await page.locator(".ttt .cell.p0, .ttt .cell.p1").count()).toBe(2);
    await page.keyboard.press("End");
    expect(await position.textContent()).toBe("5 / 5");
    expect(await page.locator('[data-testid="winner"]').textContent()).toBe("Game over: Player 0 (policy) wins with three in a row on cells 2, 4, 6");
    expect(await page.locator(".ttt .cell.win").evaluateAll((cells) => cells.map((c) => c.getAttribute("data-cell")))).toEqual(["2", "4", "6"]);
    await page.locator('[data-testid="move"]').nth(1).click();
    expect(await position.textContent()).toBe("1 / 5");
    await page.keyboard.press("Home");
    await page.keyboard.press(" "); // autoplay
    await page.waitForFunction(`document.querySelector('[data-testid="position"]')?.textContent === "2 / 5"`, undefined, { timeout: 30_000 });
    await page.keyboard.press(" ");
    // Filters: game, outcome, policy seat, step range.
    await page.locator('[data-testid="filter-game"]').selectOption("KuhnPoker-v1-1round");
    expect(await rows.count()).toBe(1);
    await page.locator('[data-testid="replay"][data-game="KuhnPoker-v1-1round"]').waitFor();
    await page.keyboard.press("End");
    expect(await page.locator('[data-testid="last-round"]').textContent()).toMatch(/^Round 1 \(check, check\): Player \d won a pot of 2 \(showdown/);
    expect(await page.locator('[data-testid="betting"]').count()).toBe(0);
    await page.locator('[data-testid="filter-game"]').selectOption("");
    await page.locator('[data-testid="filter-outcome"]').selectOption("p1");
    expect(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute("data-game")))).toEqual(["KuhnPoker-v1-1round", "TicTacToe-v0"]);
    await page.locator('[data-testid="filter-seat"]').selectOption("1");
    await page.locator('[data-testid="filter-game"]').selectOption("TicTacToe-v0");
    expect(await rows.count()).toBe(1);
    await page.locator('[data-testid="replay"][data-seed="9"]').waitFor();
    await page.keyboard.press("End");
    expect(await page.locator('[data-testid="winner"]').textContent()).toBe("Game over: Player 1 (policy) wins with three in a row on cells 2, 4, 6");
    await page.locator('[data-testid="filter-outcome"]').selectOption("invalid");
    await page.locator('[data-testid="filter-seat"]').selectOption("");
    expect(await rows.count()).toBe(1);
    await page.locator('[data-testid="replay"][data-seed="8"]').waitFor();
    await page.keyboard.press("ArrowRight");
    expect(await page.locator('[data-testid="invalid"]').textContent()).toContain("cell 4 is taken");
    await page.locator('[data-testid="filter-outcome"]').selectOption("");
    await page.locator('[data-testid="filter-game"]').selectOption("");
    await page.fill('[data-testid="filter-min-step"]', "3");
    expect(await rows.count()).toBe(3);
    await page.locator('[data-testid="filter-game"]').selectOption("ConnectFour-v0");
    await page.locator('[data-testid="replay"][data-game="ConnectFour-v0"]').waitFor();
    await page.locator("h1").click(); // keys typed in a filter field stay there
    await page.keyboard.press("End");
    expect(await page.locator('[data-testid="winner"]').textContent()).toMatch(/^Game over: Player 0 \(policy\) wins with four in a row/);
    expect(await page.locator(".c4 .disc.win").count()).toBe(4);
  });

  it("plays a full TicTacToe game by clicking the board", async () => {
    await page.goto(`${dashboard.url}#/play`);
    await page.locator('[data-testid="play-game"]').selectOption("TicTacToe-v0");
    expect(await page.locator('[data-testid="play-seat"] option').allTextContents()).toEqual(["Player 0 (O, moves first)", "Player 1 (X, moves second)"]);
    await page.locator('[data-testid="play-policy-pick"]').selectOption("random");
    await page.fill('[data-testid="play-seed"]', "3");
    await page.click('[data-testid="play-start"]');
    for (let moves = 0; moves < 5; moves++) {
      const open = page.locator(".ttt button.clickable");
      await open.first().waitFor();
      const before = await page.locator('[data-testid="turns"] li').count();
      await open.first().click();
      await page.waitForFunction(`document.querySelectorAll('[data-testid="turns"] li').length > ${before}`);
      if (await page.locator('[data-testid="play-result"]').count() > 0) break;
    }
    const result = await page.locator('[data-testid="play-result"]').textContent();
    expect(result).toMatch(/^Game over: (you won|you lost|a draw)/);
    expect(await page.locator(".ttt button.clickable").count()).toBe(0);
    expect(await page.locator('[data-testid="turns"] li[data-who="human"]').count()).toBeGreaterThanOrEqual(3);
    // Enter sends a typed move; a refused reply is shown in red and may be retried.
    await page.click('[data-testid="play-start"]');
    await page.locator('[data-testid="play-move"]').fill("nonsense");
    await page.locator('[data-testid="play-move"]').press("Enter");
    await page.locator('[data-testid="play-error"]').waitFor();
    await page.locator('[data-testid="play-move"]').fill("[4]");
    await page.locator('[data-testid="play-move"]').press("Enter");
    await page.locator('[data-testid="turns"] li[data-who="policy"]').waitFor();
    expect(await page.locator(".ttt .cell.p0").getAttribute("data-cell")).toBe("4");
  });

  it("lines ConnectFour's column buttons up with its columns, names seats per game and lists checkpoints", async () => {
    await page.locator('[data-testid="play-game"]').selectOption("ConnectFour-v0");
    expect(await page.locator('[data-testid="play-seat"] option').first().textContent()).toBe("Player 0 (X, yellow, moves first)");
    await page.click('[data-testid="play-start"]');
    const head = page.locator('.c4 button.col-head[data-col="3"]');
    await head.waitFor();
    const discs = page.locator(".c4 .disc");
    const headBox = await head.boundingBox();
    const discBox = await discs.nth(3).boundingBox(); // row 0, column 3
    expect(Math.abs((headBox?.x ?? 0) + (headBox?.width ?? 0) / 2 - ((discBox?.x ?? 0) + (discBox?.width ?? 0) / 2))).toBeLessThan(1);
    await head.click();
    await page.locator('[data-testid="turns"] li[data-who="policy"]').waitFor();
    expect(await discs.nth(5 * 7 + 3).textContent()).toBe("X"); // bottom row, column 3, yellow
    expect(await discs.nth(5 * 7 + 3).evaluate(BACKGROUND)).toBe("rgb(242, 194, 0)");
    await page.locator('[data-testid="play-game"]').selectOption("KuhnPoker-v1-1round");
    expect(await page.locator('[data-testid="play-seat"] option').allTextContents()).toEqual(["Player 0 (acts second)", "Player 1 (acts first)"]);
    const checkpoints = await page.locator('[data-testid="play-policy-pick"] optgroup[label="checkpoints"] option').allTextContents();
    expect(checkpoints).toEqual(["demo-a · step 100", "finished-run · step 4"]);
    await page.locator('[data-testid="play-policy-pick"]').selectOption("finished-run/step-4");
    expect(await page.locator('[data-testid="play-policy"]').inputValue()).toBe("finished-run/step-4");
    // Kuhn as Player 1: only the person's own card is shown.
    await page.fill('[data-testid="play-policy"]', "random");
    await page.locator('[data-testid="play-seat"]').selectOption("1");
    await page.click('[data-testid="play-start"]');
    await page.locator(".kuhn").waitFor();
    const cards = await page.locator(".kuhn .card b").allTextContents();
    expect(cards[0]).toBe("?");
    expect(["J", "Q", "K"]).toContain(cards[1]);
    expect(await page.locator('[data-testid="legal"]').count()).toBeGreaterThanOrEqual(2);
  });

  it("searches all negotiation offers, and clears the game when a policy cannot be opened", async () => {
    await page.locator('[data-testid="play-game"]').selectOption("SimpleNegotiation-v1");
    await page.fill('[data-testid="play-policy"]', "random");
    await page.locator('[data-testid="play-seat"]').selectOption("0");
    await page.click('[data-testid="play-start"]');
    const count = page.locator('[data-testid="legal-count"]');
    await count.waitFor();
    const total = Number(/of (\d+) legal moves/.exec((await count.textContent()) ?? "")?.[1]);
    expect(total).toBeGreaterThan(60);
    expect(await count.textContent()).toContain("the first 40 are shown");
    await page.fill('[data-testid="legal-search"]', "10 wood -> 10 gold");
    expect(await page.locator('[data-testid="legal"]').allTextContents()).toEqual(["[Offer: 10 Wood -> 10 Gold]"]);
    await page.screenshot({ path: join(SHOTS, "play-negotiation-1400.png") });
    await page.fill('[data-testid="play-policy"]', "no-such-policy");
    await page.click('[data-testid="play-start"]');
    await page.locator('[data-testid="play-status"].error-box').waitFor();
    expect(await page.locator('[data-testid="play-status"]').textContent()).toMatch(/Could not start the game: Unknown policy "no-such-policy"/);
    expect(await page.locator('[data-testid="play-board"] *').count()).toBe(0);
  });

  it("writes a self-contained report: final results, the evaluation table per step, the config and plots", async () => {
    const html = await renderReport({ runs: [join(root, "demo-a"), join(root, "demo-b")], assetsDir: assets, generated: "2026-01-01T00:00:00Z" });
    expect(html).not.toMatch(/src="\/assets|href="\/assets/);
    const file = join(root, "report.html");
    writeFileSync(file, html);
    await page.goto(`file://${file}`);
    await page.locator('[data-chart="loss"] canvas').waitFor();
    const headings = await page.locator("h2").allTextContents();
    expect(headings.slice(0, 5)).toEqual(["Final results", "Runs", "Evaluation per step", "Plots", "Evaluation"]);
    expect(await page.locator('[data-testid="final-row"]').count()).toBe(2 * 3); // two matchups + Kuhn, per run
    expect(await page.locator('[data-testid="final-results"] tr', { hasText: "demo-b" }).first().textContent()).toContain("200");
    expect(await page.locator('[data-testid="eval-row"]').count()).toBe(12 + 20);
    expect(await page.locator('[data-testid="config"]').count()).toBe(2);
    expect(await page.locator('[data-testid="config"] pre').first().textContent()).toContain('"steps": 200');
    expect(await page.locator('[data-testid="run-row"]').count()).toBe(2);
    expect(await hover("loss", 0.5)).toContain("demo-b");
  });

  it("never scrolls sideways at 390 px, and captures every page at 1400 and 390 px", async () => {
    const report = `file://${join(root, "report.html")}`;
    const pages: [string, string, (() => Promise<void>)?][] = [
      ["runs", dashboard.url],
      ["plots", `${dashboard.url}#/runs/demo-a,demo-b`, async () => void (await hover("eval-TicTacToe-v0 vs random-win", 0.55))],
      ["games", `${dashboard.url}#/games/demo-a`, async () => {
        await page.locator('[data-testid="game-row"][data-game="ConnectFour-v0"]').click();
        await page.locator('[data-testid="replay"][data-game="ConnectFour-v0"]').waitFor();
        await page.keyboard.press("End");
      }],
      ["play", `${dashboard.url}#/play`, async () => {
        await page.locator('[data-testid="play-game"]').selectOption("ConnectFour-v0");
        await page.locator('[data-testid="play-seed"]').fill("1");
        await page.click('[data-testid="play-start"]');
        for (const col of ["3", "3", "4"]) {
          const before = await page.locator('[data-testid="turns"] li').count();
          await page.locator(`.c4 button.col-head[data-col="${col}"]`).click();
          await page.waitForFunction(`document.querySelectorAll('[data-testid="turns"] li').length > ${before + 1}`);
        }
      }],
      ["report", report],
    ];
    for (const width of [1400, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      for (const [name, url, prepare] of pages) {
        await page.goto("about:blank");
        await page.goto(url);
        await page.locator("h1").first().waitFor();
        await page.waitForLoadState("networkidle");
        await prepare?.();
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"));
        expect(overflow, `${name} at ${width} px`).toBeLessThanOrEqual(0);
        const path = join(SHOTS, `${name}-${width}.png`);
        await page.screenshot({ path, fullPage: name !== "plots" && name !== "report" });
        expect(statSync(path).size, path).toBeLessThan(300 * 1024);
        if (DOCS !== null) copyFileSync(path, join(DOCS, `${name}-${width}.png`));
      }
    }
    expect(pageErrors).toEqual([]);
  });
});
