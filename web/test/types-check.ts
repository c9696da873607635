// Compiled (never run) by `tsc -p test/tsconfig.json`: checks that
// dist/index.d.ts describes the onnxruntime-web-style calling code.
import * as glint from 'glint-onnx';
import { InferenceSession, Tensor, env } from 'glint-onnx';

export async function example(img: HTMLImageElement, bytes: Uint8Array): Promise<number> {
  env.wasm.wasmPaths = '/dist/';
  const session: InferenceSession = await InferenceSession.create('/models/squeezenet1.1-fp16.onnx', {
    executionProviders: ['webgl', 'wasm'],
    onProgress: ({ loaded, total }) => console.log(loaded, total),
  });
  env.wasm.numThreads = 2;
  const s2 = await glint.InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm' }] });
  const s3 = await glint.InferenceSession.create(bytes, { executionProviders: ['auto'] });
  const external = await glint.InferenceSession.create('/m/model.onnx', {
    externalData: ['model.onnx_data', { path: 'w.bin', data: bytes }, { path: './x.bin', data: new URL('https://e.org/x.bin') }],
  });
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
  // onnxruntime-web code: its provider names and options, RunOptions, image helpers, float16.
  const ortStyle = await InferenceSession.create(bytes.buffer as ArrayBuffer, {
    executionProviders: ['webgpu', 'webgl', { name: 'wasm' }, 'webnn'],
    graphOptimizationLevel: 'all', logSeverityLevel: 3, enableProfiling: false, intraOpNumThreads: 1,
    freeDimensionOverrides: { batch: 1 }, preferredOutputLocation: 'cpu', executionMode: 'sequential',
  });
  const r = await ortStyle.run({ x: f32 }, { tag: 'a', logSeverityLevel: 2, terminate: false });
  const r2 = await ortStyle.run({ x: f32 }, ['y'], { tag: 'b' });
  // A state kept in the engine between runs.
  const kept = await InferenceSession.create(bytes, { preferredOutputLocation: { y: 'cpu-pinned' } });
  const step = (await kept.run({ x: f32 })).y;
  const where: 'cpu' | 'cpu-pinned' | 'texture' = step.location;
  step.dispose();
  // One kept where a webgl run left it, read back (and let go) with getData(true).
  const onGpu = await InferenceSession.create(bytes, { executionProviders: ['webgl'], preferredOutputLocation: { y: 'texture' } });
  const values: Float32Array = await ((await onGpu.run({ x: f32 })).y as Tensor<'float32'>).getData(true);
  const pixels: ImageData = input.toImageData({ format: 'BGR', norm: { mean: 1, bias: [-104, -117, -123] } });
  const url: string = input.toDataURL();
  const floats: Float32Array = glint.float16ToFloat32(input.data as Uint16Array);
  const halves: Uint16Array = glint.float32ToFloat16([1, 2]);
  const h = new Tensor('float16', halves, [2]);
  const words = new Tensor('string', ['monday', 'tuesday'], [2]);
  const texts: string[] = words.data;
  env.wasm.initTimeout = 5000;
  env.wasm.wasmBinary = new Uint8Array(8);
  // A small device's limits, the wait for a lost context, the GPU memory figures.
  env.webgl.limits = { max_texture_size: 4096, max_draw_buffers: 4, float_render: 0 };
  env.webgl.contextRestoreTimeout = 2000;
  const gpu: InferenceSession.GpuMemory | null = session.gpuMemory;
  if (gpu) console.log(gpu.liveTextures, gpu.pooledTextures, gpu.textureBytes, gpu.programs, gpu.texturesCreated);
  console.log(r, r2, where, pixels.width, url.length, floats.length, h.size, texts.length);
  return y.size + data.length + out2['Plus214_Output_0'].dims[1] + why.length + threads;
}
