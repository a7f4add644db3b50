/**
 * `spiral play`: a game in the terminal between people and reference agents.
 *
 * A person sees the rules once, then at each turn the messages that are new to them (the
 * opponent's moves, round results, why their last reply was invalid), the current view and the
 * legal moves, and types a move. Invalid input gets the reason and another try: a person's error
 * allowance is unlimited. Input that ends before the game does ends the command with exit code 1. Reference agents play by name (`random` for every game, `minimax`,
 * `nash`, … where they exist).
 */
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import type { Agent } from "../games/agent.js";
import { referenceAgentNames, referenceAgents } from "../games/agent-registry.js";
import { OPTIMAL_BY_GAME, referenceAgentFor } from "../policy/policy-spec.js";
import type { Message, Observation, Seat } from "../games/game.js";
import type { MatchRecord } from "../games/match.js";
import { playMatch } from "../games/match.js";
import { messageText, newMessages } from "../games/record.js";
import { baseGameId, parseRules, withRules } from "../games/game.js";
import { getGame } from "../games/registry.js";
import type { CliIo } from "./io.js";
import { checkOutputFile, parseIntegerOption, positiveIntegerOption, processIo } from "./io.js";

export interface PlayOptions {
  readonly game: string;
  /** "human" or a reference agent name, per seat. */
  readonly p0: string;
  readonly p1: string;
  readonly seed: number;
  /** Invalid replies a non-human seat may retry per decision. */
  readonly errorAllowance: number;
  readonly timeoutMs?: number;
  /** Where to write the match record as JSON. */
  readonly record?: string;
}

/** Prints what is new to this seat since it last looked; returns the log it has now seen. */
function showNew(io: CliIo, seen: readonly Message[], observation: Observation): readonly Message[] {
  const fresh = newMessages(seen, observation.log);
  for (const message of fresh) {
    // The view is printed below; the trailing state message and a final notice such as "Game
    // over: … You win." are part of it already.
    if (message.kind !== "action" && observation.view.includes(message.text)) continue;
    io.out(`${messageText(message)}\n\n`);
  }
  return observation.log;
}

/** How many legal moves a person is shown when the view does not list them. */
const LEGAL_SHOWN = 12;

export const INPUT_ENDED = "input ended before the game did";

/** A person at the terminal: shows the observation, reads one line per reply. */
export function humanAgent(io: CliIo, seat: Seat): Agent & { readonly showFinal: (observation: Observation) => void } {
  let seen: readonly Message[] = [];
  return {
    name: "human",
    async act(observation) {
      seen = showNew(io, seen, observation);
      io.out(`${observation.view}\n`);
      // Most views already list the moves; a view that does not gets them spelled out, up to a
      // screenful (negotiation enumerates every affordable offer; its view gives the syntax).
      const { legal } = observation;
      if (!legal.every((move) => observation.view.includes(move))) {
        const listed = legal.length > LEGAL_SHOWN ? `${legal.slice(0, LEGAL_SHOWN).join(" ")} … (${legal.length} in all)` : legal.join(" ");
        io.out(`Legal moves: ${listed}\n`);
      }
      io.out(`Player ${seat} > `);
      const line = await io.readLine();
      if (line === null) throw new Error(INPUT_ENDED);
      return { action: line };
    },
    showFinal(observation) {
      seen = showNew(io, seen, observation);
      io.out(`${observation.view}\n`);
    },
  };
}

/**
 * Makes agents take turns at the terminal: in a simultaneous round both seats are asked at once,
 * and two people at one keyboard must still be prompted one after the other.
 */
function takingTurns<T extends Agent>(agents: readonly (T | null)[]): (T | null)[] {
  let terminal: Promise<unknown> = Promise.resolve();
  return agents.map((agent) => {
    if (agent === null) return null;
    return {
      ...agent,
      act(observation, rng) {
        const turn = terminal.then(() => agent.act(observation, rng));
        terminal = turn.catch(() => undefined);
        return turn;
      },
    };
  });
}

/** Echoes a non-human agent's replies when nobody is at the terminal to see them in their log. */
function announced(io: CliIo, agent: Agent, seat: Seat): Agent {
  return {
    name: agent.name,
    async act(observation, rng) {
      const reply = await agent.act(observation, rng);
      io.out(`Player ${seat} (${agent.name}): ${reply.action}\n`);
      return reply;
    },
  };
}

function resultLine(record: MatchRecord): string {
  const [r0, r1] = record.returns;
  const names = record.agents.map((name, seat) => `Player ${seat} (${name})`);
  switch (record.endReason) {
    case "transport": {
      const failure = record.transport;
      if (failure !== null && failure.message.endsWith(INPUT_ENDED)) return `Input ended before the game did (${names[failure.seat]} was to move). No result.`;
      return `Match aborted: ${failure?.message ?? "an agent failed"}. No result.`;
    }
    case "turn-cap":
      return `Draw: the game reached its turn cap of ${getGame(record.gameId).info.maxTurns} moves.`;
    case "invalid": {
      const who = record.offenders.map((s) => names[s]).join(" and ");
      return `${who} made an invalid move: ${record.steps.at(-1)?.reason ?? ""}. Returns ${r0}, ${r1}.`;
    }
    case "terminal":
      return r0 === r1 ? `Draw. Returns ${r0}, ${r1}.` : `${names[r0 > r1 ? 0 : 1]} wins. Returns ${r0}, ${r1}.`;
  }
}

/** Resolves one seat's player name (`optimal`: the game's perfect player, as in spiral eval); throws listing the valid names for the game. */
function seatAgent(name: string, gameId: string): Agent | "human" {
  if (name === "human") return "human";
  try {
    return referenceAgentFor(name, baseGameId(gameId));
  } catch {
    const names = [...referenceAgentNames(gameId)];
    if (OPTIMAL_BY_GAME[baseGameId(gameId)] !== undefined && !names.includes("optimal")) names.push("optimal");
    throw new Error(`Unknown player "${name}" for ${gameId}. Valid players: human, ${names.join(", ")}.`);
  }
}

export async function runPlay(options: PlayOptions, io: CliIo): Promise<MatchRecord> {
  if (options.record !== undefined) checkOutputFile(options.record, "--record");
  const game = getGame(options.game);
  const chosen = [seatAgent(options.p0, game.info.id), seatAgent(options.p1, game.info.id)] as const;
  const humans = takingTurns(chosen.map((c, seat) => (c === "human" ? humanAgent(io, seat as Seat) : null)));
  const spectating = humans.every((h) => h === null);
  const agents = chosen.map((c, seat) => {
    const human = humans[seat];
    if (human) return human;
    const agent = c as Agent;
    return spectating ? announced(io, agent, seat as Seat) : agent;
  }) as [Agent, Agent];

  io.out(`${game.info.name} (${game.info.id}), seed ${options.seed}: Player 0 is ${agents[0].name}, Player 1 is ${agents[1].name}.\n\n`);
  const record = await playMatch({
    game,
    agents,
    seed: options.seed,
    scoring: "evaluation",
    errorAllowance: [humans[0] ? Infinity : options.errorAllowance, humans[1] ? Infinity : options.errorAllowance],
    ...(options.timeoutMs === undefined ? {} : { actTimeoutMs: options.timeoutMs }),
  });
  if (record.endReason === "transport") {
    // No final position to show: the game did not end.
    io.err(`\n${resultLine(record)}\n`);
  } else {
    io.out("\n");
    humans.forEach((human, seat) => human?.showFinal(record.finalObservations[seat as Seat]));
    if (spectating) io.out(`${record.finalObservations[0].view}\n`);
    io.out(`\n${resultLine(record)}\n`);
  }
  if (options.record !== undefined) {
    writeFileSync(options.record, JSON.stringify(record) + "\n");
    io.out(`Record written to ${options.record}\n`);
  }
  return record;
}

/** The reference agents by game, for `spiral play --help`. */
export function referenceAgentsHelp(): string {
  const rows = referenceAgents().map((a) => [a.name, a.games === undefined ? "every game" : a.games.join(", "), a.summary]);
  const width = (i: number) => Math.max(...rows.map((r) => (r[i] ?? "").length));
  const [w0, w1] = [width(0), width(1)];
  const optimal = Object.entries(OPTIMAL_BY_GAME).filter(([, name]) => name !== "optimal").map(([game, name]) => `${game} ${name}`).join(", ");
  return `\nReference agents (--p0/--p1; also policy specs for spiral eval and spiral train --opponent):\n${rows.map(([name, games, summary]) => `  ${(name ?? "").padEnd(w0)}  ${(games ?? "").padEnd(w1)}  ${summary ?? ""}`).join("\n")}\n` +
    `optimal also names the other games' perfect players: ${optimal}.\n`;
}

export function playCommand(io: CliIo = processIo()): Command {
  return new Command("play")
    .description("play a game in the terminal: people (human) against reference agents (random, minimax, nash, …)")
    .requiredOption("--game <id>", "game id (see `spiral games`)")
    .option("--p0 <player>", "Player 0: human or a reference agent", "human")
    .option("--p1 <player>", "Player 1: human or a reference agent", "random")
    .option("--seed <n>", "game seed (default: from the clock, printed so the game can be replayed)")
    .option("--error-allowance <n>", "invalid replies a reference agent may retry per move (people: unlimited)", "0")
    .option("--timeout-ms <n>", "wall-clock limit per reference agent reply")
    .option("--record <file>", "write the match record (JSON) to this file")
    .option("--rules <mode>", "spiral (our rules, with the documented fixes; the default) or reference (the published rules exactly); same as --game ID:reference")
    .addHelpText("after", referenceAgentsHelp())
    .action(async (raw: { game: string; p0: string; p1: string; seed?: string; errorAllowance: string; timeoutMs?: string; record?: string; rules?: string }) => {
      const errorAllowance = parseIntegerOption(raw.errorAllowance, "--error-allowance");
      if (errorAllowance < 0) throw new Error(`--error-allowance expects a non-negative integer; got ${errorAllowance}`);
      const record = await runPlay(
        {
          game: raw.rules === undefined ? raw.game : withRules(raw.game, parseRules(raw.rules)),
          p0: raw.p0,
          p1: raw.p1,
          seed: raw.seed === undefined ? Date.now() % 2 ** 31 : parseIntegerOption(raw.seed, "--seed"),
          errorAllowance,
          ...(raw.timeoutMs === undefined ? {} : { timeoutMs: positiveIntegerOption(raw.timeoutMs, "--timeout-ms") }),
          ...(raw.record === undefined ? {} : { record: raw.record }),
        },
        io,
      );
      // A match that did not end (input ran out, an agent failed) is a failed command.
      if (record.endReason === "transport") process.exitCode = 1;
    });
}
