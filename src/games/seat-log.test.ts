import { describe, expect, it } from "vitest";
import { playerName, seatLog, toBoth, toSeat } from "./seat-log.js";

describe("seatLog", () => {
  it("gives each seat the rules, the entries addressed to it or to both, in order, then the view", () => {
    const history = [
      toBoth({ kind: "notice", text: "round 1" }),
      toSeat(0, { kind: "notice", text: "secret of 0" }),
      toSeat(1, { kind: "notice", text: "secret of 1" }),
      toBoth({ kind: "action", seat: 0, text: "[3]" }),
    ];
    expect(seatLog("rules for 1", history, 1, "view of 1")).toEqual([
      { kind: "rules", text: "rules for 1" },
      { kind: "notice", text: "round 1" },
      { kind: "notice", text: "secret of 1" },
      { kind: "action", seat: 0, text: "[3]" },
      { kind: "state", text: "view of 1" },
    ]);
    expect(seatLog("r", history, 0, "v").map((m) => m.text)).toEqual(["r", "round 1", "secret of 0", "[3]", "v"]);
    expect(playerName(1)).toBe("Player 1");
  });
});
