/**
 * Every op helper and the table of VJP rules the autodiff looks up by ONNX op type.
 * Ops without a rule (Shape, Equal, Range, …) carry no gradient.
 */
import { elementwiseVjps } from "./elementwise.js";
import { indexingVjps } from "./indexing.js";
import { linalgVjps } from "./linalg.js";
import { reduceVjps } from "./reduce.js";
import { shapeVjps } from "./shape.js";
import type { VjpRule } from "./vjp.js";

export * from "./elementwise.js";
export * from "./indexing.js";
export * from "./linalg.js";
export * from "./reduce.js";
export * from "./shape.js";
export type { VjpRule } from "./vjp.js";

export const vjpRules: Readonly<Record<string, VjpRule>> = {
  ...elementwiseVjps,
  ...indexingVjps,
  ...linalgVjps,
  ...reduceVjps,
  ...shapeVjps,
};
