/** `spiral games`: the registered games and their metadata, as a table or JSON. */
import { Command } from "commander";
import type { GameListing } from "../games/registry.js";
import { listGames } from "../games/registry.js";
import type { CliIo } from "./io.js";
import { processIo } from "./io.js";

const COLUMNS: readonly { readonly title: string; readonly cell: (row: GameListing) => string }[] = [
  { title: "id", cell: (r) => r.info.id },
  { title: "split", cell: (r) => r.split },
  { title: "seats", cell: (r) => String(r.info.seats) },
  { title: "max turns", cell: (r) => String(r.info.maxTurns) },
  { title: "returns", cell: (r) => `[${r.info.minReturn}, ${r.info.maxReturn}]` },
  { title: "information", cell: (r) => r.info.information },
  { title: "actions", cell: (r) => r.info.actionSpace },
  { title: "simultaneous", cell: (r) => (r.info.simultaneous ? "yes" : "no") },
  { title: "params", cell: (r) => Object.entries(r.info.params).map(([k, v]) => `${k}=${String(v)}`).join(" ") },
];

/** A plain-text table, columns padded to their widest cell. */
export function gamesTable(rows: readonly GameListing[]): string {
  const cells = [COLUMNS.map((c) => c.title), ...rows.map((row) => COLUMNS.map((c) => c.cell(row)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? "").length)));
  const render = (line: readonly string[]): string => line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [render(cells[0] ?? []), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(render)].join("\n") + "\n";
}

export function runGames(options: { readonly json?: boolean }, io: CliIo): void {
  const rows = listGames();
  if (options.json === true) {
    io.out(JSON.stringify(rows.map((r) => ({ ...r.info, split: r.split })), null, 2) + "\n");
    return;
  }
  io.out(gamesTable(rows));
  io.out(`\n${rows.map((r) => `${r.info.id}: ${r.info.summary}`).join("\n")}\n`);
}

export function gamesCommand(io: CliIo = processIo()): Command {
  return new Command("games")
    .description("list the games with their metadata")
    .option("--json", "print the metadata as JSON")
    .action((options: { json?: boolean }) => runGames(options, io));
}
