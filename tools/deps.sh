#!/usr/bin/env bash
# Installs the Debian packages glint needs to build and test natively.
# Idempotent: asks dpkg first and touches apt only when something is missing,
# so a second run takes well under a second.
#
#   bash tools/deps.sh            # native build + tests
#   GLINT_DEPS_WEB=1 bash tools/deps.sh   # also the web toolchain (see below)
#   GLINT_DEPS_BENCH=1 bash tools/deps.sh # also what the benchmark needs (see below)
#   GLINT_DEPS_ZOO=1 bash tools/deps.sh   # also what the model zoo's references need (see below)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# --- native build, unit/model tests ------------------------------------------
# libgl1-mesa-dri ships swrast_dri.so (llvmpipe), which EGL's surfaceless
# platform loads when there is no GPU; libegl-mesa0 is Mesa's EGL vendor library.
NATIVE_PACKAGES=(
  build-essential cmake pkg-config
  protobuf-compiler libprotobuf-dev
  libonnx-dev libonnx-testdata python3-onnx python3-numpy
  libglm-dev catch2 libstb-dev nlohmann-json3-dev
  libegl-dev libgles-dev libegl-mesa0 libgl1-mesa-dri
  clang libclang-rt-14-dev  # the fuzz preset: clang with libFuzzer and the sanitizer runtimes
)

# --- web build and browser tests (GLINT_DEPS_WEB=1) ---------------------------
# emscripten: the wasm build (Debian's 3.1.6; run it with NODE_PATH=/usr/share/nodejs);
# dpkg-dev: `apt-get source protobuf` for tools/build-protobuf-wasm.sh;
# chromium: the browser the tests drive (never a downloaded one).
WEB_PACKAGES=(emscripten dpkg-dev chromium)
# npm packages, pinned in web/package.json + web/package-lock.json and
# installed with `npm ci` into web/node_modules: playwright-core drives
# Debian's Chromium; onnxruntime-web is the reference for the API-compatibility test;
# typescript checks the package's types (CTest web-types); typedoc makes the API docs (make docs).
# The consumer-app test's Vite, webpack and esbuild are pinned in web/test/consumer/package-lock.json
# and installed by the test itself into build/web-consumer (once per lock file).
NPM_PACKAGES=(playwright-core onnxruntime-web typescript typedoc)

# --- benchmark (GLINT_DEPS_BENCH=1) ------------------------------------------
# tools/make-bench-models.py exports MobileNetV2 from torchvision (random
# weights, fixed seed); Debian's torch 1.13 and torchvision 0.14 are enough.
BENCH_PACKAGES=(python3-torch python3-torchvision)
# The engines glint is measured against, pinned in web/bench/package.json +
# package-lock.json and installed with `npm ci` into web/bench/node_modules.
BENCH_NPM_PACKAGES=(@tensorflow/tfjs @tensorflow/tfjs-backend-wasm onnxruntime-web onnxjs)

# --- model zoo (GLINT_DEPS_ZOO=1) --------------------------------------------
# tools/zoo/make_zoo.py exports models from torchvision / torch (the Debian
# packages above) and computes the references of the others with
# onnxruntime-node, pinned in tools/zoo/package-lock.json (its install script,
# which would download a GPU provider, does not run: the CPU library is in the
# package).
ZOO_NPM_PACKAGES=(onnxruntime-node)

log() { printf 'deps: %s\n' "$*"; }

# Prints the packages among "$@" that are not fully installed.
missing_packages() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ "$status" == "ii"* ]] || printf '%s\n' "$p"
  done
}

install_debian() {
  local -a missing
  mapfile -t missing < <(missing_packages "$@")
  if ((${#missing[@]} == 0)); then
    log "all ${#} Debian packages present"
    return 0
  fi
  log "installing ${#missing[@]} Debian package(s): ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { log "error: not root and no sudo; install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Verify: apt-get can succeed and still leave a package half-configured.
  mapfile -t missing < <(missing_packages "$@")
  if ((${#missing[@]} > 0)); then
    log "error: still missing after install: ${missing[*]}"
    exit 1
  fi
  log "installed"
}

# npm ci in "$ROOT/$1" only when its package-lock.json changed since the last
# install there (the lock file's sha256 is stamped into node_modules);
# "${@:2}" names the packages for the log.
npm_ci_if_changed() {
  local dir="$ROOT/$1" stamp want
  stamp="$dir/node_modules/.glint-lock-sha256"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "npm packages present in $1/ (${*:2})"
  else
    log "npm ci in $1/ (${*:2})"
    # --ignore-scripts: nothing may download a browser or a binary.
    (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    printf '%s' "$want" >"$stamp"
  fi
}

install_debian "${NATIVE_PACKAGES[@]}"

if [[ "${GLINT_DEPS_WEB:-0}" == 1 ]]; then
  web_pkgs=("${WEB_PACKAGES[@]}")
  # Node and npm: any install will do (Debian's, or NodeSource's node 20 that
  # some machines carry); only when neither is there, Debian's.
  command -v node >/dev/null || web_pkgs+=(nodejs)
  command -v npm >/dev/null || web_pkgs+=(npm)
  install_debian "${web_pkgs[@]}"
  npm_ci_if_changed web "${NPM_PACKAGES[@]}"
fi

if [[ "${GLINT_DEPS_BENCH:-0}" == 1 ]]; then
  install_debian "${BENCH_PACKAGES[@]}"
  npm_ci_if_changed web/bench "${BENCH_NPM_PACKAGES[@]}"
fi

if [[ "${GLINT_DEPS_ZOO:-0}" == 1 ]]; then
  install_debian "${BENCH_PACKAGES[@]}"
  command -v npm >/dev/null || install_debian nodejs npm
  ONNXRUNTIME_NODE_INSTALL=skip npm_ci_if_changed tools/zoo "${ZOO_NPM_PACKAGES[@]}"
fi
