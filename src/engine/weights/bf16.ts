/**
 * 16-bit float formats to and from float32, bit-exact.
 *
 * - bfloat16 is the top half of a float32: decoding is a 16-bit shift; encoding rounds to nearest,
 *   ties to even (as PyTorch's .to(torch.bfloat16)), and maps every NaN to a quiet NaN of the
 *   same sign (0x7fc0 / 0xffc0) so rounding can never turn a NaN into an infinity.
 * - float16 (IEEE binary16) is decoded through a 65,536-entry table built on first use;
 *   subnormals, ±0, ±inf and NaN decode exactly; encoding rounds to nearest even (GGUF's F16
 *   tensors, the device's half-precision weights).
 *
 * Bulk functions work on whole arrays of little-endian 16-bit words (this engine runs on
 * little-endian hosts only; safetensors.ts checks).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 value of a bfloat16 bit pattern. */
export function bf16BitsToF32(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0] as number;
}

/** The bfloat16 bit pattern nearest to x (x is first rounded to float32). */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  return roundF32BitsToBf16(u32[0] as number);
}

function roundF32BitsToBf16(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) & 0x8000) | 0x7fc0; // NaN stays NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The float32 value of an IEEE binary16 bit pattern. */
export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero or subnormal
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** f32 → IEEE half bits, round to nearest even (overflow → ±inf, NaN stays NaN). */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0] as number;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 255) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++; // a carry rolls into the exponent
  return sign | half;
}
let f16Table: Float32Array | undefined;

function f16Lookup(): Float32Array {
  if (f16Table === undefined) {
    f16Table = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) f16Table[b] = f16BitsToF32(b);
  }
  return f16Table;
}

/** dst[i] = bf16(src[i]) as float32. */
export function decodeBf16(src: Uint16Array, dst: Float32Array): void {
  if (dst.length !== src.length) throw new Error(`decodeBf16: ${src.length} inputs but ${dst.length} outputs`);
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = (src[i] as number) << 16;
}

/** dst[i] = f16(src[i]) as float32. */
export function decodeF16(src: Uint16Array, dst: Float32Array): void {
  if (dst.length !== src.length) throw new Error(`decodeF16: ${src.length} inputs but ${dst.length} outputs`);
  const table = f16Lookup();
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i] as number] as number;
}

/** dst[i] = round-to-nearest-even bf16 bits of src[i]. */
export function encodeBf16(src: Float32Array, dst: Uint16Array): void {
  if (dst.length !== src.length) throw new Error(`encodeBf16: ${src.length} inputs but ${dst.length} outputs`);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) dst[i] = roundF32BitsToBf16(bits[i] as number);
}

/** dst[i] = the float16 bit pattern nearest to src[i] (round to nearest even; beyond ±65504: ±inf). */
export function encodeF16(src: Float32Array, dst: Uint16Array): void {
  if (dst.length !== src.length) throw new Error(`encodeF16: ${src.length} inputs but ${dst.length} outputs`);
  for (let i = 0; i < src.length; i++) dst[i] = f32ToF16Bits(src[i] as number);
}
