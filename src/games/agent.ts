/**
 * Agents: anything that can choose a move from an observation — a model, a person at a terminal,
 * an HTTP endpoint, a reference player. `act` is async so remote policies fit the same contract.
 *
 * An agent returns its raw reply text; the match runner parses it with the game (and, for
 * models, `prompt/` first extracts the action from the reasoning). A reply that does not parse
 * or is illegal is an invalid move, scored by the runner, never an exception.
 */
import type { Observation } from "./game.js";
import type { Rng } from "../core/rng.js";

export interface Agent {
  /** Shown in records and tables, e.g. "random", "minimax", "checkpoint:runs/a/step-100". */
  readonly name: string;
  /**
   * The reply for the seat in `observation` (whose `legal` lists the canonical legal actions).
   * May throw or time out: the runner records that as a transport failure, not a game loss.
   */
  act(observation: Observation, rng: Rng): Promise<AgentReply>;
}

/** What an agent said, and optionally what it thought before saying it. */
export interface AgentReply {
  /** The text the game parses (for models: the extracted action, e.g. "[4]"). */
  readonly action: string;
  /** The full raw reply (reasoning included), kept in records for inspection. */
  readonly raw?: string;
}
