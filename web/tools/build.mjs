// Assembles the npm package in web/dist from the sources in web/src and the
// Emscripten output of the `web` CMake preset (glint.mjs + glint.wasm, and the
// threaded build glint-threaded.mjs + .wasm + .worker.js):
//
//   node tools/build.mjs [--wasm-dir DIR]     (default ../build/web/bindings/web)
//
// Also copies the repository's LICENSE into web/ (npm packs it from there).
// The JavaScript goes in without its comments where none is for bundlers
// (web/src has them): the Emscripten glue of glint.mjs is linked at -O1,
// which leaves it unminified (see bindings/web/CMakeLists.txt), a third of
// it comments. TypeScript's emitter (a devDependency already) drops them
// from a parsed file, so code and strings stay as they are.
// Prints each file's size (raw and gzip) and the size of the tarball `npm
// pack` makes, and fails when the tarball is over its budget
// (GLINT_PACKAGE_BUDGET_KIB, default below).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import ts from 'typescript';

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
copyFileSync(join(webDir, '..', 'LICENSE'), join(webDir, 'LICENSE'));

// Each JavaScript file of dist without comments, where that makes it smaller
// compressed (the threaded glue is minified already; re-printed it grows),
// except files with comments that bundlers read (index.mjs's dynamic import
// of the engine carries /* @vite-ignore */ /* webpackIgnore: true */: without
// them webpack bundles the threaded engine's loader and it never starts).
const BUNDLER_COMMENT = /\/\*\s*(?:[@#]__PURE__|@vite-ignore|webpack[A-Z]\w*\s*:|@license|@preserve)/;
for (const f of readdirSync(dist)) {
  if (!/\.(mjs|js)$/.test(f)) continue;
  const source = readFileSync(join(dist, f), 'utf8');
  if (BUNDLER_COMMENT.test(source)) continue;
  const stripped = ts.transpileModule(source, {
    fileName: 'bundle.js',
    compilerOptions: { removeComments: true, allowJs: true, target: ts.ScriptTarget.ESNext, module: ts.ModuleKind.ESNext },
  }).outputText;
  if (gzipSync(stripped, { level: 9 }).length < gzipSync(source, { level: 9 }).length) writeFileSync(join(dist, f), stripped);
}

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

// The tarball as npm would publish it. The budget: the two engines and
// their glue, with room for growth but not for a third engine (another
// ~1 MiB). It was 2048 KiB for 1.4 MiB of tarball (2.6 MiB of wasm each,
// ~0.65 MiB compressed); at 2.0 MiB (3.9 MiB of wasm each, ~0.97 MiB
// compressed) it became 2176: each engine feature adds a few KiB.
const BUDGET_KIB = Number(process.env.GLINT_PACKAGE_BUDGET_KIB ?? 2176);
const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'],
  { cwd: webDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
const kib = pack.size / 1024;
console.log(`package: ${pack.name}@${pack.version} ${pack.filename}: ${pack.entryCount} files, ` +
  `tarball ${kib.toFixed(1)} KiB (budget ${BUDGET_KIB} KiB), unpacked ${(pack.unpackedSize / 1024).toFixed(1)} KiB`);
if (!pack.files.some((f) => f.path === 'LICENSE')) {
  console.error('build: the tarball has no LICENSE');
  process.exit(1);
}
if (kib > BUDGET_KIB) {
  console.error(`build: the tarball (${kib.toFixed(1)} KiB) is over its budget of ${BUDGET_KIB} KiB (GLINT_PACKAGE_BUDGET_KIB)`);
  process.exit(1);
}
