#!/usr/bin/env bash
# Builds protobuf-lite for WebAssembly (Emscripten) from Debian's own source
# package, the same version as Debian's protoc, and installs it into a cache
# outside the source tree so that later builds (and CI on the same machine)
# reuse it:
#
#   bash tools/build-protobuf-wasm.sh [PREFIX]    # default ~/.cache/glint/protobuf-wasm
#
# The source comes from `apt-get source` through a private deb-src list with
# its own Dir::State::Lists: the system's sources.list is never touched.
# Quick (no work) when PREFIX already holds a build of the right version.
#
# Two libraries: lib/libprotobuf-lite.a for the single-threaded glint.wasm and
# lib/libprotobuf-lite-mt.a (compiled with -pthread: atomics + bulk memory,
# which a shared-memory link requires of every object) for glint-threaded.wasm.
set -euo pipefail

PREFIX=${1:-${GLINT_PROTOBUF_WASM_PREFIX:-$HOME/.cache/glint/protobuf-wasm}}
CACHE_ROOT=$(dirname "$PREFIX")
WORK="$CACHE_ROOT/protobuf-wasm-work"
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}

log() { printf 'protobuf-wasm: %s\n' "$*"; }

# The version of Debian's protoc; the wasm library must match it exactly.
mkdir -p "$CACHE_ROOT"
# One build at a time per cache (a developer and CI may share the machine).
exec 9>"$CACHE_ROOT/.protobuf-wasm.lock"
flock 9

PROTOC_VERSION=$(dpkg-query -W -f='${Version}' protobuf-compiler 2>/dev/null || true)
[[ -n "$PROTOC_VERSION" ]] || { log "error: protobuf-compiler is not installed"; exit 1; }
STAMP="$PREFIX/.glint-built-from"
if [[ -f "$PREFIX/lib/libprotobuf-lite.a" && -f "$PREFIX/lib/libprotobuf-lite-mt.a" && -f "$STAMP" && "$(cat "$STAMP")" == "$PROTOC_VERSION" ]]; then
  log "cached at $PREFIX (protobuf $PROTOC_VERSION)"
  exit 0
fi

command -v emcmake >/dev/null || { log "error: emcmake not found (apt-get install emscripten)"; exit 1; }
command -v dpkg-source >/dev/null || { log "error: dpkg-source not found (apt-get install dpkg-dev)"; exit 1; }

log "building protobuf-lite $PROTOC_VERSION for wasm into $PREFIX"
rm -rf "$WORK"
mkdir -p "$WORK/lists/partial" "$WORK/src"

# A private deb-src list mirroring the system's Debian suites.
cat >"$WORK/sources.list" <<'EOF'
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian bookworm-updates main
deb-src http://deb.debian.org/debian-security bookworm-security main
EOF
APT_OPTS=(-o "Dir::Etc::SourceList=$WORK/sources.list" -o "Dir::Etc::SourceParts=-"
          -o "Dir::State::Lists=$WORK/lists" -o "APT::Sandbox::User=root" -qq)
apt-get "${APT_OPTS[@]}" update
(cd "$WORK/src" && apt-get "${APT_OPTS[@]}" source "protobuf=$PROTOC_VERSION" >"$WORK/source.log")
SRC=$(find "$WORK/src" -mindepth 1 -maxdepth 1 -type d -name 'protobuf-*' | head -1)
[[ -n "$SRC" ]] || { log "error: apt-get source produced no protobuf-* folder"; exit 1; }

# protobuf 3.21 keeps its CMake project in cmake/ (top-level CMakeLists.txt in newer releases).
CMAKE_SRC="$SRC"
[[ -f "$SRC/CMakeLists.txt" ]] || CMAKE_SRC="$SRC/cmake"

build_variant() {  # DIR FLAGS
  emcmake cmake -S "$CMAKE_SRC" -B "$WORK/$1" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -Dprotobuf_BUILD_TESTS=OFF -Dprotobuf_BUILD_PROTOC_BINARIES=OFF \
    -Dprotobuf_BUILD_SHARED_LIBS=OFF -Dprotobuf_WITH_ZLIB=OFF \
    -DCMAKE_CXX_FLAGS="$2" -DCMAKE_C_FLAGS="$2" >"$WORK/configure-$1.log"
  cmake --build "$WORK/$1" --target libprotobuf-lite -j"$(nproc 2>/dev/null || echo 2)" >"$WORK/build-$1.log"
}
build_variant build "-msimd128"
build_variant build-mt "-msimd128 -pthread"

# Install the library and the headers by hand: `make install` would also want
# the full libprotobuf target.
rm -rf "$PREFIX"
mkdir -p "$PREFIX/lib" "$PREFIX/include"
cp "$WORK/build/libprotobuf-lite.a" "$PREFIX/lib/"
cp "$WORK/build-mt/libprotobuf-lite.a" "$PREFIX/lib/libprotobuf-lite-mt.a"
(cd "$SRC/src" && find google \( -name '*.h' -o -name '*.inc' \) -exec cp --parents -t "$PREFIX/include/" {} +)
printf '%s' "$PROTOC_VERSION" >"$STAMP"
rm -rf "$WORK"
log "done: $PREFIX/lib/libprotobuf-lite.a, $PREFIX/lib/libprotobuf-lite-mt.a"
