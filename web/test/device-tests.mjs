// In-page tests of how glint behaves on a device rather than on a model: a
// lost WebGL context (WEBGL_lose_context), fragment shaders without highp, a
// small device's limits (env.webgl.limits) and two sessions sharing the GPU.
// Run by test/browser.test.mjs through test/browser-tests.mjs; each test
// throws on failure and returns {detail}.
import * as glint from '../dist/index.mjs';
import {
  SQUEEZENET_IMAGE_OPTIONS, fetchBytes, floatsOf, loadLabels, maxAbsDiff, parseTensorProto, topK,
} from './util.mjs';

const M = '/models/';

function check(cond, message) {
  if (!cond) throw new Error(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// `promise`, or a rejection naming `what` after `ms`: a hang fails the test
// instead of stalling the suite.
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms (a hang)`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Settles to {out} or {error}.
const settle = (promise) => promise.then((out) => ({ out }), (error) => ({ error }));

async function expectError(what, fn, re) {
  const r = await settle(Promise.resolve().then(fn));
  check(r.error, `${what}: expected an error matching ${re}, but it succeeded`);
  check(r.error instanceof Error, `${what}: rejected with a ${typeof r.error}, not an Error`);
  check(re.test(r.error.message), `${what}: the message '${r.error.message}' does not match ${re}`);
  return r.error.message;
}

// The same bits, element for element (float16 outputs compared as numbers;
// NaN never appears in these outputs).
function sameOutputs(a, b) {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

// The engine's WebGL context and its WEBGL_lose_context. The canvas is
// glint's internal one: these tests take its context away on purpose, as a
// browser does when the GPU resets or too many contexts are open.
function engineContext(session) {
  const canvas = session._m.glintCanvas;
  check(canvas, 'the session has no engine canvas (not on webgl?)');
  const gl = canvas.getContext('webgl2');
  const lose = gl.getExtension('WEBGL_lose_context');
  check(lose, 'WEBGL_lose_context is not available');
  // Resolves in the task after the event's: Chromium reads whether the
  // listeners prevented the default only once they have all returned, and
  // restoreContext() before that (from a microtask of the dispatch) is refused.
  const nextEvent = (type) => within(new Promise((resolve) => canvas.addEventListener(type, () => setTimeout(resolve, 0), { once: true })),
    10000, `waiting for '${type}'`);
  return {
    gl,
    // Resolve once the page has seen the event (glint's own listeners, added
    // first, have run by then).
    loseContext: () => { const ev = nextEvent('webglcontextlost'); lose.loseContext(); return ev; },
    restoreContext: () => { const ev = nextEvent('webglcontextrestored'); lose.restoreContext(); return ev; },
  };
}

async function mnistData() {
  const x = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/input_0.pb`));
  const want = parseTensorProto(await fetchBytes(`${M}mnist/test_data_set_0/output_0.pb`));
  return { feeds: { Input3: new glint.Tensor('float32', x.data, x.dims) }, want: want.data };
}

const mnistOut = async (s, feeds) => Array.from((await s.run(feeds)).Plus214_Output_0.data);
const squeezenetOut = async (s, feeds) => Array.from(floatsOf((await s.run(feeds)).softmaxout_1));

async function squeezenetFeeds(image) {
  return { data_0: await glint.Tensor.fromImage(`${M}images/${image}`, SQUEEZENET_IMAGE_OPTIONS) };
}

// Lost while idle: runs reject while it is lost; after the restore the
// session has rebuilt itself and gives the outputs it gave before, bit for
// bit; twice, and a session created after the restore works too.
async function contextLossIdle() {
  const { feeds, want } = await mnistData();
  const s = await glint.InferenceSession.create(`${M}mnist/model.onnx`, { executionProviders: ['webgl'] });
  const before = await mnistOut(s, feeds);
  check(maxAbsDiff(before, want) <= 1e-4, `before the loss: max |diff| ${maxAbsDiff(before, want)} against output_0.pb`);
  const ctx = engineContext(s);
  // An output kept in GPU memory ('texture') lies in a texture the loss takes.
  const onGpu = await glint.InferenceSession.create(`${M}mnist/model.onnx`,
    { executionProviders: ['webgl'], preferredOutputLocation: 'texture' });
  const kept = (await onGpu.run(feeds)).Plus214_Output_0;
  check(kept.location === 'texture' && sameOutputs(Array.from(await kept.getData()), before),
    `the 'texture' output (${kept.location}) reads back differently`);
  let message = '';
  for (let cycle = 1; cycle <= 2; ++cycle) {
    await ctx.loseContext();
    message = await expectError(`run while lost (cycle ${cycle})`, () => within(s.run(feeds), 10000, 'run while lost'),
      /WebGL context lost/);
    check(s.gpuMemory === null, `cycle ${cycle}: the lost session still reports GPU memory ${JSON.stringify(s.gpuMemory)}`);
    await ctx.restoreContext();
    const after = await within(mnistOut(s, feeds), 60000, `first run after restore ${cycle}`);
    check(sameOutputs(after, before), `cycle ${cycle}: after the restore the outputs differ: max |diff| ${maxAbsDiff(after, before)}`);
    check(s.executionProvider === 'webgl', `cycle ${cycle}: after the restore the session runs on ${s.executionProvider}`);
    check(s.placements.some((p) => p.gpu), `cycle ${cycle}: after the restore no node runs on the GPU`);
  }
  const gone = await expectError("a 'texture' output from before the loss read", () => kept.getData(),
    /GL context was lost or released since it was made; its data is gone/);
  const keptAgain = (await within(onGpu.run(feeds), 60000, "the 'texture' session after the restores")).Plus214_Output_0;
  check(sameOutputs(Array.from(await keptAgain.getData()), before), "after the restores the 'texture' output reads back differently");
  await onGpu.release();
  const s2 = await glint.InferenceSession.create(`${M}mnist/model.onnx`, { executionProviders: ['webgl'] });
  const fresh = await mnistOut(s2, feeds);
  check(sameOutputs(fresh, before), `a session created after the restores differs: max |diff| ${maxAbsDiff(fresh, before)}`);
  await s2.release();
  await s.release();
  return { detail: `2 loss/restore cycles, same bits after each; a run while lost: '${message}'; ${gone}` };
}

// Lost while a run is in flight, at several moments of SqueezeNet's run
// (about 0.4 s on SwiftShader, seconds on a busy machine): before it starts,
// one task in, while its outputs are polled, and later (a run that has
// finished by then must have returned the right bits). Each run rejects with the context-lost error or
// completes with the right bits, never anything else and never a hang; the
// first run after the restore gives the bits of the run before the loss.
async function contextLossDuringRun() {
  const feeds = await squeezenetFeeds('chelsea.png');
  const s = await glint.InferenceSession.create(`${M}squeezenet1.1-fp16.onnx`, { executionProviders: ['webgl'] });
  const reference = await squeezenetOut(s, feeds);
  const ctx = engineContext(s);
  const outcomes = [];
  for (const delay of ['sync', 0, 20, 100, 250, 400, 1500, 4000]) {
    const run = settle(squeezenetOut(s, feeds));
    let lost;
    if (delay === 'sync') lost = ctx.loseContext();
    else { await sleep(delay); lost = ctx.loseContext(); }
    const r = await within(run, 60000, `the run lost at ${delay}`);
    if (r.error) {
      check(/WebGL context lost/.test(r.error.message), `lost at ${delay}: the run rejected with '${r.error.message}'`);
      outcomes.push(`${delay === 'sync' ? 'sync' : `${delay} ms`}: rejected`);
    } else {
      check(sameOutputs(r.out, reference), `lost at ${delay}: the run completed with wrong outputs (max |diff| ${maxAbsDiff(r.out, reference)})`);
      outcomes.push(`${delay === 'sync' ? 'sync' : `${delay} ms`}: completed`);
    }
    await lost;
    await ctx.restoreContext();
    const after = await within(squeezenetOut(s, feeds), 120000, `the run after the restore (lost at ${delay})`);
    check(sameOutputs(after, reference), `lost at ${delay}: after the restore the outputs differ: max |diff| ${maxAbsDiff(after, reference)}`);
  }
  check(outcomes.some((o) => /rejected/.test(o)), `no run was caught in flight: ${outcomes.join(', ')}`);
  await s.release();
  return { detail: `loss during a run (${outcomes.join(', ')}); every run after the restore gave the same bits` };
}

// Not restored within env.webgl.contextRestoreTimeout: a session that lists
// 'wasm' continues on it with correct outputs; one that lists only 'webgl'
// rejects its runs, saying why, until the context comes back, and then runs
// on the GPU again. A session created while the context is lost starts on wasm.
async function contextLossWasmFallback() {
  const { feeds, want } = await mnistData();
  const timeout = 300;
  glint.env.webgl.contextRestoreTimeout = timeout;
  try {
    const withWasm = await glint.InferenceSession.create(`${M}mnist/model.onnx`, { executionProviders: ['webgl', 'wasm'] });
    const webglOnly = await glint.InferenceSession.create(`${M}mnist/model.onnx`, { executionProviders: ['webgl'] });
    check(withWasm.executionProvider === 'webgl' && webglOnly.executionProvider === 'webgl', 'the sessions did not start on webgl');
    const before = await mnistOut(webglOnly, feeds);
    const ctx = engineContext(withWasm);
    await ctx.loseContext();
    await sleep(timeout + 200);
    const onWasm = await within(mnistOut(withWasm, feeds), 30000, 'the run after the fallback');
    check(withWasm.executionProvider === 'wasm', `after the timeout the session runs on ${withWasm.executionProvider}, expected wasm`);
    check(/not restored within 300 ms.*fell back to 'wasm'/.test(withWasm.executionProviderReason),
      `the reason does not say why: '${withWasm.executionProviderReason}'`);
    check(maxAbsDiff(onWasm, want) <= 1e-4, `on wasm after the fallback: max |diff| ${maxAbsDiff(onWasm, want)} against output_0.pb`);
    const refused = await expectError('a webgl-only session after the timeout', () => within(webglOnly.run(feeds), 10000, 'run'),
      /WebGL context lost and not restored within 300 ms.*add 'wasm' to executionProviders/);
    const created = await glint.InferenceSession.create(`${M}mnist/model.onnx`, { executionProviders: ['webgl', 'wasm'] });
    check(created.executionProvider === 'wasm' && /WebGL context lost; not restored yet/.test(created.executionProviderReason),
      `a session created while lost: ${created.executionProvider}, '${created.executionProviderReason}'`);
    check(maxAbsDiff(await mnistOut(created, feeds), want) <= 1e-4, 'the session created while lost gives wrong outputs');
    await ctx.restoreContext();
    const back = await within(mnistOut(webglOnly, feeds), 60000, 'the webgl-only session after the restore');
    check(sameOutputs(back, before), `the webgl-only session after the restore differs: max |diff| ${maxAbsDiff(back, before)}`);
    check(withWasm.executionProvider === 'wasm', 'the session that fell back to wasm moved again');
    check(maxAbsDiff(await mnistOut(withWasm, feeds), want) <= 1e-4, 'the wasm session after the restore gives wrong outputs');
    for (const s of [withWasm, webglOnly, created]) await s.release();
    return { detail: `fell back after ${timeout} ms: '${withWasm.executionProviderReason}'; webgl only: '${refused}', then back on the GPU after the restore` };
  } finally {
    glint.env.webgl.contextRestoreTimeout = 5000;
  }
}

// Fragment shaders without highp float (getShaderPrecisionFormat stubbed in
// this page, as a device that has only mediump answers): the webgl provider
// says so, ['webgl', 'wasm'] runs on wasm and ['webgl'] rejects with the reason.
async function noHighp() {
  const proto = WebGL2RenderingContext.prototype;
  const original = proto.getShaderPrecisionFormat;
  proto.getShaderPrecisionFormat = function (shaderType, precisionType) {
    if (shaderType === this.FRAGMENT_SHADER && precisionType === this.HIGH_FLOAT) return { rangeMin: 0, rangeMax: 0, precision: 0 };
    return original.call(this, shaderType, precisionType);
  };
  try {
    const { feeds, want } = await mnistData();
    const s = await glint.InferenceSession.create(`${M}mnist/model.onnx`, { executionProviders: ['webgl', 'wasm'] });
    check(s.executionProvider === 'wasm', `without highp the session runs on ${s.executionProvider}, expected wasm`);
    check(/no highp float in fragment shaders.*fell back to 'wasm'/.test(s.executionProviderReason), `reason: '${s.executionProviderReason}'`);
    check(maxAbsDiff(await mnistOut(s, feeds), want) <= 1e-4, 'wrong outputs on the wasm fallback');
    await s.release();
    const msg = await expectError("['webgl'] without highp", () => glint.InferenceSession.create(`${M}mnist/model.onnx`, { executionProviders: ['webgl'] }),
      /no highp float in fragment shaders.*add 'wasm' to executionProviders/);
    return { detail: `['webgl','wasm']: ${s.executionProviderReason}; ['webgl']: '${msg}'` };
  } finally {
    proto.getShaderPrecisionFormat = original;
  }
}

// A phone-sized GPU (env.webgl.limits, set before the page's first WebGL
// session): SqueezeNet's top-3 on chelsea.png is the desktop run's (models.json's
// reference), and the session runs on the GPU.
async function smallDeviceSqueezenet() {
  const limits = { max_texture_size: 4096, max_draw_buffers: 4, float_render: 0 };
  glint.env.webgl.limits = limits;
  try {
    const labels = await loadLabels(`${M}imagenet-labels.txt`);
    const cfg = await (await fetch('/models/models.json')).json();
    const ref = cfg.models.find((m) => m.name === 'squeezenet1.1-fp16').reference.results.find((r) => r.image === 'images/chelsea.png');
    const s = await glint.InferenceSession.create(`${M}squeezenet1.1-fp16.onnx`, { executionProviders: ['webgl', 'wasm'] });
    const probs = await squeezenetOut(s, await squeezenetFeeds('chelsea.png'));
    const top = topK(Float32Array.from(probs), 3, labels);
    ref.top.slice(0, 3).forEach(([label, pct], i) => {
      check(top[i].label === label, `#${i + 1} is '${top[i].label}' (${(100 * top[i].prob).toFixed(1)}%), the desktop run's is '${label}'`);
      check(Math.abs(100 * top[i].prob - pct) <= 3, `'${label}' ${(100 * top[i].prob).toFixed(1)}% vs the desktop run's ${pct}%`);
    });
    const onGpu = s.placements.filter((p) => p.gpu).length;
    const detail = `limits ${JSON.stringify(limits)}: top-3 ${top.map((t) => `${t.label.split(',')[0]} ${(100 * t.prob).toFixed(1)}`).join(', ')}; ` +
      `${s.executionProvider}, ${onGpu}/${s.placements.length} nodes on the GPU`;
    check(s.executionProvider === 'webgl' && onGpu > 0,
      `the top-3 matches, but the session does not run on the GPU (${detail}; reason: ${s.executionProviderReason})`);
    await s.release();
    return { detail };
  } finally {
    glint.env.webgl.limits = undefined;
  }
}

// Two webgl sessions on one page (one GL executor between them): SqueezeNet
// on two photos and MNIST, run in turn and then all at once, give each
// session's solo outputs bit for bit.
async function twoSessionsInterleaved() {
  const { feeds: digit, want } = await mnistData();
  const cat = await squeezenetFeeds('chelsea.png');
  const cup = await squeezenetFeeds('coffee.png');
  const a = await glint.InferenceSession.create(`${M}squeezenet1.1-fp16.onnx`, { executionProviders: ['webgl'] });
  const soloCat = await squeezenetOut(a, cat);
  const soloCup = await squeezenetOut(a, cup);
  const b = await glint.InferenceSession.create(`${M}mnist/model.onnx`, { executionProviders: ['webgl'] });
  const soloDigit = await mnistOut(b, digit);
  check(maxAbsDiff(soloDigit, want) <= 1e-4, `MNIST solo: max |diff| ${maxAbsDiff(soloDigit, want)} against output_0.pb`);
  const expect = (what, got, solo) => check(sameOutputs(got, solo), `${what} differs from its solo run: max |diff| ${maxAbsDiff(got, solo)}`);
  for (let round = 0; round < 3; ++round) {
    expect(`round ${round}: A(chelsea)`, await squeezenetOut(a, cat), soloCat);
    expect(`round ${round}: B`, await mnistOut(b, digit), soloDigit);
    expect(`round ${round}: A(coffee)`, await squeezenetOut(a, cup), soloCup);
    expect(`round ${round}: B again`, await mnistOut(b, digit), soloDigit);
  }
  // All at once: each session's readback is polled while the other one draws.
  const [c1, d1, c2, d2] = await within(Promise.all([squeezenetOut(a, cat), mnistOut(b, digit), squeezenetOut(a, cup), mnistOut(b, digit)]),
    120000, 'concurrent runs');
  expect('concurrent A(chelsea)', c1, soloCat);
  expect('concurrent B', d1, soloDigit);
  expect('concurrent A(coffee)', c2, soloCup);
  expect('concurrent B (second)', d2, soloDigit);
  await a.release();
  await b.release();
  return { detail: 'A (SqueezeNet, chelsea/coffee) and B (MNIST) in turn x3 and concurrently: every output equals its solo run bit for bit' };
}

// MNIST with its weights in an external data file (/ext/, written by
// browser.test.mjs with python3-onnx): the file fetched from a URL, and
// given as bytes that the caller then overwrites; after a lost context the
// session rebuilds itself from its own copy of the files.
async function externalDataWebgl() {
  const { feeds, want } = await mnistData();
  const model = '/ext/model.onnx';
  const webgl = (externalData) => glint.InferenceSession.create(model, { executionProviders: ['webgl'], externalData });
  const fromUrl = await webgl([{ path: 'model.onnx_data', data: '/ext/model.onnx_data' }]);
  const out = await mnistOut(fromUrl, feeds);
  check(maxAbsDiff(out, want) <= 1e-4, `from a URL: max |diff| ${maxAbsDiff(out, want)} against output_0.pb`);
  await fromUrl.release();
  const bytes = await fetchBytes('/ext/model.onnx_data');
  const fromBytes = await webgl([{ path: './model.onnx_data', data: bytes }]);
  bytes.fill(0);
  check(sameOutputs(await mnistOut(fromBytes, feeds), out), 'from bytes: the outputs differ from the URL session\'s');
  const ctx = engineContext(fromBytes);
  await ctx.loseContext();
  await ctx.restoreContext();
  const after = await within(mnistOut(fromBytes, feeds), 60000, 'first run after the restore');
  check(sameOutputs(after, out), `after the restore the outputs differ: max |diff| ${maxAbsDiff(after, out)}`);
  check(fromBytes.executionProvider === 'webgl', `after the restore the session runs on ${fromBytes.executionProvider}`);
  await fromBytes.release();
  const missing = await expectError('no externalData', () => webgl(undefined),
    /its data is in the external file 'model\.onnx_data', and none was given/);
  return { detail: `from a URL and from bytes, same bits, rebuilt after a lost context; without the file: '${missing}'` };
}

export const deviceTests = {
  'context-loss-idle': () => contextLossIdle(),
  'context-loss-during-run': () => contextLossDuringRun(),
  'context-loss-wasm-fallback': () => contextLossWasmFallback(),
  'no-highp': () => noHighp(),
  'small-device-squeezenet': () => smallDeviceSqueezenet(),
  'two-sessions-interleaved': () => twoSessionsInterleaved(),
  'external-data-webgl': () => externalDataWebgl(),
};
