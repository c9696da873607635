// The package under plain Node (>= 18), through the tarball `npm pack` makes,
// installed into a temporary directory and imported by its name, as an app
// would: MNIST on the wasm provider from a file path, a file: URL, a Buffer,
// a Uint8Array and an http:// URL, against test_data_set_0's output (1e-4),
// and with its weights in external data (beside it, or given as bytes, a
// path, a URL);
// env.wasm.wasmBinary honoured; require() fails with a message that says to
// use import.
//
//   node --test test/node.test.mjs
//
// Skipped (exit 77 for CTest) when web/dist or the models are missing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { maxAbsDiff, parseTensorProto } from './util.mjs';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(webDir, '..');
const mnistDir = join(repoDir, 'models', 'data', 'mnist');

for (const path of [join(webDir, 'dist', 'glint.wasm'), join(mnistDir, 'model.onnx')]) {
  if (!existsSync(path)) { console.error(`node tests: ${path} is missing (make web, make models)`); process.exit(77); }
}

let tmp, glint, server;
const input = parseTensorProto(new Uint8Array(readFileSync(join(mnistDir, 'test_data_set_0', 'input_0.pb'))));
const expected = parseTensorProto(new Uint8Array(readFileSync(join(mnistDir, 'test_data_set_0', 'output_0.pb'))));

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'glint-node-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp],
    { cwd: webDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))[0];
  const pkgDir = join(tmp, 'node_modules', 'glint-onnx');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['xzf', join(tmp, packed.filename), '-C', pkgDir, '--strip-components=1']);
  writeFileSync(join(tmp, 'package.json'), '{"type": "module", "private": true}\n');
  // Imported by name from inside the app, so that "exports" (condition "node") decides the file.
  writeFileSync(join(tmp, 'load.mjs'), "export * as glint from 'glint-onnx';\n");
  ({ glint } = await import(pathToFileURL(join(tmp, 'load.mjs')).href));
  server = createServer((req, res) => {
    // /ext/NAME: the external-data test's files; anything else: MNIST.
    const { pathname } = new URL(req.url, 'http://127.0.0.1');
    const ext = pathname.startsWith('/ext/') ? join(tmp, 'ext', pathname.slice(5)) : null;
    if (ext && !existsSync(ext)) { res.writeHead(404); res.end(); return; }
    const body = readFileSync(ext ?? join(mnistDir, 'model.onnx'));
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
});

after(async () => {
  if (server) await new Promise((r) => server.close(r));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function runMnist(source, options) {
  const session = await glint.InferenceSession.create(source, options);
  assert.equal(session.executionProvider, 'wasm');
  const out = await session.run({ [session.inputNames[0]]: new glint.Tensor('float32', input.data, input.dims) });
  const y = out[session.outputNames[0]];
  await session.release();
  assert.deepEqual(Array.from(y.dims), expected.dims);
  const diff = maxAbsDiff(y.data, expected.data);
  assert.ok(diff <= 1e-4, `max |diff| ${diff} against output_0.pb`);
  return diff;
}

test('the "node" export is the one loaded', () => {
  assert.equal(typeof glint.InferenceSession.create, 'function');
  assert.equal(typeof glint.float16ToFloat32, 'function');
});

test('MNIST from a file path', async () => {
  await runMnist(join(mnistDir, 'model.onnx'));
});

test('MNIST from a file: URL (string and URL object)', async () => {
  await runMnist(pathToFileURL(join(mnistDir, 'model.onnx')).href);
  await runMnist(pathToFileURL(join(mnistDir, 'model.onnx')));
});

test('MNIST from a Buffer and from a Uint8Array, default options and executionProviders', async () => {
  const buf = readFileSync(join(mnistDir, 'model.onnx'));
  await runMnist(buf);
  await runMnist(new Uint8Array(buf), { executionProviders: ['webgl', 'wasm'] });
});

test('MNIST from an http:// URL', async () => {
  await runMnist(`http://127.0.0.1:${server.address().port}/model.onnx`);
});


test('a model with external data: read from beside its file, or given as bytes, a path or a URL; what is missing or wrong is named', async () => {
  const dir = join(tmp, 'ext');
  mkdirSync(dir, { recursive: true });
  // MNIST with every initializer in one external data file (test/external-data.py).
  execFileSync('/usr/bin/python3', [join(webDir, 'test', 'external-data.py'), join(mnistDir, 'model.onnx'), dir]);
  const model = join(dir, 'model.onnx');
  const data = new Uint8Array(readFileSync(join(dir, 'model.onnx_data')));
  assert.ok(readFileSync(model).length < 4096, 'the weights left the model file');
  await runMnist(model, { externalData: [{ path: 'model.onnx_data', data }] });
  await runMnist(model, { externalData: [{ path: './model.onnx_data', data: join(dir, 'model.onnx_data') }] });
  await runMnist(model, { externalData: [{ path: 'model.onnx_data', data: data.buffer }] });
  const url = `http://127.0.0.1:${server.address().port}/ext/model.onnx_data`;
  await runMnist(model, { externalData: [{ path: 'model.onnx_data', data: url }] });
  // A URL or a path alone is matched by its last segment.
  await runMnist(readFileSync(model), { externalData: [`${url}?v=2`] });
  await runMnist(readFileSync(model), { externalData: [join(dir, 'model.onnx_data')] });
  await runMnist(model, { externalData: null });

  // From its file, the model's external data is read from beside it.
  await runMnist(model);
  await runMnist(pathToFileURL(model).href, { executionProviders: ['wasm'] });
  const create = (externalData) => glint.InferenceSession.create(model, { externalData });
  // From its bytes there is nothing beside it.
  await assert.rejects(glint.InferenceSession.create(readFileSync(model)),
    /initializer '\w+': its data is in the external file 'model\.onnx_data', and none was given/);
  const alone = join(tmp, 'ext-alone');
  mkdirSync(alone, { recursive: true });
  writeFileSync(join(alone, 'model.onnx'), readFileSync(model));
  await assert.rejects(glint.InferenceSession.create(join(alone, 'model.onnx')),
    /failed to read external data 'model\.onnx_data' from .*ext-alone\/model\.onnx_data: no such file/);
  await assert.rejects(create([{ path: 'weights.bin', data }]),
    /external data 'model\.onnx_data', which was not given \(given: 'weights\.bin'\)/);
  await assert.rejects(create([{ path: 'model.onnx_data', data: data.subarray(0, 100) }]),
    /external data 'model\.onnx_data' is 100 bytes, but the tensor's bytes start at offset \d+/);
  await assert.rejects(create([{ path: 'model.onnx_data', data: 42 }]),
    /externalData\[0\]\.data must be a Uint8Array, an ArrayBuffer or a URL string, got number/);
  await assert.rejects(create([{ data }]), /externalData\[0\]\.path must be the file name/);
  await assert.rejects(create([{ path: '/model.onnx_data', data }]),
    /externalData\[0\]\.path '\/model\.onnx_data' is not a file name relative to the model/);
  // A link beside the model that leads out of its folder is refused, as natively.
  const linked = join(tmp, 'ext-link');
  mkdirSync(linked, { recursive: true });
  writeFileSync(join(linked, 'model.onnx'), readFileSync(model));
  symlinkSync(join('..', 'ext', 'model.onnx_data'), join(linked, 'model.onnx_data'));
  await assert.rejects(glint.InferenceSession.create(join(linked, 'model.onnx')),
    /external data 'model\.onnx_data' leads out of the model's folder .* through a link/);
  await assert.rejects(create({ path: 'model.onnx_data', data }), /externalData must be an array/);
  await assert.rejects(create([{ path: 'model.onnx_data', data: join(dir, 'gone.bin') }]),
    /failed to read external data 'model\.onnx_data' from .*gone\.bin: no such file/);
  await assert.rejects(create([{ path: 'model.onnx_data', data: url.replace('model.onnx_data', 'gone.bin') }]),
    /failed to fetch external data 'model\.onnx_data' from .*gone\.bin: HTTP 404/);
});

test('a missing file names the path', async () => {
  await assert.rejects(glint.InferenceSession.create(join(mnistDir, 'nope.onnx')),
    /failed to read the model from .*nope\.onnx: no such file/);
});

test('env.wasm.wasmBinary is used when set, env.wasm.wasmPaths names a directory', async () => {
  // A child process: the engine is instantiated once per process.
  const script = `
    import * as glint from 'glint-onnx';
    import { readFileSync } from 'node:fs';
    glint.env.wasm.wasmBinary = new Uint8Array(4);  // not wasm: create() must fail on it
    let message = '';
    try { await glint.InferenceSession.create(${JSON.stringify(join(mnistDir, 'model.onnx'))}); } catch (e) { message = e.message; }
    glint.env.wasm.wasmBinary = undefined;
    glint.env.wasm.wasmPaths = '/no/such/dir/';  // a directory on disk: read from there
    let pathMessage = '';
    try { await glint.InferenceSession.create(${JSON.stringify(join(mnistDir, 'model.onnx'))}); } catch (e) { pathMessage = e.message; }
    glint.env.wasm.wasmPaths = undefined;
    glint.env.wasm.wasmBinary = readFileSync(new URL(import.meta.resolve('glint-onnx/glint.wasm')));
    const s = await glint.InferenceSession.create(${JSON.stringify(join(mnistDir, 'model.onnx'))});
    console.log(JSON.stringify({ message, pathMessage, inputs: s.inputNames }));`;
  writeFileSync(join(tmp, 'binary.mjs'), script);
  const out = JSON.parse(execFileSync(process.execPath, [join(tmp, 'binary.mjs')], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop());
  assert.match(out.message, /glint\.wasm/);
  assert.match(out.pathMessage, /could not read glint\.wasm from \/no\/such\/dir\/glint\.wasm: no such file/);
  assert.deepEqual(out.inputs, ['Input3']);
});

// A one-node model (Relu) whose input and output are [batch, 3], encoded here.
function reluModel() {
  const v = (n) => { const o = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
  const bytes = (field, payload) => [...v(field * 8 + 2), ...v(payload.length), ...payload];
  const str = (field, s) => bytes(field, [...Buffer.from(s)]);
  const int = (field, n) => [...v(field * 8), ...v(n)];
  const shape = bytes(2, [...bytes(1, str(2, 'batch')), ...bytes(1, int(1, 3))]);
  const info = (name) => [...str(1, name), ...bytes(2, bytes(1, [...int(1, 1), ...shape]))];
  const graph = [...bytes(1, [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Relu')]), ...str(2, 'g'),
    ...bytes(11, info('x')), ...bytes(12, info('y'))];
  return Uint8Array.from([...int(1, 8), ...bytes(8, int(2, 13)), ...bytes(7, graph)]);
}

test('freeDimensionOverrides fixes a symbolic dimension', async () => {
  const free = await glint.InferenceSession.create(reluModel());
  assert.deepEqual(free.inputMetadata[0].shape, ['batch', 3]);
  await free.release();
  const fixed = await glint.InferenceSession.create(reluModel(), { freeDimensionOverrides: { batch: 2 } });
  assert.deepEqual(fixed.inputMetadata[0].shape, [2, 3]);
  const y = (await fixed.run({ x: new glint.Tensor('float32', Float32Array.from([-1, 2, -3, 4, -5, 6]), [2, 3]) })).y;
  assert.deepEqual(Array.from(y.data), [0, 2, 0, 4, 0, 6]);
  await fixed.release();
  await assert.rejects(glint.InferenceSession.create(reluModel(), { freeDimensionOverrides: { batch: -1 } }),
    /freeDimensionOverrides\['batch'\] = -1 is not a non-negative integer/);
});

// Feeds cross in one engine call (feedBuffer); what it checks still names
// the input.
test('feeds: empty tensors, data that does not fill the dims, bad dims', async () => {
  const s = await glint.InferenceSession.create(reluModel());
  const empty = (await s.run({ x: new glint.Tensor('float32', new Float32Array(0), [0, 3]) })).y;
  assert.deepEqual(empty.dims, [0, 3]);
  const short = { type: 'float32', data: new Float32Array(5), dims: [2, 3] };
  await assert.rejects(s.run({ x: short }), /input 'x': float32 data of 20 bytes does not fill 24 bytes/);
  const fractional = { type: 'float32', data: new Float32Array(6), dims: [2, 1.5] };
  await assert.rejects(s.run({ x: fractional }), /input 'x': dimension 1 is not a non-negative integer/);
  const y = (await s.run({ x: new glint.Tensor('float32', Float32Array.from([1, -2, 3]), [1, 3]) })).y;
  assert.deepEqual(Array.from(y.data), [1, 0, 3]);
  await s.release();
});

// String tensors in and out: an ONNX node test (StringNormalizer, lower case).
test('string tensors: StringNormalizer from the ONNX node tests', async (t) => {
  const dir = '/usr/share/libonnx-testdata/data/node/test_strnormalizer_export_monday_casesensintive_lower';
  if (!existsSync(dir)) { t.skip(`${dir} is missing (Debian package libonnx-testdata)`); return; }
  const x = parseTensorProto(new Uint8Array(readFileSync(join(dir, 'test_data_set_0', 'input_0.pb'))));
  const want = parseTensorProto(new Uint8Array(readFileSync(join(dir, 'test_data_set_0', 'output_0.pb'))));
  const s = await glint.InferenceSession.create(join(dir, 'model.onnx'));
  assert.equal(s.inputMetadata[0].type, 'string');
  const y = (await s.run({ [s.inputNames[0]]: new glint.Tensor('string', x.data, x.dims) }))[s.outputNames[0]];
  await s.release();
  assert.equal(y.type, 'string');
  assert.deepEqual(Array.from(y.dims), want.dims);
  assert.deepEqual(y.data, want.data);
  assert.throws(() => new glint.Tensor('string', [1, 2], [2]), /a 'string' tensor needs an array of strings/);
});

// preferredOutputLocation 'cpu-pinned' on a real recurrent model: Silero VAD
// v5 fed its own state chunk after chunk, once with the state copied out and
// back in ('cpu') and once kept in the engine. The two loops must agree to
// the bit; a kept state must not change when later runs write theirs.
test("preferredOutputLocation 'cpu-pinned': Silero VAD's state fed back without copies", async (t) => {
  const path = join(repoDir, 'models', 'data', 'vad', 'silero_vad_v5.onnx');
  if (!existsSync(path)) { t.skip(`${path} is missing (make models)`); return; }
  const chunks = Array.from({ length: 6 }, (_, c) => Float32Array.from({ length: 512 },
    (_, i) => 0.3 * Math.sin(((c * 512 + i) * 2 * Math.PI * 220) / 16000) * (c % 2) + 0.01 * Math.sin(i * 7.1 + c)));
  const sr = new glint.Tensor('int64', BigInt64Array.from([16000n]), []);
  const copied = await glint.InferenceSession.create(path);
  const pinned = await glint.InferenceSession.create(path, { preferredOutputLocation: { stateN: 'cpu-pinned' } });
  let stateCopied = new glint.Tensor('float32', new Float32Array(256), [2, 1, 128]);
  let statePinned = stateCopied;
  let previous = null;  // the pinned state two runs back, and a copy of its data then
  for (const [c, chunk] of chunks.entries()) {
    const input = new glint.Tensor('float32', chunk, [1, 512]);
    const a = await copied.run({ input, state: stateCopied, sr });
    const b = await pinned.run({ input, state: statePinned, sr });
    assert.equal(a.stateN.location, 'cpu');
    assert.equal(b.stateN.location, 'cpu-pinned', `chunk ${c}`);
    assert.equal(b.output.location, 'cpu');
    assert.deepEqual(b.stateN.dims, a.stateN.dims);
    assert.deepEqual(Array.from(b.stateN.data), Array.from(a.stateN.data), `chunk ${c}: state`);
    assert.deepEqual(Array.from(b.output.data), Array.from(a.output.data), `chunk ${c}: speech probability`);
    assert.ok(a.output.data[0] >= 0 && a.output.data[0] <= 1, `chunk ${c}: probability ${a.output.data[0]}`);
    if (previous) {
      assert.deepEqual(Array.from(previous.tensor.data), Array.from(previous.then), `chunk ${c}: an older kept state changed`);
      previous.tensor.dispose();
    }
    if (statePinned.location === 'cpu-pinned') previous = { tensor: statePinned, then: statePinned.data.slice() };
    stateCopied = a.stateN;
    statePinned = b.stateN;
  }
  const kept = statePinned;
  assert.deepEqual(Array.from(await kept.getData()), Array.from(stateCopied.data));
  const reshaped = kept.reshape([256]);
  assert.equal(reshaped.location, 'cpu');
  assert.deepEqual(Array.from(reshaped.data), Array.from(stateCopied.data));
  kept.dispose();
  assert.equal(kept.data.length, 0);
  assert.deepEqual(Array.from(reshaped.data), Array.from(stateCopied.data), 'the reshaped copy outlives dispose()');
  await assert.rejects(pinned.run({ input: new glint.Tensor('float32', chunks[0], [1, 512]), state: kept, sr }),
    /feed 'state' was disposed/);
  // A kept output fed to another session of the same module.
  const out = await pinned.run({ input: new glint.Tensor('float32', chunks[1], [1, 512]), state: stateCopied, sr });
  const again = await copied.run({ input: new glint.Tensor('float32', chunks[2], [1, 512]), state: out.stateN, sr });
  const want = await copied.run({ input: new glint.Tensor('float32', chunks[2], [1, 512]),
    state: new glint.Tensor('float32', out.stateN.data.slice(), [2, 1, 128]), sr });
  assert.deepEqual(Array.from(again.stateN.data), Array.from(want.stateN.data));
  out.stateN.dispose();
  previous?.tensor.dispose();
  await copied.release();
  await pinned.release();
});

test('pre-allocated outputs (fetches {name: Tensor}) are written in place, checked before any is', async (t) => {
  const path = join(repoDir, 'models', 'data', 'vad', 'silero_vad_v5.onnx');
  if (!existsSync(path)) { t.skip(`${path} is missing (make models)`); return; }
  const chunk = (c) => new glint.Tensor('float32', Float32Array.from({ length: 512 },
    (_, i) => 0.3 * Math.sin(((c * 512 + i) * 2 * Math.PI * 220) / 16000) + 0.01 * Math.sin(i * 7.1 + c)), [1, 512]);
  const sr = new glint.Tensor('int64', BigInt64Array.from([16000n]), []);
  const session = await glint.InferenceSession.create(path);
  const zeros = () => new glint.Tensor('float32', new Float32Array(256), [2, 1, 128]);
  const nan = (dims) => new glint.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(NaN), dims);
  // A decoder-style loop: the state is fed and written back into the same tensor.
  let reference = zeros();
  const state = zeros(), probability = nan([1, 1]);
  for (let c = 0; c < 4; ++c) {
    const want = await session.run({ input: chunk(c), state: reference, sr });
    const got = await session.run({ input: chunk(c), state, sr }, { output: probability, stateN: state });
    assert.equal(got.output, probability, `chunk ${c}: the given tensor is returned`);
    assert.equal(got.stateN, state);
    assert.deepEqual(Array.from(probability.data), Array.from(want.output.data), `chunk ${c}: speech probability`);
    assert.deepEqual(Array.from(state.data), Array.from(want.stateN.data), `chunk ${c}: state`);
    reference = want.stateN;
  }
  // null: a new tensor for that output, as before.
  const mixed = await session.run({ input: chunk(5), state: zeros(), sr }, { output: null, stateN: nan([2, 1, 128]) });
  const plain = await session.run({ input: chunk(5), state: zeros(), sr });
  assert.notEqual(mixed.output, plain.output);
  assert.deepEqual(Array.from(mixed.output.data), Array.from(plain.output.data));
  assert.deepEqual(Array.from(mixed.stateN.data), Array.from(plain.stateN.data));
  // Bad destinations are errors naming the output, and nothing is written.
  const untouched = nan([1, 1]);
  const feeds = { input: chunk(0), state: zeros(), sr };
  await assert.rejects(session.run(feeds, { output: untouched, stateN: nan([256]) }),
    /output 'stateN' is float32 \[2,1,128\] but its pre-allocated tensor is float32 \[256\]/);
  await assert.rejects(session.run(feeds, { output: untouched, stateN: new glint.Tensor('int32', new Int32Array(256), [2, 1, 128]) }),
    /output 'stateN' is float32 \[2,1,128\] but its pre-allocated tensor is int32 \[2,1,128\]/);
  assert.ok(Number.isNaN(untouched.data[0]), 'an output checked against a bad sibling was written');
  const disposed = nan([1, 1]);
  disposed.dispose();
  await assert.rejects(session.run(feeds, { output: disposed }), /pre-allocated tensor for output 'output' was disposed/);
  const shared = nan([2, 1, 128]);
  await assert.rejects(session.run(feeds, { output: shared, stateN: shared }),
    /outputs 'output' and 'stateN' are given the same pre-allocated tensor/);
  await session.release();
});

test('require() says to use import', () => {
  writeFileSync(join(tmp, 'req.cjs'), "try { require('glint-onnx'); } catch (e) { console.log(e.code || '', e.message); }\n");
  const out = execFileSync(process.execPath, [join(tmp, 'req.cjs')], { cwd: tmp, encoding: 'utf8' });
  assert.doesNotMatch(out, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
  assert.match(out, /glint-onnx is an ES module.*import/);
});
