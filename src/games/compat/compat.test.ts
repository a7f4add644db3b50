/**
 * The reference-compatibility suite: every `*.json` file in this folder holds recorded reply
 * sequences for one game with the outcome the published reference environment gives them, derived
 * from the reference's source (each file names the functions); this test replays them through
 * our game and checks that we agree, reply by reply.
 *
 * A case starts from `init(seed)`, optionally patched with `state` (fields of our state: used to
 * fix what the reference draws from its global RNG, such as dice and spawns, which no seed can
 * reproduce across implementations), and feeds `replies` to the seats in the order they owe moves
 * (a simultaneous round: Player 0, then Player 1). Each reply is judged as the match runner judges
 * it (`judgeReply`); the first invalid reply ends the game, as under SPIRAL's error allowance 0,
 * scored −1 for the offender and +1 for the other seat (our evaluation scoring; the reference
 * environment itself gives the other seat 0). Expectations, all optional:
 * - `accepted`: per reply, whether the reference accepts it;
 * - `actions`: per reply, our canonical text of the move the reference reads (null: rejected);
 * - `matched`: per reply, the text of the reply that decided it (the pattern's match);
 * - `end`: "terminal", "invalid" or "running" after the replies;
 * - `returns`: the returns at the end; `moves`: moves applied (the reference's actions used).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Seat } from "../game.js";
import { judgeReply, scoreInvalid } from "../match.js";
import { getGame } from "../registry.js";

interface CompatCase {
  readonly name: string;
  readonly seed?: number;
  readonly state?: Readonly<Record<string, unknown>>;
  readonly replies: readonly string[];
  readonly expect: {
    readonly accepted?: readonly boolean[];
    readonly actions?: readonly (string | null)[];
    readonly matched?: readonly (string | null)[];
    readonly end?: "terminal" | "invalid" | "running";
    readonly returns?: readonly [number, number];
    readonly moves?: number;
  };
}

interface CompatFile {
  readonly game: string;
  readonly reference: string;
  readonly source: readonly string[];
  readonly cases: readonly CompatCase[];
}

interface Outcome {
  readonly accepted: boolean[];
  readonly actions: (string | null)[];
  readonly matched: (string | null)[];
  end: "terminal" | "invalid" | "running";
  returns: readonly [number, number];
  moves: number;
}

function run(gameSpec: string, c: CompatCase): Outcome {
  const game = getGame(gameSpec);
  let state = { ...(game.init(c.seed ?? 0) as object), ...(c.state ?? {}) } as { turn: number };
  const out: Outcome = { accepted: [], actions: [], matched: [], end: "running", returns: [0, 0], moves: 0 };
  for (const reply of c.replies) {
    if (game.isTerminal(state)) throw new Error(`${c.name}: reply ${JSON.stringify(reply)} comes after the end of the game`);
    const seat = game.toAct(state)[0] as Seat;
    const judged = judgeReply(game, state, seat, reply);
    const parsed = game.parse(state, seat, reply);
    out.accepted.push(judged.valid);
    out.actions.push(judged.valid ? judged.canonical : null);
    out.matched.push(parsed.match?.text ?? null);
    if (!judged.valid) {
      out.end = "invalid";
      out.returns = scoreInvalid([seat], "evaluation");
      out.moves = state.turn;
      return out;
    }
    state = game.apply(state, seat, judged.action) as { turn: number };
  }
  out.moves = state.turn;
  if (game.isTerminal(state)) {
    out.end = "terminal";
    out.returns = game.returns(state);
  }
  return out;
}

const folder = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(folder).filter((f) => f.endsWith(".json")).sort();

describe("reference compatibility", () => {
  it("has a data file for every published game", () => {
    expect(files.map((f) => (JSON.parse(readFileSync(join(folder, f), "utf8")) as CompatFile).game.split(":")[0]).sort()).toEqual([
      "ConnectFour-v0",
      "KuhnPoker-v1",
      "LiarsDice-v1",
      "Nim-v0",
      "PigDice-v1",
      "SimpleNegotiation-v1",
      "SimpleTak-v0",
      "Snake-v0",
      "TicTacToe-v0",
    ]);
  });

  for (const file of files) {
    const data = JSON.parse(readFileSync(join(folder, file), "utf8")) as CompatFile;
    describe(`${file}: ${data.game}`, () => {
      it("names the reference and the functions its expectations come from", () => {
        expect(data.reference).toMatch(/\S/);
        expect(data.source.length).toBeGreaterThan(0);
        expect(data.cases.length).toBeGreaterThan(0);
      });
      for (const c of data.cases) {
        it(c.name, () => {
          const got = run(data.game, c);
          const e = c.expect;
          if (e.accepted !== undefined) expect(got.accepted, "accepted").toEqual(e.accepted);
          if (e.actions !== undefined) expect(got.actions, "actions").toEqual(e.actions);
          if (e.matched !== undefined) expect(got.matched, "matched").toEqual(e.matched);
          if (e.end !== undefined) expect(got.end, "end").toBe(e.end);
          // Shares such as 2/3 are written to 6 places.
          if (e.returns !== undefined) {
            expect(got.returns[0], "returns[0]").toBeCloseTo(e.returns[0], 6);
            expect(got.returns[1], "returns[1]").toBeCloseTo(e.returns[1], 6);
          }
          if (e.moves !== undefined) expect(got.moves, "moves").toBe(e.moves);
        });
      }
    });
  }
});
