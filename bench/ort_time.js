// Times an ONNX model on ONNX Runtime (CPU, all graph optimisations): median of RUNS runs after 10
// warm-ups, whatever the model's input is named (hwnas's exports call it "image").
// Usage: node ort_time.js FILE BATCH [THREADS=2] [SHAPE=BATCH,3,224,224] [RUNS=50]
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');
(async () => {
  const [file, batch, threads] = [process.argv[2], +process.argv[3], +(process.argv[4] || 2)];
  const shape = process.argv[5] ? process.argv[5].split(',').map(Number) : [batch, 3, 224, 224];
  const runs = +(process.argv[6] || 50);
  const s = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const n = shape.reduce((a, b) => a * b, 1);
  const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', Float32Array.from({ length: n }, () => Math.random()), shape) };
  for (let i = 0; i < 10; i++) await s.run(feeds);
  const t = [];
  for (let i = 0; i < runs; i++) { const t0 = process.hrtime.bigint(); await s.run(feeds); t.push(Number(process.hrtime.bigint() - t0) / 1e6); }
  t.sort((a, b) => a - b);
  console.log(`${file} batch=${batch} threads=${threads} ort_median_ms=${t[t.length >> 1].toFixed(3)} min_ms=${t[0].toFixed(3)}`);
})();
