// The browser tests, run inside the page (test/index.html) by
// test/browser.test.mjs. Each test is an async function that throws on
// failure and returns {detail, metrics}.
import * as glint from '../dist/index.mjs';
import { runCompat } from './compat.mjs';
import { deviceTests } from './device-tests.mjs';
import { classify as ortSample } from './ort-sample.mjs';
import {
  SQUEEZENET_IMAGE_OPTIONS, fetchBytes, floatsOf, halfToFloat, loadLabels, maxAbsDiff, median,
  parseTensorProto, topK,
} from './util.mjs';

const M = '/models/';

function check(cond, message) {
  if (!cond) throw new Error(message);
}

async function timed(fn) {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

// Creates a session, runs it once (first run) and `runs` more times (median).
async function benchmark(url, provider, feeds, runs) {
  const progress = [];
  const [session, createMs] = await timed(() => glint.InferenceSession.create(url, {
    executionProviders: [provider], onProgress: (p) => progress.push(p) }));
  check(session.executionProvider === provider, `asked for ${provider}, got ${session.executionProvider}`);
  // onProgress: bytes received, rising to the Content-Length.
  const last = progress[progress.length - 1];
  check(progress.length > 0 && last.loaded > 0 && last.loaded === last.total,
    `onProgress: ${progress.length} calls, last ${JSON.stringify(last)}`);
  check(progress.every((p, i) => i === 0 || p.loaded >= progress[i - 1].loaded), 'onProgress: loaded went down');
  const [out, firstMs] = await timed(() => session.run(feeds));
  // GPU memory settles over the first five runs (kGpuMemorySettleRuns in
  // engine/runtime/runner.h: weights only cached passes read are let go, and
  // the texture pool trades textures in that room); then nothing may change.
  for (let i = 0; i < 4; ++i) await session.run(feeds);
  const memBefore = JSON.stringify(session.gpuMemory);
  const times = [];
  for (let i = 0; i < runs; ++i) times.push((await timed(() => session.run(feeds)))[1]);
  // Repeated runs keep the GPU textures (count and bytes) flat.
  const memAfter = JSON.stringify(session.gpuMemory);
  check(memBefore === memAfter, `GPU memory grew over ${runs} runs: ${memBefore} -> ${memAfter}`);
  const metrics = {
    createMs: createMs, compileMs: session.timings.compileMs, firstRunMs: firstMs,
    medianRunMs: median(times), runs,
  };
  return { session, out, metrics };
}

async function mnist(provider) {
  const x = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/input_0.pb`));
  const want = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/output_0.pb`));
  const feeds = { Input3: new glint.Tensor('float32', x.data, x.dims) };
  const { session, out, metrics } = await benchmark(`${M}mnist/model.onnx`, provider, feeds, 20);
  const y = out[session.outputNames[0]];
  check(y.type === 'float32', `output type ${y.type}`);
  check(JSON.stringify(y.dims) === JSON.stringify(want.dims), `output dims ${y.dims} vs ${want.dims}`);
  const diff = maxAbsDiff(y.data, want.data);
  check(diff <= 1e-4, `max |diff| ${diff} > 1e-4 against output_0.pb`);
  await session.release();
  return { detail: `max |diff| ${diff.toExponential(2)}`, metrics };
}

async function squeezenetReference() {
  const cfg = await (await fetch('/models/models.json')).json().catch(() => null);
  if (cfg) {
    const m = cfg.models.find((x) => x.name === 'squeezenet1.1-fp16');
    if (m) return m.reference.results;
  }
  return [
    { image: 'images/chelsea.png', top: [['Egyptian cat', 41.8], ['tiger cat', 32.1], ['tabby, tabby cat', 24.9]] },
    { image: 'images/coffee.png', top: [['espresso', 94.6], ['consomme', 4.4]] },
  ];
}

async function squeezenet(provider) {
  const labels = await loadLabels(`${M}imagenet-labels.txt`);
  const refs = await squeezenetReference();
  const details = [];
  let metrics = null;
  let session = null;
  for (const ref of refs) {
    const x = await glint.Tensor.fromImage(`${M}${ref.image}`, SQUEEZENET_IMAGE_OPTIONS);
    check(x.type === 'float16' && JSON.stringify(x.dims) === '[1,3,224,224]', `fromImage gave ${x.type} [${x.dims}]`);
    const feeds = { data_0: x };
    let out;
    if (!session) {
      const b = await benchmark(`${M}squeezenet1.1-fp16.onnx`, provider, feeds, provider === 'webgl' ? 3 : 10);
      session = b.session; out = b.out; metrics = b.metrics;
    } else {
      // run() must not block the page while the GPU works: a 10 ms timer keeps
      // firing during the run (readback is polled, not waited for).
      let last = performance.now(), maxGap = 0, ticks = 0;
      const timer = setInterval(() => { const t = performance.now(); maxGap = Math.max(maxGap, t - last); last = t; ticks++; }, 10);
      const t0 = performance.now();
      out = await session.run(feeds);
      const runMs = performance.now() - t0;
      clearInterval(timer);
      if (provider === 'webgl' && runMs > 500) {
        check(ticks >= 5, `the page was blocked during a ${runMs.toFixed(0)} ms run (${ticks} timer ticks)`);
        details.push(`page responsive during a ${runMs.toFixed(0)} ms run (${ticks} timer ticks, longest gap ${maxGap.toFixed(0)} ms)`);
      }
    }
    const y = out.softmaxout_1;
    check(y.type === 'float16', `output type ${y.type}`);
    const top = topK(floatsOf(y), ref.top.length, labels);
    ref.top.forEach(([label, pct], i) => {
      check(top[i].label === label, `${ref.image}: #${i + 1} is '${top[i].label}' (${(100 * top[i].prob).toFixed(1)}%), expected '${label}'`);
      const got = 100 * top[i].prob;
      check(Math.abs(got - pct) <= 3, `${ref.image}: '${label}' ${got.toFixed(1)}% vs reference ${pct}% (more than 3 points)`);
    });
    details.push(`${ref.image.replace('images/', '')}: ${top.map((t) => `${t.label.split(',')[0]} ${(100 * t.prob).toFixed(1)}`).join(', ')}`);
  }
  await session.release();
  return { detail: details.join('; '), metrics };
}

// Expects `fn` to reject with an Error whose message matches `re`.
async function expectError(what, fn, re) {
  let err = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  check(err !== null, `${what}: no error`);
  check(err instanceof Error, `${what}: threw a ${typeof err} (${String(err)}), not an Error`);
  check(re.test(err.message), `${what}: message '${err.message}' does not match ${re}`);
  return `${what}: "${err.message}"`;
}

async function badInput(provider) {
  const opts = { executionProviders: [provider] };
  const mnistBytes = await fetchBytes(`${M}mnist/model.onnx`);
  const session = await glint.InferenceSession.create(mnistBytes, opts);
  const good = new glint.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]);
  const lines = [];
  lines.push(await expectError('wrong input name', () => session.run({ image: good }),
    /unknown input 'image'; the model's inputs are 'Input3'/));
  lines.push(await expectError('wrong dtype', () => session.run({ Input3: new glint.Tensor('int32', new Int32Array(784), [1, 1, 28, 28]) }),
    /input 'Input3': expected dtype float32, got int32/));
  lines.push(await expectError('wrong shape', () => session.run({ Input3: new glint.Tensor('float32', new Float32Array(3 * 28 * 28), [1, 3, 28, 28]) }),
    /input 'Input3'.*(shape|dim)/));
  lines.push(await expectError('missing input', () => session.run({}), /missing input 'Input3'/));
  lines.push(await expectError('not a Tensor', () => session.run({ Input3: [1, 2, 3] }), /feed 'Input3' is not a Tensor/));
  lines.push(await expectError('unknown output', () => session.run({ Input3: good }, ['nope']), /unknown output 'nope'/));
  lines.push(await expectError('data/dims mismatch', () => new glint.Tensor('float32', new Float32Array(10), [1, 1, 28, 28]),
    /10 elements of float32 data do not match dims \[1,1,28,28\]/));
  lines.push(await expectError('wrong array type', () => new glint.Tensor('int64', new Int32Array(4), [4]),
    /'int64' tensor needs a BigInt64Array/));
  // The session still works after all that.
  const ok = await session.run({ Input3: good });
  check(ok.Plus214_Output_0.dims.join() === '1,10', 'session unusable after bad input');
  await session.release();
  lines.push(await expectError('run after release', () => session.run({ Input3: good }), /session was released/));
  lines.push(await expectError('404 URL', () => glint.InferenceSession.create(`${M}no-such-model.onnx`, opts),
    /failed to fetch the model from .*no-such-model\.onnx: HTTP 404/));
  lines.push(await expectError('HTML page as model', () => glint.InferenceSession.create('/test/index.html', opts),
    /not an ONNX model/));
  const sq = await fetchBytes(`${M}squeezenet1.1-fp16.onnx`);
  lines.push(await expectError('truncated model', () => glint.InferenceSession.create(sq.slice(0, 1000000), opts),
    /not an ONNX model: .*truncated/));
  lines.push(await expectError('empty model', () => glint.InferenceSession.create(new Uint8Array(0), opts), /empty/));
  lines.push(await expectError('only unknown providers', () => glint.InferenceSession.create(mnistBytes, { executionProviders: ['webgpu', { name: 'webnn' }] }),
    /no usable execution provider in \['webgpu', 'webnn'\]/));
  lines.push(await expectError('terminated run', () => glint.InferenceSession.create(mnistBytes, opts)
    .then((s) => s.run({ Input3: good }, { tag: 'job-7', terminate: true })), /tag 'job-7'.*terminated/));
  return { detail: lines.join('\n    ') };
}

// fromImage options: layouts, formats, ImageData, errors.
async function imageOptions() {
  const data = new Uint8ClampedArray(2 * 2 * 4);
  for (let i = 0; i < 4; ++i) data.set([10 * i, 100 + i, 200 + i, 255], 4 * i);
  const img = new ImageData(data, 2, 2);
  const nchw = await glint.Tensor.fromImage(img, { tensorFormat: 'RGB', mean: 0, scale: 1 });
  check(nchw.dims.join() === '1,3,2,2', `dims ${nchw.dims}`);
  check(Array.from(nchw.data).join() === '0,10,20,30,100,101,102,103,200,201,202,203', `NCHW data ${Array.from(nchw.data)}`);
  const nhwc = await glint.Tensor.fromImage(img, { tensorFormat: 'BGR', tensorLayout: 'NHWC', mean: 0, scale: 1 });
  check(nhwc.dims.join() === '1,2,2,3' && Array.from(nhwc.data.slice(0, 6)).join() === '200,100,0,201,101,10', `NHWC ${Array.from(nhwc.data)}`);
  const ortNorm = await glint.Tensor.fromImage(img, { norm: { mean: 255, bias: 0 } });
  check(Math.abs(ortNorm.data[4] - 100 / 255) < 1e-6, 'norm');
  // onnxruntime-web indexes norm by the image's R, G, B channel, whatever tensorFormat is.
  const bgrNorm = await glint.Tensor.fromImage(img, { tensorFormat: 'BGR', norm: { mean: 1, bias: [-1, -2, -3] } });
  check(Array.from(bgrNorm.data.slice(0, 2)).join() === '197,198' && bgrNorm.data[8] === -1, `norm with BGR: ${Array.from(bgrNorm.data)}`);
  const gray = await glint.Tensor.fromImage(img, { tensorFormat: 'GRAY', invert: true, mean: 0, scale: 1, dataType: 'uint8' });
  check(gray.type === 'uint8' && gray.dims.join() === '1,1,2,2', `gray ${gray.type} ${gray.dims}`);
  const half = await glint.Tensor.fromImage(img, { dataType: 'float16', mean: 0, scale: 1 });
  check(half.data instanceof Uint16Array && halfToFloat(half.data[1]) === 10, 'float16');
  await expectError('bad format', () => glint.Tensor.fromImage(img, { tensorFormat: 'XYZ' }), /unknown tensorFormat 'XYZ'/);
  await expectError('bad image URL', () => glint.Tensor.fromImage('/models/none.png'), /HTTP 404/);
  // Round trip of every dtype through an Identity-free path: tensor construction.
  for (const [type, arr] of [['int32', new Int32Array(2)], ['int64', new BigInt64Array(2)], ['uint8', new Uint8Array(2)],
    ['int8', new Int8Array(2)], ['bool', new Uint8Array(2)], ['float16', new Uint16Array(2)]]) {
    const t = new glint.Tensor(type, arr, [2]);
    check(t.size === 2 && t.type === type, type);
    t.dispose();
    check(t.size === 0, `${type} dispose`);
  }
  return { detail: 'layouts, formats, norm, float16, uint8, errors' };
}

// onnxruntime-web (wasm EP, served from /ort/) and glint run the same code.
async function compat(glintProvider) {
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const x = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/input_0.pb`));
  const img = await glint.Tensor.fromImage(`${M}images/chelsea.png`, SQUEEZENET_IMAGE_OPTIONS);
  const inputs = { mnist: x.data, squeezenet: img.data };
  const a = await runCompat(ort, inputs, { executionProviders: ['wasm'] });
  const b = await runCompat(glint, inputs, { executionProviders: [glintProvider] });
  const floats = (r) => (r.array === 'Uint16Array' ? r.data.map(halfToFloat) : r.data);
  const dm = maxAbsDiff(a.mnist.data, b.mnist.data);
  const fa = floats(a.squeezenet), fb = floats(b.squeezenet);
  const ds = maxAbsDiff(fa, fb);
  check(a.mnist.dims.join() === b.mnist.dims.join(), `mnist dims ${a.mnist.dims} vs ${b.mnist.dims}`);
  check(a.mnist.type === b.mnist.type, `mnist type ${a.mnist.type} vs ${b.mnist.type}`);
  check(a.squeezenet.dims.join() === b.squeezenet.dims.join(), `squeezenet dims ${a.squeezenet.dims} vs ${b.squeezenet.dims}`);
  check(a.squeezenet.type === b.squeezenet.type, `squeezenet type ${a.squeezenet.type} vs ${b.squeezenet.type}`);
  check(dm <= 1e-4, `mnist: max |glint - onnxruntime-web| = ${dm} > 1e-4`);
  // SqueezeNet's tensors are float16; glint computes float16 graphs in
  // float32 and rounds where the outputs leave, as onnxruntime-web does.
  const top = (v) => topK(v, 5).map((t) => t.index).join();
  check(top(fa) === top(fb), `squeezenet: top-5 classes differ: onnxruntime-web ${top(fa)}, glint ${top(fb)}`);
  check(ds <= 1e-4, `squeezenet: max |glint - onnxruntime-web| = ${ds} > 1e-4`);
  return { detail: `max |glint - onnxruntime-web ${ort.env.versions?.web ?? ''}|: mnist ${dm.toExponential(2)}, squeezenet (float16) ${ds.toExponential(2)}, same top-5` };
}

// Without WebGL2 (getContext patched to refuse it in this page), ['webgl',
// 'wasm'] falls back to wasm and ['webgl'] alone fails with a clear Error.
async function noWebgl2() {
  const orig = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
    return type === 'webgl2' ? null : orig.call(this, type, ...rest);
  };
  const url = `${M}mnist/model.onnx`;
  const s = await glint.InferenceSession.create(url, { executionProviders: ['webgl', 'wasm'] });
  check(s.executionProvider === 'wasm', `fell back to ${s.executionProvider}, expected wasm`);
  const x = new glint.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]);
  const out = await s.run({ Input3: x });
  check(out.Plus214_Output_0.dims.join() === '1,10', 'run on the fallback');
  await s.release();
  const msg = await expectError('webgl only', () => glint.InferenceSession.create(url, { executionProviders: ['webgl'] }), /WebGL2/);
  return { detail: `['webgl','wasm'] ran on wasm; ${msg}` };
}

// glint in a module Web Worker: WebGL2 on an OffscreenCanvas, and wasm.
async function worker() {
  const x = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/input_0.pb`));
  const want = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/output_0.pb`));
  const details = [];
  for (const provider of ['webgl', 'wasm']) {
    const w = new Worker('/test/worker.mjs', { type: 'module' });
    const r = await new Promise((resolve, reject) => {
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => reject(new Error(`worker: ${e.message}`));
      w.postMessage({ provider, input: x.data });
    });
    w.terminate();
    check(!r.error, `worker (${provider}): ${r.error}`);
    check(r.provider === provider, `worker ran on ${r.provider}, expected ${provider}`);
    const diff = maxAbsDiff(r.data, want.data);
    check(diff <= 1e-4, `worker (${provider}): max |diff| ${diff}`);
    details.push(`${provider} max |diff| ${diff.toExponential(2)}`);
  }
  return { detail: `MNIST in a Web Worker: ${details.join(', ')}` };
}

// executionProviders default ['auto']: on this machine (headless Chromium,
// WebGL on SwiftShader) glint picks wasm and says why; explicit ['webgl']
// still runs webgl.
async function autoProvider() {
  const url = `${M}mnist/model.onnx`;
  const x = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/input_0.pb`));
  const want = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/output_0.pb`));
  const feeds = { Input3: new glint.Tensor('float32', x.data, x.dims) };
  const s = await glint.InferenceSession.create(url);
  check(s.executionProvider === 'wasm', `auto picked ${s.executionProvider}, expected wasm (${s.executionProviderReason})`);
  check(/SwiftShader/.test(s.executionProviderReason ?? ''),
    `auto's reason does not name SwiftShader: '${s.executionProviderReason}'`);
  const y = (await s.run(feeds))[s.outputNames[0]];
  check(maxAbsDiff(y.data, want.data) <= 1e-4, 'auto (wasm) output');
  await s.release();
  const g = await glint.InferenceSession.create(url, { executionProviders: ['webgl'] });
  check(g.executionProvider === 'webgl', `explicit ['webgl'] ran on ${g.executionProvider}`);
  check(/asked for 'webgl'/.test(g.executionProviderReason), `explicit reason: '${g.executionProviderReason}'`);
  const yg = (await g.run(feeds))[g.outputNames[0]];
  check(maxAbsDiff(yg.data, want.data) <= 1e-4, 'explicit webgl output');
  await g.release();
  return { detail: `auto: ${s.executionProviderReason}; explicit ['webgl'] ran on webgl` };
}

// numThreads = 2 on this cross-origin-isolated page loads glint-threaded.wasm
// and gives the outputs of 1 thread (glint.wasm), bit for bit.
async function wasmThreads() {
  check(self.crossOriginIsolated === true, 'the test page is not cross-origin isolated (COOP/COEP headers)');
  const url = `${M}squeezenet1.1-fp16.onnx`;
  const labels = await loadLabels(`${M}imagenet-labels.txt`);
  const img = await glint.Tensor.fromImage(`${M}images/chelsea.png`, SQUEEZENET_IMAGE_OPTIONS);
  const outs = {};
  const ms = {};
  for (const n of [1, 2]) {
    glint.env.wasm.numThreads = n;
    const s = await glint.InferenceSession.create(url, { executionProviders: ['wasm'] });
    check(s.numThreads === n, `numThreads ${n}: the session has ${s.numThreads} threads`);
    const feeds = { [s.inputNames[0]]: img };
    outs[n] = floatsOf((await s.run(feeds))[s.outputNames[0]]);
    const times = [];
    for (let i = 0; i < 3; ++i) times.push((await timed(() => s.run(feeds)))[1]);
    ms[n] = median(times);
    await s.release();
  }
  glint.env.wasm.numThreads = undefined;
  const loaded = performance.getEntriesByType('resource').map((e) => e.name);
  check(loaded.some((u) => u.endsWith('/glint-threaded.wasm')), 'glint-threaded.wasm was not loaded');
  check(loaded.some((u) => u.endsWith('/glint.wasm')), 'glint.wasm was not loaded');
  const diff = maxAbsDiff(outs[1], outs[2]);
  check(diff === 0, `1 thread vs 2 threads: max |diff| ${diff}`);
  const top = topK(outs[2], 1, labels)[0].label;
  check(top === 'Egyptian cat', `top-1 with 2 threads is '${top}'`);
  return { detail: `SqueezeNet wasm: 1 thread ${ms[1].toFixed(1)} ms, 2 threads ${ms[2].toFixed(1)} ms (glint-threaded.wasm), same outputs; top-1 '${top}'` };
}

// Runs fn with console.warn recorded; returns [result, warnings].
async function withWarnings(fn) {
  const warnings = [];
  const orig = console.warn;
  console.warn = (...a) => { warnings.push(a.join(' ')); };
  try {
    return [await fn(), warnings];
  } finally {
    console.warn = orig;
  }
}

// The onnxruntime-web sample (test/ort-sample.mjs), unchanged but for its
// import: webgpu skipped with one warning, ORT's options accepted, the same
// top-1 from both of its runs.
async function ortSampleTest() {
  const labels = await loadLabels(`${M}imagenet-labels.txt`);
  const [r, warnings] = await withWarnings(() => ortSample(`${M}squeezenet1.1-fp16.onnx`, `${M}images/chelsea.png`));
  const label = labels[r.best];
  check(/cat/i.test(label), `top-1 is '${label}' (${(100 * r.prob).toFixed(1)}%), not a cat`);
  check(r.type === 'float16' && r.array === 'Float16Array', `output ${r.type} in a ${r.array}, expected float16 in a Float16Array`);
  check(r.dims.join() === '1,1000,1,1', `output dims ${r.dims}`);
  check(r.same, 'run(feeds, options) and run(feeds, fetches, options) differ');
  const webgpu = warnings.filter((w) => /'webgpu' is not available in glint/.test(w));
  check(webgpu.length <= 1, `webgpu warned ${webgpu.length} times`);
  // A second create() with the same options in the same page does not warn again.
  const [s2, again] = await withWarnings(() => glint.InferenceSession.create(`${M}mnist/model.onnx`,
    { executionProviders: ['webgpu', 'wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 2, enableCpuMemArena: true }));
  await s2.release();
  check(again.length === 0, `warned again on a second create(): ${again.join(' | ')}`);
  // The same file with its import pointed at onnxruntime-web (wasm build): the
  // sample is onnxruntime-web code, and both libraries pick the same class.
  const src = await (await fetch('/test/ort-sample.mjs')).text();
  const importLine = "import * as ort from '../dist/index.mjs';";
  check(src.split(importLine).length === 2, 'ort-sample.mjs: its import line changed');
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  const ortSrc = src.replace(importLine, `import * as ort from '${location.origin}/ort/ort.wasm.min.mjs';`);
  const blobUrl = URL.createObjectURL(new Blob([ortSrc], { type: 'text/javascript' }));
  const onOrt = await (await import(blobUrl)).classify(`${location.origin}${M}squeezenet1.1-fp16.onnx`, `${location.origin}${M}images/chelsea.png`);
  URL.revokeObjectURL(blobUrl);
  check(onOrt.best === r.best, `onnxruntime-web's top-1 is '${labels[onOrt.best]}', glint's '${label}'`);
  check(Math.abs(onOrt.prob - r.prob) <= 0.01, `top-1 probability: glint ${r.prob}, onnxruntime-web ${onOrt.prob}`);
  return { detail: `top-1 '${label}': glint ${(100 * r.prob).toFixed(1)}% (${r.array}), onnxruntime-web ${ort.env.versions?.web ?? ''} ${(100 * onOrt.prob).toFixed(1)}% (${onOrt.array}) (stretched 224x224, fromImage); glint's warnings: ${warnings.join(' | ') || 'none (already warned in this page)'}` };
}

// ORT option handling: unknown providers skipped with one warning; options
// glint lacks warned about once; {name} provider objects.
async function ortOptions() {
  const url = `${M}mnist/model.onnx`;
  const [s, warnings] = await withWarnings(() => glint.InferenceSession.create(url, {
    executionProviders: ['webgpu', { name: 'wasm' }], enableProfiling: true, graphOptimizationLevel: 'disabled',
    preferredOutputLocation: 'gpu-buffer', freeDimensionOverrides: { batch: 1 }, intraOpNumThreads: 1, logId: 'x',
  }));
  check(s.executionProvider === 'wasm', `ran on ${s.executionProvider}`);
  for (const re of [/'webgpu' is not available/, /graphOptimizationLevel 'disabled'/,
    /preferredOutputLocation "gpu-buffer"/, /freeDimensionOverrides: the model has no symbolic dimension 'batch'/]) {
    check(warnings.filter((w) => re.test(w)).length === 1, `expected one warning matching ${re}; got: ${warnings.join(' | ')}`);
  }
  const x = new glint.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]);
  const [, runWarnings] = await withWarnings(async () => {
    await s.run({ Input3: x }, { tag: 't', extra: { memory: { enable_memory_arena_shrinkage: '1' } } });
    await s.run({ Input3: x }, { tag: 't', extra: { memory: { enable_memory_arena_shrinkage: '1' } } });
  });
  check(runWarnings.filter((w) => /RunOptions\.extra/.test(w)).length === 1, `RunOptions.extra: ${runWarnings.join(' | ')}`);
  // enableProfiling is honoured: the two runs' nodes are in the trace.
  const trace = s.endProfiling();
  const nodes = trace.filter((e) => e.cat === 'Node');
  check(nodes.length === 2 * s.placements.length, `${nodes.length} node events for 2 runs of ${s.placements.length} nodes`);
  // logSeverityLevel 3 (error) silences a session's warnings.
  const [q, quiet] = await withWarnings(() => glint.InferenceSession.create(url, { executionProviders: ['webnn', 'wasm'], logSeverityLevel: 3 }));
  check(quiet.length === 0, `logSeverityLevel 3 still warned: ${quiet.join(' | ')}`);
  await q.release();
  await s.release();
  return { detail: warnings.join(' | ') };
}

// Profiling (startProfiling / endProfiling, as onnxruntime-web's): every node
// of SqueezeNet has a time in the Chrome trace, with its op and provider,
// and the run's upload/run/download phases are there too.
async function profileSqueezenet(provider) {
  const s = await glint.InferenceSession.create(`${M}squeezenet1.1-fp16.onnx`, { executionProviders: [provider] });
  const x = await glint.Tensor.fromImage(`${M}images/chelsea.png`, SQUEEZENET_IMAGE_OPTIONS);
  await s.run({ data_0: x });  // not profiled
  s.startProfiling();
  await s.run({ data_0: x });
  const trace = s.endProfiling();
  check(s.profile === trace, 'endProfiling() result is not kept in session.profile');
  const nodes = trace.filter((e) => e.cat === 'Node');
  const names = s.placements.map((p) => p.node);
  check(nodes.length === names.length, `${nodes.length} node events for ${names.length} nodes`);
  for (const n of names) {
    const e = nodes.find((ev) => ev.name === n);
    check(e && e.ph === 'X' && Number.isFinite(e.ts) && e.dur >= 0 && e.args.op_name, `node '${n}' has no timed event`);
  }
  for (const phase of ['load', 'compile', 'upload', 'run', 'download'])
    check(trace.some((e) => e.cat === 'Session' && e.name === phase), `no '${phase}' event`);
  const onGpu = nodes.filter((e) => e.args.provider === 'webgl').length;
  check(provider !== 'webgl' || onGpu === nodes.length, `${onGpu} of ${nodes.length} nodes on webgl`);
  const total = nodes.reduce((a, e) => a + e.dur, 0) / 1000;
  const slowest = [...nodes].sort((a, b) => b.dur - a.dur)[0];
  await s.release();
  return { detail: `${nodes.length} nodes, ${total.toFixed(1)} ms in nodes; slowest ${slowest.name} (${slowest.args.op_name}) ${(slowest.dur / 1000).toFixed(2)} ms` };
}

// toImageData / toDataURL round trip, and float16 conversions.
async function tensorImage() {
  const data = new Uint8ClampedArray(2 * 2 * 4);
  for (let i = 0; i < 4; ++i) data.set([10 * i, 100 + i, 200 + i, 255], 4 * i);
  const img = new ImageData(data, 2, 2);
  const t = await glint.Tensor.fromImage(img);            // RGB / 255, NCHW
  const back = t.toImageData();
  check(back.width === 2 && back.height === 2, `toImageData size ${back.width}x${back.height}`);
  check(Array.from(back.data).join() === Array.from(data).join(), `toImageData ${Array.from(back.data)} vs ${Array.from(data)}`);
  const bgr = await glint.Tensor.fromImage(img, { tensorFormat: 'BGR', tensorLayout: 'NHWC', dataType: 'uint8' });
  const back2 = bgr.toImageData({ format: 'BGR', tensorLayout: 'NHWC' });
  check(Array.from(back2.data).join() === Array.from(data).join(), `uint8 NHWC BGR round trip ${Array.from(back2.data)}`);
  // norm is indexed by the image's R, G, B channel, as in fromImage: the inverse of a BGR fromImage.
  const bgrNorm = await glint.Tensor.fromImage(img, { tensorFormat: 'BGR', norm: { mean: 1, bias: [-1, -2, -3] } });
  const back3 = bgrNorm.toImageData({ format: 'BGR', norm: { mean: 1, bias: [-1, -2, -3] } });
  check(Array.from(back3.data).join() === Array.from(data).join(), `BGR norm round trip ${Array.from(back3.data)}`);
  const url = t.toDataURL();
  check(url.startsWith('data:image/png;base64,'), `toDataURL: ${url.slice(0, 30)}`);
  const decoded = await glint.Tensor.fromImage(url);
  check(Array.from(decoded.data).every((v, i) => Math.abs(v - t.data[i]) < 1e-6), 'toDataURL -> fromImage round trip');
  await expectError('toImageData of a 2-D tensor', () => new glint.Tensor('float32', new Float32Array(4), [2, 2]).toImageData(),
    /Tensor\.toImageData: expected dims \[1, C, H, W\]/);
  const halves = glint.float32ToFloat16([1, -2.5, 65504, 1e-8]);
  check(halves instanceof Uint16Array && Array.from(glint.float16ToFloat32(halves)).join() === '1,-2.5,65504,0', `float16 round trip ${Array.from(glint.float16ToFloat32(halves))}`);
  const f16 = new glint.Tensor('float16', Float16Array.from([0.5, 2]), [2]);
  check(f16.data instanceof Float16Array, 'a Float16Array is kept as given');
  return { detail: 'toImageData (NCHW float, NHWC uint8 BGR), toDataURL round trip, float16ToFloat32/float32ToFloat16, Float16Array input' };
}

// A threaded build whose workers never come up (their script answers
// nothing) gives way to glint.wasm on one thread after env.wasm.initTimeout,
// with one warning, instead of hanging create().
async function threadsTimeout() {
  check(self.crossOriginIsolated === true, 'the test page is not cross-origin isolated (COOP/COEP headers)');
  glint.env.wasm.numThreads = 2;
  glint.env.wasm.initTimeout = 3000;
  glint.env.wasm.wasmPaths = { 'glint-threaded.worker.js': '/test/hang-worker.js' };
  try {
    const t0 = performance.now();
    const [s, warnings] = await withWarnings(() => glint.InferenceSession.create(`${M}mnist/model.onnx`, { executionProviders: ['wasm'] }));
    const ms = performance.now() - t0;
    check(s.numThreads === 1, `the session has ${s.numThreads} threads, expected 1 after the fallback`);
    const w = warnings.filter((x) => /glint-threaded\.wasm.*did not finish within 3000 ms.*running on 1 thread/.test(x));
    check(w.length === 1, `expected one warning about the timeout, got: ${warnings.join(' | ')}`);
    const y = (await s.run({ Input3: new glint.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) })).Plus214_Output_0;
    check(y.dims.join() === '1,10', 'run after the fallback');
    await s.release();
    return { detail: `create() settled in ${(ms / 1000).toFixed(1)} s on 1 thread: ${w[0]}` };
  } finally {
    glint.env.wasm.numThreads = undefined;
    glint.env.wasm.initTimeout = 0;
    glint.env.wasm.wasmPaths = undefined;
  }
}

// Silero VAD's feeds for the state-loop tests: the sample rate, a zero
// state, and chunk c's 512 samples (a tone every other chunk, silence between).
const vadRate = () => new glint.Tensor('int64', BigInt64Array.from([16000n]), []);
const vadZeroState = () => new glint.Tensor('float32', new Float32Array(256), [2, 1, 128]);
const vadChunk = (c) => new glint.Tensor('float32',
  Float32Array.from({ length: 512 }, (_, i) => 0.3 * Math.sin((c * 512 + i) * 0.0864) * (c % 2)), [1, 512]);

// Silero VAD for 4 chunks in two sessions, each fed its own state: `copied`
// its 'cpu' states, `kept` the states it returns at `location`.
// eachChunk(c, x, y, input, sr) checks a chunk's outputs; a kept state is
// disposed once the next chunk has run. Returns the last states, the sample
// rate tensor and the probabilities.
async function vadStateLoop(copied, kept, location, eachChunk) {
  const sr = vadRate();
  let a = vadZeroState();
  let b = a;
  const probabilities = [];
  for (let c = 0; c < 4; ++c) {
    const input = vadChunk(c);
    const x = await copied.run({ input, state: a, sr });
    const y = await kept.run({ input, state: b, sr });
    await eachChunk(c, x, y, input, sr);
    if (b.location === location) b.dispose();
    a = x.stateN;
    b = y.stateN;
    probabilities.push(x.output.data[0].toFixed(3));
  }
  return { copiedState: a, keptState: b, sr, probabilities };
}

// preferredOutputLocation 'cpu-pinned' on a provider: Silero VAD v5 fed its
// own state for a few chunks, the state copied out and in ('cpu') in one
// session and kept in the engine in the other; the two must agree to the
// bit. A name that is no output is warned about.
async function pinnedState(provider) {
  const url = `${M}vad/silero_vad_v5.onnx`;
  const copied = await glint.InferenceSession.create(url, { executionProviders: [provider] });
  const [pinned, warnings] = await withWarnings(() => glint.InferenceSession.create(url,
    { executionProviders: [provider], preferredOutputLocation: { stateN: 'cpu-pinned', nope: 'cpu-pinned' } }));
  check(warnings.some((w) => /preferredOutputLocation names 'nope', which is no output/.test(w)),
    `expected a warning about 'nope'; got: ${warnings.join(' | ')}`);
  const { keptState: b, probabilities } = await vadStateLoop(copied, pinned, 'cpu-pinned', (c, x, y) => {
    check(y.stateN.location === 'cpu-pinned' && x.stateN.location === 'cpu', `chunk ${c}: locations ${y.stateN.location}, ${x.stateN.location}`);
    check(maxAbsDiff(y.stateN.data, x.stateN.data) === 0 && y.output.data[0] === x.output.data[0],
      `chunk ${c}: the kept state's run differs (state ${maxAbsDiff(y.stateN.data, x.stateN.data)}, probability ${y.output.data[0]} vs ${x.output.data[0]})`);
  });
  b.dispose();
  await copied.release();
  await pinned.release();
  return { detail: `${provider} (${pinned.executionProvider}): 4 chunks, the same state and probabilities (${probabilities.join(', ')}) with the state kept in the engine` };
}

// preferredOutputLocation 'texture': Silero VAD's state stays in GPU memory
// between chunks, and the runs agree to the bit with a state read back and
// uploaded again; the kept state reads back with getData(), feeds a wasm
// session too, and is refused where it cannot go.
async function textureState() {
  const url = `${M}vad/silero_vad_v5.onnx`;
  const copied = await glint.InferenceSession.create(url, { executionProviders: ['webgl'] });
  const kept = await glint.InferenceSession.create(url, { executionProviders: ['webgl'], preferredOutputLocation: { stateN: 'texture' } });
  const onWasm = await glint.InferenceSession.create(url, { executionProviders: ['wasm'] });
  const { copiedState: a, keptState: b, sr, probabilities } = await vadStateLoop(copied, kept, 'texture', async (c, x, y, input, sr) => {
    check(y.stateN.location === 'texture' && y.output.location === 'cpu', `chunk ${c}: locations ${y.stateN.location}, ${y.output.location}`);
    check(y.stateN.type === 'float32' && y.stateN.dims.join(',') === '2,1,128' && y.stateN.size === 256,
      `chunk ${c}: the texture tensor says ${y.stateN.type} [${y.stateN.dims}] (${y.stateN.size})`);
    let threw = '';
    try { void y.stateN.data; } catch (e) { threw = e.message; }
    check(/is a 'texture' tensor: its data stays on the GPU; await getData\(\)/.test(threw), `reading .data: '${threw}'`);
    const state = await y.stateN.getData();
    check(state instanceof Float32Array && maxAbsDiff(state, x.stateN.data) === 0 && y.output.data[0] === x.output.data[0],
      `chunk ${c}: the kept state's run differs (state ${maxAbsDiff(state, x.stateN.data)}, probability ${y.output.data[0]} vs ${x.output.data[0]})`);
    // A wasm session takes it too (read back on the way in).
    const w = await onWasm.run({ input, state: y.stateN, sr });
    const wantW = await onWasm.run({ input, state: new glint.Tensor('float32', state, [2, 1, 128]), sr });
    check(maxAbsDiff(w.stateN.data, wantW.stateN.data) === 0, `chunk ${c}: the wasm session read the texture tensor differently`);
  });
  const last = await b.getData(true);  // and dispose
  check(b.disposed && last.length === 256, `getData(true): disposed ${b.disposed}, ${last.length} values`);
  const input = vadChunk(0);
  await expectError('a disposed texture tensor fed', () => kept.run({ input, state: b, sr }), /feed 'state' was disposed/);
  const [onCpu, warnings] = await withWarnings(() => glint.InferenceSession.create(url,
    { executionProviders: ['wasm'], preferredOutputLocation: 'texture' }));
  check(warnings.some((w) => /'texture' needs the webgl execution provider/.test(w)), `expected a warning; got: ${warnings.join(' | ')}`);
  const z = await onCpu.run({ input, state: a, sr });
  check(z.stateN.location === 'cpu' && z.stateN.data.length === 256, `a wasm session's 'texture' output came back as ${z.stateN.location}`);
  for (const s of [copied, kept, onWasm, onCpu]) await s.release();
  return { detail: `webgl: 4 chunks, the same state and probabilities (${probabilities.join(', ')}) with the state kept in GPU memory; read back, fed to wasm, refused once disposed` };
}

// Pre-allocated outputs (fetches {name: Tensor}) on webgl: Silero VAD's
// state read back into the tensor it is fed from, chunk after chunk, equal
// to the bit to a session returning new tensors; an output kept as a
// texture refuses one.
async function preallocatedWebgl() {
  const url = `${M}vad/silero_vad_v5.onnx`;
  const session = await glint.InferenceSession.create(url, { executionProviders: ['webgl'] });
  const sr = vadRate();
  let reference = vadZeroState();
  const state = vadZeroState(), probability = new glint.Tensor('float32', new Float32Array(1), [1, 1]);
  for (let c = 0; c < 4; ++c) {
    const input = vadChunk(c);
    const want = await session.run({ input, state: reference, sr });
    const got = await session.run({ input, state, sr }, { output: probability, stateN: state });
    check(got.stateN === state && got.output === probability, `chunk ${c}: the given tensors were not returned`);
    check(maxAbsDiff(state.data, want.stateN.data) === 0 && probability.data[0] === want.output.data[0],
      `chunk ${c}: written in place, the run differs (state ${maxAbsDiff(state.data, want.stateN.data)}, probability ${probability.data[0]} vs ${want.output.data[0]})`);
    reference = want.stateN;
  }
  const kept = await glint.InferenceSession.create(url, { executionProviders: ['webgl'], preferredOutputLocation: { stateN: 'texture' } });
  await expectError('a pre-allocated tensor for an output kept as a texture',
    () => kept.run({ input: vadChunk(0), state: vadZeroState(), sr }, { stateN: vadZeroState() }), /kept as a texture/);
  for (const s of [session, kept]) await s.release();
  return { detail: `webgl (${session.executionProvider}): 4 chunks written into the fed state, the same as new tensors; refused for a 'texture' output` };
}

export const tests = {
  'preallocated-webgl': () => preallocatedWebgl(),
  'pinned-state-webgl': () => pinnedState('webgl'),
  'pinned-state-wasm': () => pinnedState('wasm'),
  'texture-state-webgl': () => textureState(),
  'threads-timeout': () => threadsTimeout(),
  'ort-sample': () => ortSampleTest(),
  'ort-options': () => ortOptions(),
  'tensor-image': () => tensorImage(),
  'profile-squeezenet-webgl': () => profileSqueezenet('webgl'),
  'profile-squeezenet-wasm': () => profileSqueezenet('wasm'),
  'auto-provider': () => autoProvider(),
  'wasm-threads': () => wasmThreads(),
  'worker': () => worker(),
  'no-webgl2-fallback': () => noWebgl2(),
  'mnist-webgl': () => mnist('webgl'),
  'mnist-wasm': () => mnist('wasm'),
  'squeezenet-webgl': () => squeezenet('webgl'),
  'squeezenet-wasm': () => squeezenet('wasm'),
  'bad-input-webgl': () => badInput('webgl'),
  'bad-input-wasm': () => badInput('wasm'),
  'image-options': () => imageOptions(),
  'compat-ort-webgl': () => compat('webgl'),
  'compat-ort-wasm': () => compat('wasm'),
  ...deviceTests,
};

export async function run(name) {
  const fn = tests[name];
  if (!fn) return { ok: false, error: `no test '${name}'` };
  try {
    const r = await fn();
    return { ok: true, ...r };
  } catch (e) {
    return { ok: false, error: e && e.message ? e.message : String(e), stack: e && e.stack };
  }
}
