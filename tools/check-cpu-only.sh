#!/usr/bin/env bash
# The CPU-only engine (GLINT_WITH_GL=OFF) builds, links no EGL or GLES, runs
# MNIST on the cpu backend against its expected output, and refuses a GPU
# backend with a message that says why. Run by CTest (cpu-only-build).
#   bash tools/check-cpu-only.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGLINT_WITH_GL=OFF -DGLINT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target glint >/dev/null
if ldd "$build/glint" | grep -iE 'libEGL|libGLES'; then
  echo "cpu-only build links GL (above)"; exit 1
fi
data=$src/models/data/mnist
"$build/glint" run "$data/model.onnx" --backend cpu --atol 1e-4 --rtol 0 \
  --input "$data/test_data_set_0/input_0.pb" --expect "$data/test_data_set_0/output_0.pb"
if out=$("$build/glint" run "$data/model.onnx" --input "$data/test_data_set_0/input_0.pb" 2>&1); then
  echo "the default backend ran without GL: $out"; exit 1
fi
grep -q "built without GL" <<<"$out" || { echo "unexpected message: $out"; exit 1; }
echo "cpu-only build: no GL linked, MNIST matches on cpu, the GPU backend says: ${out#*: }"
