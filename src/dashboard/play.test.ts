import { describe, expect, it } from "vitest";
import { makeReferenceAgent } from "../games/agent-registry.js";
import { PlaySessions } from "./play.js";

const sessions = (): PlaySessions => new PlaySessions(async (policy, gameId) => makeReferenceAgent(policy, gameId));

describe("PlaySessions", () => {
  it("answers each human move with the policy's move, until the game ends", async () => {
    const play = sessions();
    let view = await play.start("TicTacToe-v0", "random", 0, 3);
    expect(view.toAct).toBe(true);
    expect(view.turns).toEqual([]);
    let moves = 0;
    while (!view.done) {
      const legal = view.legal[0];
      if (legal === undefined) throw new Error("expected a legal move");
      view = await play.move(view.id, legal);
      moves++;
      expect(view.error).toBeNull();
      expect(view.turns.filter((t) => t.who === "human")).toHaveLength(moves);
      if (!view.done) expect(view.turns[view.turns.length - 1]?.who).toBe("policy");
    }
    expect(view.returns[0] + view.returns[1]).toBe(0);
    expect((await play.move(view.id, "[0]")).error).toMatch(/over/);
  });

  it("lets the policy open when the person sits second, and refuses invalid replies without a change", async () => {
    const play = sessions();
    const view = await play.start("TicTacToe-v0", "random", 1, 5);
    expect(view.turns).toHaveLength(1);
    expect(view.turns[0]?.who).toBe("policy");
    const taken = view.turns[0]?.action ?? "";
    const refused = await play.move(view.id, taken);
    expect(refused.error).not.toBeNull();
    expect(refused.turns).toHaveLength(1);
    const garbage = await play.move(view.id, "no idea");
    expect(garbage.error).not.toBeNull();
  });

  it("hides the policy's private information (Kuhn: only the person's card)", async () => {
    const play = sessions();
    const view = await play.start("KuhnPoker-v1-1round", "random", 0, 11);
    const info = view.infoState as { seat: number; card: string };
    expect(info.seat).toBe(0);
    expect(["J", "Q", "K"]).toContain(info.card);
  });

  it("names an unknown session", async () => {
    await expect(sessions().move("g99", "[1]")).rejects.toThrow(/No play session g99/);
  });
});
