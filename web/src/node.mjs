// The package's entry under Node (package.json "exports" condition "node"):
// the browser entry (index.mjs) with the files read from disk instead of
// fetched. The wasm provider runs here (one thread: glint-threaded needs a
// browser's workers); there is no WebGL, so 'auto' and ['webgl', 'wasm'] run
// on wasm.
//
//   import * as glint from 'glint-onnx';
//   const session = await glint.InferenceSession.create('model.onnx');   // a path, a file: URL,
//   // an http(s) URL, or the bytes (Buffer, Uint8Array, ArrayBuffer); a model
//   // file's external data is read from beside it
import { readFile, realpath } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceSession, env } from './index.mjs';
import { externalDataLocations, externalDataName, relativeFileName } from './model-patch.mjs';

export * from './index.mjs';
export { default } from './index.mjs';

const browserCreate = InferenceSession.create;

// A string that is not an http(s)/data/blob URL is a file path (or a file: URL).
function localFile(source) {
  if (typeof URL !== 'undefined' && source instanceof URL) return source.protocol === 'file:' ? fileURLToPath(source) : null;
  if (typeof source !== 'string') return null;
  if (/^file:/i.test(source)) return fileURLToPath(source);
  if (/^(https?|data|blob):/i.test(source)) return null;
  return source;
}

async function readModel(path, onProgress, what = 'the model') {
  let bytes;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`failed to read ${what} from ${path}: ${e && e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (onProgress) onProgress({ loaded: u8.length, total: u8.length, done: true });
  return u8;
}

// Where glint.wasm is on disk: env.wasm.wasmPaths (a directory prefix or a
// {'glint.wasm': path} map; paths or file: URLs), else beside this file.
// null for an http(s) location, which index.mjs fetches.
function wasmFile() {
  const p = env.wasm.wasmPaths;
  const where = typeof p === 'string' ? p + 'glint.wasm' : p && typeof p === 'object' && p['glint.wasm'] ? String(p['glint.wasm']) : null;
  if (where === null) return new URL('./glint.wasm', import.meta.url);
  return localFile(where);
}

InferenceSession.create = async function create(source, ...args) {
  let rest = args;
  // glint.wasm read from disk, unless the caller gave its bytes.
  if (env.wasm.wasmBinary === undefined) {
    const file = wasmFile();
    if (file !== null) {
      try {
        env.wasm.wasmBinary = await readFile(file);
      } catch (e) {
        throw new Error(`glint: could not read glint.wasm from ${file}: ${e && e.code === 'ENOENT' ? 'no such file' : e.message}`);
      }
    }
  }
  // externalData files given as paths (or file: URLs) are read from disk too.
  const at = rest.findIndex((x) => x && typeof x === 'object' && !ArrayBuffer.isView(x));
  const options = at >= 0 ? rest[at] : {};
  if (Array.isArray(options.externalData)) {
    const files = await Promise.all(options.externalData.map(async (entry) => {
      const whole = typeof entry === 'string' || entry instanceof URL;
      const data = whole ? entry : entry?.data;
      const file = typeof data === 'string' || data instanceof URL ? localFile(data) : null;
      // Entries index.mjs will refuse (no path) or fetch (http) go as given.
      if (file === null || (!whole && typeof entry.path !== 'string')) return entry;
      const path = whole ? externalDataName(String(entry)) : entry.path;
      return { path, data: await readModel(file, undefined, `external data '${path}'`) };
    }));
    rest = [...rest];
    rest[at] = { ...options, externalData: files };
  }
  const path = localFile(source);
  if (path === null) return browserCreate.call(this, source, ...rest);
  const bytes = await readModel(path, options.onProgress);
  // A model file's external data is read from beside it, as natively (and
  // as onnxruntime-node does), unless externalData says otherwise.
  if (options.externalData == null) {
    // Locations the engine refuses (absolute, "..", no file) are left for it to name.
    const beside = externalDataLocations(bytes).filter(relativeFileName);
    if (beside.length) {
      const dir = dirname(path);
      const root = await realpath(dir);
      const externalData = await Promise.all(beside.map(async (l) => {
        const file = join(dir, l);
        // As natively: a link in the folder must not lead out of it.
        const real = await realpath(file).catch(() => join(root, l));  // missing: readModel says so
        if (!real.startsWith(root + sep)) {
          throw new Error(`glint: external data '${l}' leads out of the model's folder (${dir}) through a link`);
        }
        return { path: l, data: await readModel(file, undefined, `external data '${l}'`) };
      }));
      rest = at >= 0 ? rest.map((x, i) => (i === at ? { ...options, externalData } : x)) : [{ externalData }];
    }
  }
  return browserCreate.call(this, bytes, ...rest);
};
