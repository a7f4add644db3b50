import { describe, expect, it } from "vitest";
import type { Agent } from "./agent.js";
import { playMatch } from "./match.js";
import { messageText, observationText, parseMatchRecord, verifyReplay } from "./record.js";
import { pennies, secretSum } from "./test-games.js";

const uniform: Agent = { name: "uniform", act: async (obs, rng) => ({ action: rng.choice(obs.legal) }) };

describe("match records", () => {
  it("round-trip through JSON and replay faithfully", async () => {
    for (let seed = 0; seed < 10; seed++) {
      const record = await playMatch({ game: pennies, agents: [uniform, uniform], seed });
      const read = parseMatchRecord(JSON.stringify(record));
      expect(read).toEqual(record);
      expect(await verifyReplay(pennies, read)).toEqual([]);
    }
  });

  it("replays a record with unlimited retries and one cut by a transport failure", async () => {
    let n = 0;
    const sometimesJunk: Agent = { name: "junk", act: async (obs, rng) => ({ action: n++ % 3 === 0 ? "[9]" : rng.choice(obs.legal) }) };
    const retried = await playMatch({ game: secretSum, agents: [sometimesJunk, uniform], seed: 4, errorAllowance: [Infinity, 0] });
    expect(retried.errorAllowance).toEqual([null, 0]);
    expect(retried.retries[0]).toBeGreaterThan(0);
    expect(await verifyReplay(secretSum, parseMatchRecord(JSON.stringify(retried)))).toEqual([]);
    let calls = 0;
    const dropping: Agent = { name: "drop", act: async (obs, rng) => (calls++ === 1 ? Promise.reject(new Error("gone")) : { action: rng.choice(obs.legal) }) };
    const cut = await playMatch({ game: secretSum, agents: [dropping, uniform], seed: 4 });
    expect(cut.endReason).toBe("transport");
    expect(await verifyReplay(secretSum, cut)).toEqual([]);
  });

  it("finds a tampered record", async () => {
    const record = await playMatch({ game: secretSum, agents: [uniform, uniform], seed: 2 });
    const steps = record.steps.map((s, i) => (i === 1 ? { ...s, observation: { ...s.observation, view: "something else" } } : s));
    expect(await verifyReplay(secretSum, { ...record, steps })).toEqual(["step 1: observation differs on replay"]);
    expect(await verifyReplay(secretSum, { ...record, returns: [5, -5] })).toEqual([`final returns ${JSON.stringify(record.returns)} on replay, [5,-5] recorded`]);
    expect(await verifyReplay(pennies, record)).toEqual(["record is for SecretSum-test, not Pennies-test"]);
  });

  it("rejects text that is not a record, naming the field", () => {
    expect(() => parseMatchRecord("{")).toThrow(/does not parse/);
    expect(() => parseMatchRecord("[]")).toThrow(/Not a spiral match record/);
    expect(() => parseMatchRecord(JSON.stringify({ format: "spiral.match/1", gameId: 3 }))).toThrow(/at gameId/);
  });

  it("renders a log as text with seats named", () => {
    expect(messageText({ kind: "action", seat: 1, text: "[4]" })).toBe("Player 1: [4]");
    const obs = secretSum.observe(secretSum.apply(secretSum.init(1), 0, 2), 1);
    expect(observationText(obs)).toMatch(/^You are Player 1 in Secret Sum.*\n\nYour secret digit is \d\.\n\nPlayer 0: \[2\]$/s);
  });
});
