// Assembles the npm package in web/dist from the sources in web/src and the
// Emscripten output of the `web` CMake preset (glint.mjs + glint.wasm, and the
// threaded build glint-threaded.mjs + .wasm + .worker.js):
//
//   node tools/build.mjs [--wasm-dir DIR]     (default ../build/web/bindings/web)
//
// Prints the package size (raw and gzip), the figure the README quotes.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const i = args.indexOf('--wasm-dir');
const wasmDir = resolve(i >= 0 ? args[i + 1] : join(webDir, '..', 'build', 'web', 'bindings', 'web'));
const dist = join(webDir, 'dist');

const WASM_FILES = ['glint.mjs', 'glint.wasm', 'glint-threaded.mjs', 'glint-threaded.wasm', 'glint-threaded.worker.js'];
for (const f of WASM_FILES) {
  if (!existsSync(join(wasmDir, f))) {
    console.error(`build: ${join(wasmDir, f)} is missing: build the web preset first (make web)`);
    process.exit(1);
  }
}
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
for (const f of WASM_FILES) copyFileSync(join(wasmDir, f), join(dist, f));
for (const f of readdirSync(join(webDir, 'src'))) copyFileSync(join(webDir, 'src', f), join(dist, f));

let raw = 0, gz = 0;
const rows = [];
for (const f of readdirSync(dist).sort()) {
  if (f.endsWith('.d.ts')) continue;
  const bytes = readFileSync(join(dist, f));
  const g = gzipSync(bytes, { level: 9 }).length;
  raw += bytes.length; gz += g;
  rows.push(`  ${f.padEnd(26)} ${(bytes.length / 1024).toFixed(1).padStart(8)} KiB  gzip ${(g / 1024).toFixed(1).padStart(7)} KiB`);
}
console.log(`build: web/dist (from ${wasmDir})`);
console.log(rows.join('\n'));
console.log(`  ${'total'.padEnd(26)} ${(raw / 1024).toFixed(1).padStart(8)} KiB  gzip ${(gz / 1024).toFixed(1).padStart(7)} KiB`);
