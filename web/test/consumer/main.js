// A consumer app, written the way a web developer would use the package:
// nothing but `import ... from 'glint-onnx'`, no wasmPaths, no files copied
// by hand (esbuild aside: see the README). It classifies a photo with
// SqueezeNet and writes the top-1 label into the page, where
// test/consumer.test.mjs reads it. Query: ?ep=wasm|webgl&models=URL-prefix.
import * as glint from 'glint-onnx';

const query = new URLSearchParams(location.search);
const ep = query.get('ep') ?? 'wasm';
const models = query.get('models') ?? '/models/';

async function classify() {
  const t0 = performance.now();
  const session = await glint.InferenceSession.create(`${models}squeezenet1.1-fp16.onnx`, { executionProviders: [ep] });
  const createMs = performance.now() - t0;
  const input = await glint.Tensor.fromImage(`${models}images/chelsea.png`, {
    resizedWidth: 224, resizedHeight: 224, shortSide: 256,
    tensorFormat: 'BGR', mean: [104, 117, 123], dataType: 'float16',
  });
  const out = await session.run({ [session.inputNames[0]]: input });
  const probs = glint.float16ToFloat32(out[session.outputNames[0]].data);
  const labels = (await (await fetch(`${models}imagenet-labels.txt`)).text())
    .split('\n').map((s) => s.trim()).filter(Boolean).map((s) => s.replace(/^\d+,/, ''));
  let best = 0;
  for (let i = 1; i < probs.length; ++i) if (probs[i] > probs[best]) best = i;
  const result = {
    top1: labels[best], prob: probs[best], provider: session.executionProvider, threads: session.numThreads,
    createMs, isolated: self.crossOriginIsolated === true,
  };
  await session.release();
  return result;
}

classify().then((r) => {
  document.getElementById('result').textContent = `${r.top1} (${(100 * r.prob).toFixed(1)}%) on ${r.provider}, ${r.threads} thread(s)`;
  document.body.dataset.result = JSON.stringify(r);
  document.body.dataset.state = 'done';
}, (e) => {
  document.getElementById('result').textContent = `error: ${e.message}`;
  document.body.dataset.error = e.message;
  document.body.dataset.state = 'error';
});
