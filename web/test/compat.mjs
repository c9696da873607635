// The API-compatibility script: the same calling code, handed either glint or
// onnxruntime-web as `ort`, runs MNIST and SqueezeNet and returns their
// outputs, so that the browser test can compare the two libraries.
//
//   const outputs = await runCompat(ort, inputs, { executionProviders: ['wasm'] });
//
// `inputs` are prepared once, outside (so that both libraries see the same
// bytes): {mnist: Float32Array(784), squeezenet: Uint16Array (float16 halves)}.
export async function runCompat(ort, inputs, options) {
  const results = {};

  // MNIST: float32 [1,1,28,28] -> logits [1,10].
  {
    const session = await ort.InferenceSession.create('/models/mnist/model.onnx', options);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', inputs.mnist, [1, 1, 28, 28]) };
    const out = await session.run(feeds);
    const y = out[session.outputNames[0]];
    results.mnist = { type: y.type, dims: Array.from(y.dims), data: Array.from(y.data) };
    await session.release();
  }

  // SqueezeNet 1.1 fp16: float16 [1,3,224,224] -> probabilities [1,1000,1,1].
  {
    const session = await ort.InferenceSession.create('/models/squeezenet1.1-fp16.onnx', options);
    const feeds = { data_0: new ort.Tensor('float16', inputs.squeezenet, [1, 3, 224, 224]) };
    const out = await session.run(feeds, ['softmaxout_1']);
    const y = out.softmaxout_1;
    // float16 data is IEEE half bits (Uint16Array) or, in onnxruntime-web where
    // the browser has it, a Float16Array.
    results.squeezenet = { type: y.type, dims: Array.from(y.dims), data: Array.from(y.data), array: y.data.constructor.name };
    await session.release();
  }
  return results;
}
