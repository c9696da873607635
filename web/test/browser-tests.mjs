// The browser tests, run inside the page (test/index.html) by
// test/browser.test.mjs. Each test is an async function that throws on
// failure and returns {detail, metrics}.
import * as glint from '../dist/index.mjs';
import { runCompat } from './compat.mjs';
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
  lines.push(await expectError('unknown provider', () => glint.InferenceSession.create(mnistBytes, { executionProviders: ['webgpu'] }),
    /unknown execution provider 'webgpu'/));
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

export const tests = {
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
