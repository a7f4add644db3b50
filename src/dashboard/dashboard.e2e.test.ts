/**
 * End-to-end: the dashboard in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core). A synthetic run (no training) with a malformed middle line and a torn last
 * line; checks the run list, a plot's point count and its live update, a replay stepped to the
 * end, an invalid move highlighted, a human move answered in the play view, and the report file.
 * Screenshots go to test-results/dashboard/ (gitignored) for inspection.
 *
 * Skipped, with a message, only when /usr/bin/chromium is absent outside CI; in CI (.ci/run
 * installs it) a missing browser is a failure.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport } from "./report.js";
import { startDashboard, type Dashboard } from "./server.js";
import { stepLine, writeRun } from "./test-runs.js";

const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
const inCi = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false";
if (!present && !inCi) console.warn(`dashboard e2e skipped: ${CHROMIUM} is not installed (apt-get install -y chromium); .ci/run installs it in CI`);
const SHOTS = resolve("test-results/dashboard");

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
    writeRun(root, "e2e-run", 6, { torn: true, total: 10 });
    writeRun(root, "finished-run", 4);
    dashboard = await startDashboard({ root, port: 0, assetsDir: assets });
    mkdirSync(SHOTS, { recursive: true });
    // A fresh profile per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "dash-chromium-")), {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
  });

  it("lists the runs with their status", async () => {
    await page.goto(dashboard.url);
    const row = page.locator('tr[data-testid="run-row"][data-run="e2e-run"]');
    await row.waitFor();
    expect(await row.locator(".status").textContent()).toBe("running");
    expect(await row.locator("td").nth(3).textContent()).toBe("6 / 10"); // columns: overlay box, name, status, step
    expect(await page.locator('tr[data-run="finished-run"] .status').textContent()).toBe("finished");
    await page.screenshot({ path: join(SHOTS, "runs.png") });
  });

  it("plots every step despite the malformed lines, with a notice, and updates live", async () => {
    await page.goto(`${dashboard.url}#/runs/e2e-run`);
    const loss = page.locator('[data-chart="loss"]');
    await loss.locator("canvas").waitFor();
    expect(await loss.getAttribute("data-points")).toBe("6");
    // Eval lines at steps 2, 4, 6: three points for each of win, draw, loss and non-loss
    // (interval bounds are drawn, not counted).
    expect(await page.locator('[data-chart="eval-TicTacToe-v0 vs random"]').getAttribute("data-points")).toBe("12");
    expect(await page.locator('[data-chart="kuhn"]').getAttribute("data-points")).toBe("3");
    expect(await page.locator('[data-testid="notices"]').textContent()).toContain("line 4: skipped");
    // The torn line completes and two more steps arrive; the poll picks them up.
    appendFileSync(join(root, "e2e-run", "metrics.jsonl"), `Rate":0}\n${JSON.stringify(stepLine(7))}\n${JSON.stringify(stepLine(8))}\n`);
    // A string predicate: it runs in the page, and this file is typechecked without DOM types.
    await page.waitForFunction(`document.querySelector('[data-chart="loss"]')?.getAttribute("data-points") === "8"`, undefined, { timeout: 15_000 });
    // The completed line (step 99, only an invalid rate) is read once whole; still one notice.
    expect(await page.locator('[data-chart="invalid-rate"]').getAttribute("data-points")).toBe("9");
    expect(await page.locator('[data-testid="notices"] li').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, "plots.png"), fullPage: true });
  });

  it("overlays two runs", async () => {
    await page.goto(`${dashboard.url}#/runs/e2e-run,finished-run`);
    const loss = page.locator('[data-chart="loss"]');
    await loss.locator("canvas").waitFor();
    expect(await loss.getAttribute("data-points")).toBe(String(8 + 4));
  });

  it("replays a game step by step and highlights an invalid move", async () => {
    await page.goto(`${dashboard.url}#/games/e2e-run`);
    const position = page.locator('[data-testid="position"]');
    await position.waitFor();
    expect(await position.textContent()).toBe("0 / 5");
    expect(await page.locator(".ttt .cell.p0, .ttt .cell.p1").count()).toBe(0);
    expect(await page.locator('[data-testid="reply"] .raw').textContent()).toBe("I take the centre. [4]");
    for (let i = 0; i < 5; i++) await page.click('[data-testid="next"]');
    expect(await position.textContent()).toBe("5 / 5");
    expect(await page.locator(".ttt .cell.p0").count()).toBe(3);
    expect(await page.locator(".ttt .cell.p1").count()).toBe(2);
    await page.screenshot({ path: join(SHOTS, "replay.png") });
    await page.locator('[data-testid="game"]').nth(1).click();
    await page.click('[data-testid="next"]');
    expect(await page.locator('[data-testid="invalid"]').textContent()).toContain("cell 4 is taken");
    expect(await page.locator(".reply.invalid").count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, "replay-invalid.png") });
  });

  it("answers a human move in the play view with the policy's reply", async () => {
    await page.goto(`${dashboard.url}#/play`);
    await page.locator('[data-testid="play-game"]').selectOption("TicTacToe-v0");
    await page.fill('[data-testid="play-policy"]', "random");
    await page.click('[data-testid="play-start"]');
    await page.locator('[data-testid="legal"]').first().waitFor();
    expect(await page.locator('[data-testid="legal"]').count()).toBe(9);
    await page.locator('[data-testid="legal"]', { hasText: "[4]" }).click();
    await page.locator('[data-testid="turns"] li[data-who="policy"]').waitFor();
    expect(await page.locator('[data-testid="turns"] li').count()).toBe(2);
    expect(await page.locator(".ttt .cell.p0").count()).toBe(1);
    expect(await page.locator(".ttt .cell.p1").count()).toBe(1);
    await page.fill('[data-testid="play-move"]', "nonsense");
    await page.click('[data-testid="play-send"]');
    await page.locator('[data-testid="play-error"]').waitFor();
    await page.screenshot({ path: join(SHOTS, "play.png") });
  });

  it("shows a Kuhn player only their own card", async () => {
    await page.locator('[data-testid="play-game"]').selectOption("KuhnPoker-v1-1round");
    await page.locator('[data-testid="play-seat"]').selectOption("1");
    await page.click('[data-testid="play-start"]');
    await page.locator(".kuhn").waitFor();
    const cards = await page.locator(".kuhn .card b").allTextContents();
    expect(cards[0]).toBe("?");
    expect(["J", "Q", "K"]).toContain(cards[1]);
    expect(await page.locator('[data-testid="legal"]').count()).toBeGreaterThanOrEqual(2);
  });

  it("writes a self-contained report that renders from a file", async () => {
    const html = await renderReport({ runs: [join(root, "finished-run")], assetsDir: assets, generated: "2026-01-01T00:00:00Z" });
    expect(html).not.toMatch(/src="\/assets|href="\/assets/);
    const file = join(root, "report.html");
    writeFileSync(file, html);
    await page.goto(`file://${file}`);
    await page.locator('[data-chart="loss"] canvas').waitFor();
    expect(await page.locator('[data-chart="loss"]').getAttribute("data-points")).toBe("4");
    expect(await page.locator('[data-testid="run-row"]').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, "report.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
