import { describe, expect, it } from "vitest";
import { pyCollapseSpace, pyInt, pyRegex, pyStrip, replyMatch } from "./reply-pattern.js";

describe("Python re semantics for the reference patterns", () => {
  it("\\d is any Unicode decimal digit, and pyInt reads it as int() does", () => {
    const re = pyRegex(String.raw`\[\s*(\d+)\s*\]`);
    expect(re.exec("[٣]")?.[1]).toBe("٣");
    expect(pyInt("٣")).toBe(3);
    expect(pyInt("４２")).toBe(42); // fullwidth digits
    // U+1D7EB: the 9 of the third of five adjacent runs of mathematical digits (U+1D7CE–U+1D7FF).
    expect(pyInt(String.fromCodePoint(0x1d7eb))).toBe(9);
    expect(pyInt(String.fromCodePoint(0x1d7e2))).toBe(0);
    expect(pyInt("0007")).toBe(7);
    expect(pyInt("0")).toBe(0);
    expect(pyInt("9".repeat(400))).toBe(Number.POSITIVE_INFINITY);
    expect(re.exec("[x]")).toBeNull();
  });

  it("\\s is Python's whitespace: U+001C–U+001F and U+0085 are in, U+FEFF is out", () => {
    const re = pyRegex(String.raw`\[\s*(\d+)\s*\]`);
    expect(re.exec("[\u001c4\u0085]")?.[1]).toBe("4");
    expect(re.exec("[\ufeff4]")).toBeNull();
    // Inside a class as well.
    expect(pyRegex(String.raw`^[,\s]+$`).test(", \u001f")).toBe(true);
  });

  it(". stops only at \\n (JavaScript's also stops at \\r, U+2028, U+2029); DOTALL crosses it", () => {
    expect(pyRegex("^a.b$").test("a\rb")).toBe(true);
    expect(pyRegex("^a.b$").test("a\u2028b")).toBe(true);
    expect(pyRegex("^a.b$").test("a\nb")).toBe(false);
    expect(pyRegex("^a.b$", { dotAll: true }).test("a\nb")).toBe(true);
  });

  it("keeps escapes and classes, and ignores case when asked", () => {
    expect(pyRegex(String.raw`\[(roll|hold|r|h)\]`, { ignoreCase: true }).exec("x [R] y")?.[1]).toBe("R");
    expect(pyRegex(String.raw`[^\[\]]+`).exec("[ab]")?.[0]).toBe("ab");
    expect(pyRegex(String.raw`\.*\]`).exec("x..]")?.[0]).toBe("..]");
  });

  it("strip and split() treat whitespace as Python does, in linear time", () => {
    expect(pyStrip("\u001c a b \u0085")).toBe("a b");
    expect(pyCollapseSpace("  3   Wood\n->\t2 Gold ")).toBe("3 Wood -> 2 Gold");
    const spaces = " ".repeat(200_000);
    const start = performance.now();
    expect(pyStrip(`${spaces}x${spaces}y${spaces}`)).toBe(`x${spaces}y`);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it("cuts long matched text for display", () => {
    expect(replyMatch("p", null)).toEqual({ pattern: "p", text: null });
    expect(replyMatch("p", "x".repeat(100)).text).toHaveLength(80);
  });
});
