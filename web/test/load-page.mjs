// The load test's in-page half (driven by test/load.test.mjs): SqueezeNet on
// the webgl provider run `runs` times on chelsea.png, every output compared
// bit for bit with the first; beside it, every `sideEvery` runs, an MNIST
// session is created, run (checked against output_0.pb) and released. Every
// `checkpointEvery` runs (after that turn's MNIST session is gone, so every
// checkpoint is taken at the same point of the cycle) it records the GPU
// memory (session.gpuMemory: the GL executor's textures and bytes, shared by
// every session of the page), the JS heap after a full GC
// (performance.memory, Chromium with --js-flags=--expose-gc) and the size of
// the wasm heap.
import * as glint from '../dist/index.mjs';
import { SQUEEZENET_IMAGE_OPTIONS, fetchBytes, floatsOf, maxAbsDiff, parseTensorProto } from './util.mjs';

const M = '/models/';

function check(cond, message) {
  if (!cond) throw new Error(message);
}

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

// Memory after a full collection (twice: finalizers of the first may free more).
async function snapshot(session, run, startedAt) {
  for (let i = 0; i < 2; ++i) {
    globalThis.gc();
    await nextTask();
  }
  const gpu = session.gpuMemory;
  return {
    run,
    seconds: (performance.now() - startedAt) / 1000,
    liveTextures: gpu.liveTextures,
    pooledTextures: gpu.pooledTextures,
    textureBytes: gpu.textureBytes,
    programs: gpu.programs,
    jsHeapBytes: performance.memory.usedJSHeapSize,
    // The engine's heap (it grows, never shrinks: growth after the warm-up is a leak).
    wasmHeapBytes: session._m.HEAPU8.byteLength,
  };
}

export async function runLoad({ runs, sideEvery = 50, checkpointEvery = 100 }) {
  check(typeof globalThis.gc === 'function', 'gc() is not exposed: launch Chromium with --js-flags=--expose-gc');
  check(performance.memory, 'performance.memory is missing (Chromium only)');
  const log = (m) => console.log(`load: ${m}`);
  const feeds = { data_0: await glint.Tensor.fromImage(`${M}images/chelsea.png`, SQUEEZENET_IMAGE_OPTIONS) };
  const mnistBytes = await fetchBytes(`${M}mnist/model.onnx`);
  const x = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/input_0.pb`));
  const want = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/output_0.pb`)).data;
  const digit = { Input3: new glint.Tensor('float32', x.data, x.dims) };

  const s = await glint.InferenceSession.create(`${M}squeezenet1.1-fp16.onnx`, { executionProviders: ['webgl'] });
  check(s.executionProvider === 'webgl', `SqueezeNet runs on ${s.executionProvider}, expected webgl`);
  const run = async () => floatsOf((await s.run(feeds)).softmaxout_1);
  const first = await run();
  const top1 = first.indexOf(Math.max(...first));
  check(top1 === 285, `SqueezeNet's top-1 on chelsea.png is class ${top1}, expected 285 (Egyptian cat)`);
  const t0 = performance.now();
  const checkpoints = [await snapshot(s, 0, t0)];
  let sideSessions = 0;
  for (let i = 1; i <= runs; ++i) {
    const out = await run();
    if (!out.every((v, k) => Object.is(v, first[k]))) throw new Error(`run ${i}: the outputs differ from the first run's: max |diff| ${maxAbsDiff(out, first)}`);
    if (i % sideEvery === 0) {
      const side = await glint.InferenceSession.create(mnistBytes, { executionProviders: ['webgl'] });
      const y = (await side.run(digit)).Plus214_Output_0.data;
      check(maxAbsDiff(y, want) <= 1e-4, `run ${i}: the MNIST session beside it: max |diff| ${maxAbsDiff(y, want)} against output_0.pb`);
      await side.release();
      sideSessions += 1;
    }
    if (i % checkpointEvery === 0 || i === runs) {
      const c = await snapshot(s, i, t0);
      checkpoints.push(c);
      log(`${i}/${runs} runs, ${sideSessions} MNIST sessions beside, ${c.seconds.toFixed(0)} s: ${c.liveTextures} live + ` +
        `${c.pooledTextures} pooled textures, ${(c.textureBytes / 2 ** 20).toFixed(2)} MiB; JS heap ` +
        `${(c.jsHeapBytes / 2 ** 20).toFixed(2)} MiB; wasm heap ${(c.wasmHeapBytes / 2 ** 20).toFixed(0)} MiB`);
    }
  }
  await s.release();
  return { checkpoints, sideSessions };
}
