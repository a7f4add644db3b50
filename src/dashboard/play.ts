/**
 * Play sessions: a person in the browser against a policy (a checkpoint, an endpoint or a
 * reference agent, by policy spec). The game state stays on the server; the browser sees only
 * the person's own observation, so hidden information (the policy's card) never reaches it.
 *
 * Invariants:
 * - After `startGame` and after every `humanMove`, the policy has made every move it owes: the
 *   session is either waiting for the person or over.
 * - A person's invalid reply is answered with the reason and changes nothing (a person may retry;
 *   the policy's invalid reply ends the game as in evaluation scoring).
 */
import type { Agent } from "../games/agent.js";
import type { AnyGame, Seat } from "../games/game.js";
import { otherSeat } from "../games/game.js";
import { scoreInvalid } from "../games/match.js";
import { getGame } from "../games/registry.js";
import type { Rng } from "../core/rng.js";
import { createRng } from "../core/rng.js";

export interface PlayTurn {
  readonly seat: Seat;
  readonly who: "human" | "policy";
  readonly reply: string;
  readonly raw: string;
  readonly action: string | null;
  readonly valid: boolean;
  readonly reason: string | null;
}

/** What the browser sees of a session. */
export interface PlayView {
  readonly id: string;
  readonly gameId: string;
  readonly humanSeat: Seat;
  readonly policy: string;
  readonly view: string;
  readonly infoState: unknown;
  readonly legal: readonly string[];
  readonly toAct: boolean;
  readonly done: boolean;
  readonly returns: readonly [number, number];
  readonly turns: readonly PlayTurn[];
  /** The reason the person's last reply was refused, if it was. */
  readonly error: string | null;
}

interface Session {
  readonly id: string;
  readonly game: AnyGame;
  readonly humanSeat: Seat;
  readonly agent: Agent;
  readonly rng: Rng;
  state: unknown;
  done: boolean;
  returns: readonly [number, number];
  readonly turns: PlayTurn[];
}

export class PlaySessions {
  private readonly sessions = new Map<string, Session>();
  private counter = 0;

  /** `agentFor(gameId)` gives the policy's agent for the game. */
  constructor(private readonly agentFor: (policy: string, gameId: string) => Promise<Agent>) {}

  async start(gameId: string, policy: string, humanSeat: Seat, seed: number): Promise<PlayView> {
    const game = getGame(gameId);
    const agent = await this.agentFor(policy, gameId);
    const id = `g${++this.counter}`;
    const session: Session = { id, game, humanSeat, agent, rng: createRng(seed), state: game.init(seed), done: false, returns: [0, 0], turns: [] };
    // Old sessions are dropped so a long-lived server holds a bounded number of games.
    if (this.sessions.size >= 64) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(id, session);
    await this.policyMoves(session);
    return this.viewOf(session, null);
  }

  async move(id: string, text: string): Promise<PlayView> {
    const session = this.sessions.get(id);
    if (session === undefined) throw new Error(`No play session ${id}; start a game first`);
    if (session.done) return this.viewOf(session, "The game is over; start a new one");
    const { game, humanSeat } = session;
    if (!game.toAct(session.state).includes(humanSeat)) return this.viewOf(session, "It is not your turn");
    const parsed = game.parse(session.state, humanSeat, text);
    if (!parsed.ok) return this.viewOf(session, parsed.reason);
    if (!game.isLegal(session.state, humanSeat, parsed.action)) return this.viewOf(session, `${game.format(parsed.action)} is not legal now`);
    session.turns.push({ seat: humanSeat, who: "human", reply: text, raw: text, action: game.format(parsed.action), valid: true, reason: null });
    this.applyMove(session, humanSeat, parsed.action);
    await this.policyMoves(session);
    return this.viewOf(session, null);
  }

  private applyMove(session: Session, seat: Seat, action: unknown): void {
    session.state = session.game.apply(session.state, seat, action);
    if (session.game.isTerminal(session.state)) {
      session.done = true;
      session.returns = session.game.returns(session.state);
    }
  }

  private async policyMoves(session: Session): Promise<void> {
    const { game } = session;
    const seat = otherSeat(session.humanSeat);
    while (!session.done && game.toAct(session.state).includes(seat)) {
      const observation = game.observe(session.state, seat);
      let reply: { action: string; raw?: string };
      try {
        reply = await session.agent.act(observation, session.rng.split());
      } catch (e) {
        reply = { action: "", raw: `(the policy failed: ${(e as Error).message})` };
      }
      const parsed = game.parse(session.state, seat, reply.action);
      const valid = parsed.ok && game.isLegal(session.state, seat, parsed.action);
      session.turns.push({
        seat, who: "policy", reply: reply.action, raw: reply.raw ?? reply.action, action: parsed.ok ? game.format(parsed.action) : null, valid,
        reason: valid ? null : parsed.ok ? "not legal now" : parsed.reason,
      });
      if (!valid) {
        session.done = true;
        session.returns = scoreInvalid([seat], "evaluation");
        return;
      }
      if (parsed.ok) this.applyMove(session, seat, parsed.action);
    }
  }

  private viewOf(session: Session, error: string | null): PlayView {
    const observation = session.game.observe(session.state, session.humanSeat);
    const toAct = !session.done && session.game.toAct(session.state).includes(session.humanSeat);
    return {
      id: session.id, gameId: session.game.info.id, humanSeat: session.humanSeat, policy: session.agent.name,
      view: observation.view, infoState: observation.infoState, legal: toAct ? observation.legal : [], toAct, done: session.done,
      returns: session.returns, turns: session.turns, error,
    };
  }
}
