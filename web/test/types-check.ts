// Compiled (never run) by `tsc -p test/tsconfig.json`: checks that
// dist/index.d.ts describes the onnxruntime-web-style calling code.
import * as glint from 'glint';
import { InferenceSession, Tensor, env } from 'glint';

export async function example(img: HTMLImageElement, bytes: Uint8Array): Promise<number> {
  env.wasm.wasmPaths = '/dist/';
  const session: InferenceSession = await InferenceSession.create('/models/squeezenet1.1-fp16.onnx', {
    executionProviders: ['webgl', 'wasm'],
    onProgress: ({ loaded, total }) => console.log(loaded, total),
  });
  env.wasm.numThreads = 2;
  const s2 = await glint.InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm' }] });
  const s3 = await glint.InferenceSession.create(bytes, { executionProviders: ['auto'] });
  const why: string = s3.executionProviderReason;
  const threads: number = s3.numThreads;
  await s3.release();
  const input = await Tensor.fromImage(img, {
    resizedWidth: 224, resizedHeight: 224, shortSide: 256, tensorFormat: 'BGR', mean: [104, 117, 123], dataType: 'float16',
  });
  const out = await session.run({ [session.inputNames[0]]: input });
  const y = out[session.outputNames[0]];
  const f32 = new Tensor('float32', new Float32Array(784), [1, 1, 28, 28]);
  const data: Float32Array = f32.data;
  const i64 = new Tensor('int64', new BigInt64Array(2), [2]);
  const big: BigInt64Array = i64.data;
  const out2 = await s2.run({ Input3: f32 }, ['Plus214_Output_0']);
  const meta = session.inputMetadata[0];
  console.log(meta.name, meta.type, meta.shape, session.timings.compileMs, session.executionProvider, big.length);
  f32.dispose();
  await session.release();
  await s2.release();
  return y.size + data.length + out2['Plus214_Output_0'].dims[1] + why.length + threads;
}
