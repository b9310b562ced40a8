// Runs an ONNX model on ONNX Runtime (CPU) on a raw little-endian float32 input, whatever its input is
// named; writes the first output as raw float32 and prints its shape as JSON.
// Usage: node ort_run.js MODEL INPUT.f32 SHAPE(e.g. 2,3,224,224) OUTPUT.f32 [THREADS]
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');
const fs = require('fs');
(async () => {
  const [file, inp, shapeArg, outPath, threads] = process.argv.slice(2);
  const shape = shapeArg.split(',').map(Number);
  const buf = fs.readFileSync(inp);
  const x = new ort.Tensor('float32', new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4), shape);
  const s = await ort.InferenceSession.create(file, { intraOpNumThreads: +(threads || 1) });
  const out = await s.run({ [s.inputNames[0]]: x });
  const y = out[s.outputNames[0]];
  fs.writeFileSync(outPath, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  console.log(JSON.stringify({ shape: y.dims }));
})().catch((e) => { console.error(String(e)); process.exit(1); });
