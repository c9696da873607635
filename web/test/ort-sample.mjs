// An onnxruntime-web sample, unchanged but for the import: with
// `import * as ort from 'onnxruntime-web';` it runs on onnxruntime-web. It
// fetches the model's bytes itself, names WebGPU first (glint skips it with a
// warning, as onnxruntime-web skips a backend a browser lacks), uses
// onnxruntime-web's SessionOptions and RunOptions, Tensor.fromImage with
// onnxruntime-web's options, and float16 through Float16Array.
import * as ort from '../dist/index.mjs';

export async function classify(modelUrl, imageUrl) {
  const response = await fetch(modelUrl);
  const modelBytes = new Uint8Array(await response.arrayBuffer());
  const session = await ort.InferenceSession.create(modelBytes, {
    executionProviders: ['webgpu', 'webgl', 'wasm'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 2,
    enableCpuMemArena: true,
    executionMode: 'sequential',
  });

  // The photo drawn at 224x224 on a canvas, then fromImage on its ImageData:
  // BGR, (pixel + bias) / mean = SqueezeNet's mean subtraction on 0..255 pixels.
  const img = new Image();
  img.crossOrigin = 'anonymous';
  img.src = imageUrl;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = 224;
  canvas.height = 224;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0, 224, 224);
  const image = await ort.Tensor.fromImage(context.getImageData(0, 0, 224, 224), {
    tensorFormat: 'BGR', norm: { mean: 1, bias: [-104, -117, -123] },
  });
  const inputMeta = session.inputMetadata[0];
  const input = inputMeta.type === 'float16'
    ? new ort.Tensor('float16', Float16Array.from(image.data), image.dims)
    : image;

  const feeds = { [session.inputNames[0]]: input };
  const results = await session.run(feeds, { tag: 'sample', logSeverityLevel: 2 });
  const again = await session.run(feeds, [session.outputNames[0]], { tag: 'sample-fetches' });
  const output = results[session.outputNames[0]];
  const probs = Array.from(output.data, Number);
  const same = Array.from(again[session.outputNames[0]].data, Number).every((v, i) => v === probs[i]);
  let best = 0;
  for (let i = 1; i < probs.length; ++i) if (probs[i] > probs[best]) best = i;
  await session.release();
  return { best, prob: probs[best], dims: output.dims, type: output.type, array: output.data.constructor.name, same };
}
