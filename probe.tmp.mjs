import ort from "onnxruntime-node";
console.log(ort.listSupportedBackends());
// a tiny Add model built by hand with onnx-proto
import onnxProto from "onnx-proto";
const { onnx } = onnxProto;
const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: "", version: 18 }],
 graph: { name: "g", node: [{ opType: "Add", input: ["a","b"], output: ["c"] }],
  input: ["a","b"].map(n => ({ name: n, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 4 }] } } } })),
  output: [{ name: "c", type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 4 }] } } } }] } });
const bytes = onnx.ModelProto.encode(model).finish();
const t0 = Date.now();
const s = await ort.InferenceSession.create(bytes, { executionProviders: ["webgpu"], logSeverityLevel: 2 });
console.log("created", Date.now() - t0, "ms");
const a = new ort.Tensor("float32", Float32Array.of(1,2,3,4), [4]);
const r = await s.run({ a, b: a });
console.log(r.c.data);
