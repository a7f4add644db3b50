import { describe, expect, it } from "vitest";
import { count } from "./text.js";

describe("count", () => {
  it("uses the singular for exactly one and the plural otherwise, including zero", () => {
    expect([count(1, "step"), count(0, "step"), count(2, "run"), count(1000, "step")]).toEqual(["1 step", "0 steps", "2 runs", "1000 steps"]);
    expect(count(2, "sample per problem", "samples per problem")).toBe("2 samples per problem");
  });
});
