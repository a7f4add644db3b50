import { describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { bf16BitsToF32, decodeBf16, decodeF16, encodeBf16, f16BitsToF32, f32ToBf16Bits } from "./bf16.js";

describe("bfloat16", () => {
  it("decodes known bit patterns exactly", () => {
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc000)).toBe(-2);
    expect(bf16BitsToF32(0x3e80)).toBe(0.25);
    expect(bf16BitsToF32(0x4049)).toBe(3.140625);
    expect(bf16BitsToF32(0x7f80)).toBe(Infinity);
    expect(bf16BitsToF32(0xff80)).toBe(-Infinity);
    expect(bf16BitsToF32(0x7fc0)).toBeNaN();
    expect(Object.is(bf16BitsToF32(0x8000), -0)).toBe(true);
    expect(bf16BitsToF32(0x0001)).toBe(2 ** -133); // smallest subnormal
    expect(bf16BitsToF32(0x0080)).toBe(2 ** -126); // smallest normal
  });

  it("rounds to nearest, ties to even", () => {
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even mantissa (…80)
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie → even mantissa (…82)
    expect(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81); // just above the tie
    expect(f32ToBf16Bits(-(1 + 2 ** -8 + 2 ** -20))).toBe(0xbf81);
    expect(f32ToBf16Bits(3.4028234663852886e38)).toBe(0x7f80); // max float32 rounds up to inf
    expect(f32ToBf16Bits(Infinity)).toBe(0x7f80);
    expect(f32ToBf16Bits(Number.NaN)).toBe(0x7fc0);
  });

  it("keeps NaNs NaN (a signalling NaN would otherwise round to inf) and their sign", () => {
    const src = new Float32Array(3);
    new Uint32Array(src.buffer).set([0x7f800001, 0xffc00001, 0xff800001]);
    const out = new Uint16Array(3);
    encodeBf16(src, out);
    expect(Array.from(out)).toEqual([0x7fc0, 0xffc0, 0xffc0]);
  });

  it("bulk decode equals the scalar decode for all 65,536 patterns, and encode inverts it", () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const dec = new Float32Array(65536);
    decodeBf16(all, dec);
    const back = new Uint16Array(65536);
    encodeBf16(dec, back);
    const wrong: number[] = [];
    for (let b = 0; b < 65536; b++) {
      const want = bf16BitsToF32(b);
      const ok = Number.isNaN(want) ? Number.isNaN(dec[b]) : Object.is(dec[b], want) && back[b] === b;
      if (!ok) wrong.push(b);
    }
    expect(wrong).toEqual([]);
  });

  it("picks the nearer neighbour for random float32 inputs", () => {
    const rng = createRng(21);
    let wrong = 0;
    for (let i = 0; i < 20000; i++) {
      const u = rng.nextUint32() & 0x7f7fffff; // finite, positive
      const x = new Float32Array(new Uint32Array([u]).buffer)[0] as number;
      const lo = bf16BitsToF32(u >>> 16);
      const hi = bf16BitsToF32((u >>> 16) + 1);
      const got = bf16BitsToF32(f32ToBf16Bits(x));
      const dLo = x - lo;
      const dHi = hi - x;
      if (got !== (dLo < dHi ? lo : dHi < dLo ? hi : ((u >>> 16) & 1) === 0 ? lo : hi)) wrong++;
    }
    expect(wrong).toBe(0);
  });
});

describe("float16", () => {
  it("decodes normals, subnormals, zeros, infinities and NaN exactly", () => {
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0xc000)).toBe(-2);
    expect(f16BitsToF32(0x3555)).toBe(0.333251953125);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16BitsToF32(0x8001)).toBe(-(2 ** -24));
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
    expect(f16BitsToF32(0x7c01)).toBeNaN();
  });

  it("bulk decode equals the scalar decode for all 65,536 patterns", () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const dec = new Float32Array(65536);
    decodeF16(all, dec);
    const wrong: number[] = [];
    for (let b = 0; b < 65536; b++) {
      const want = f16BitsToF32(b);
      if (!(Number.isNaN(want) ? Number.isNaN(dec[b]) : Object.is(dec[b], want))) wrong.push(b);
    }
    expect(wrong).toEqual([]);
  });
});
