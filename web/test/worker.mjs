// Runs MNIST through glint inside a module Web Worker (OffscreenCanvas for
// WebGL2): posts back {provider, dims, data} or {error}.
import * as glint from '../dist/index.mjs';

self.onmessage = async (e) => {
  try {
    const { provider, input } = e.data;
    const s = await glint.InferenceSession.create('/models/mnist/model.onnx', { executionProviders: [provider] });
    const out = await s.run({ Input3: new glint.Tensor('float32', input, [1, 1, 28, 28]) });
    const y = out[s.outputNames[0]];
    self.postMessage({ provider: s.executionProvider, dims: y.dims, data: Array.from(y.data) });
    await s.release();
  } catch (err) {
    self.postMessage({ error: err && err.message ? err.message : String(err) });
  }
};
