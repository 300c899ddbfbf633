#!/usr/bin/env bash
# Builds the independent reference implementation, llama.cpp (from the PyPI sdist of llama-cpp-python,
# which vendors it), CPU only, plus our logits dumper (scripts/reference/dump_logits.cpp). Idempotent.
set -euo pipefail

usage() {
    cat <<'TXT'
Usage: scripts/reference/build-llamacpp.sh [--src DIR] [--jobs N]

Downloads the sdist of llama-cpp-python==0.3.36 with 'pip download --no-deps --no-binary :all:', checks
its sha256, unpacks it into ${ADAMAS_CACHE:-$HOME/.cache/adamas}/llamacpp/ and builds its vendored
llama.cpp (Release, CPU only, GGML_NATIVE=ON, no curl, no tests, no server) in <llama.cpp>/build:
  llama-perplexity, llama-bench, llama-tokenize and libllama,
then compiles our programs on llama.h against them: scripts/reference/dump_logits.cpp as
<llama.cpp>/build/bin/adamas-dump-logits and scripts/reference/tokenize_cases.cpp as
<llama.cpp>/build/bin/adamas-tokenize-cases.
Steps whose output is already there are skipped (an existing build dir is reused, not reconfigured).

  --src DIR   use an already unpacked llama.cpp source tree (e.g. .../vendor/llama.cpp) and its build/
              dir instead of the cache
  --jobs N    parallel build jobs [2]

stdout: the directory holding the binaries. stderr: progress, llama.cpp's version and commit.
Exit status: 0 on success, 1 on failure, 2 on a usage error.
TXT
}

readonly package="llama-cpp-python==0.3.36"
readonly sdist_name="llama_cpp_python-0.3.36"
readonly sdist_sha256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
readonly cache="${ADAMAS_CACHE:-$HOME/.cache/adamas}/llamacpp"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

src=""
jobs=2
while (($#)); do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --src) [[ $# -ge 2 ]] || { echo "build-llamacpp.sh: --src needs a directory" >&2; exit 2; }; src=$2; shift 2 ;;
        --jobs) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { echo "build-llamacpp.sh: --jobs needs a positive integer" >&2; exit 2; }
                jobs=$2; shift 2 ;;
        *) echo "build-llamacpp.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

log() { echo "build-llamacpp.sh: $*" >&2; }
die() { log "$*"; exit 1; }
for tool in cmake g++ python3; do command -v "$tool" >/dev/null || die "'$tool' is needed and not on PATH"; done

# 1. Source tree: given, or the cached sdist (downloaded and verified when missing).
if [[ -z "$src" ]]; then
    src="$cache/$sdist_name/vendor/llama.cpp"
    if [[ ! -f "$src/include/llama.h" ]]; then
        mkdir -p "$cache"
        tarball="$cache/$sdist_name.tar.gz"
        if ! { [[ -f "$tarball" ]] && echo "$sdist_sha256  $tarball" | sha256sum --check --status; }; then
            log "downloading the sdist of $package (~50 MB)"
            work=$(mktemp -d "$cache/.fetch.XXXXXX")
            trap 'rm -rf "$work"' EXIT
            python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$work" "$package" \
                || die "pip download of $package failed"
            got=$(find "$work" -maxdepth 1 -name "$sdist_name.tar.gz" | head -n 1)
            [[ -n "$got" ]] || die "pip produced no $sdist_name.tar.gz"
            echo "$sdist_sha256  $got" | sha256sum --check --status \
                || die "$got has sha256 $(sha256sum "$got" | cut -d' ' -f1), expected $sdist_sha256"
            mv "$got" "$tarball"
        fi
        log "unpacking $tarball"
        rm -rf "${cache:?}/$sdist_name.partial"
        mkdir "$cache/$sdist_name.partial"
        tar -xzf "$tarball" -C "$cache/$sdist_name.partial"
        rm -rf "${cache:?}/$sdist_name"
        mv "$cache/$sdist_name.partial/$sdist_name" "$cache/$sdist_name"
        rmdir "$cache/$sdist_name.partial"
    fi
fi
[[ -f "$src/include/llama.h" ]] || die "$src: no include/llama.h (expected a llama.cpp source tree)"
src=$(cd "$src" && pwd)
build="$src/build"

# The sdist carries llama.cpp's git metadata as a submodule of llama-cpp-python (.git is a gitfile).
version=$(sed -n 's/^set(LLAMA_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\))$/\2/p' "$src/CMakeLists.txt" | paste -sd.)
commit=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
log "llama.cpp $version, commit $commit (from $sdist_name)"

# 2. Configure once; an existing build dir is reused as it is.
if [[ ! -f "$build/CMakeCache.txt" ]]; then
    generator=()
    command -v ninja >/dev/null && generator=(-G Ninja)
    log "configuring $build"
    cmake -S "$src" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
        -DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF \
        -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF >&2
fi

# 3. The tools we use and the library the dumper links against.
log "building llama-perplexity llama-bench llama-tokenize llama (-j $jobs)"
cmake --build "$build" --config Release -j "$jobs" --target llama-perplexity llama-bench llama-tokenize llama >&2

bin="$build/bin"
[[ -f "$bin/libllama.so" ]] || die "$bin/libllama.so is missing after the build (BUILD_SHARED_LIBS off in $build?)"

# 4. Our programs; each rebuilt when its source is newer than the binary or libllama.
for program in dump_logits:adamas-dump-logits tokenize_cases:adamas-tokenize-cases; do
    source="$here/${program%%:*}.cpp"
    binary="$bin/${program##*:}"
    if [[ ! -x "$binary" || "$source" -nt "$binary" || "$bin/libllama.so" -nt "$binary" ]]; then
        log "compiling $binary"
        g++ -std=c++20 -O2 -Wall -Wextra -I"$src/include" -I"$src/ggml/include" "$source" -o "$binary" \
            -L"$bin" -lllama -lggml -lggml-base -Wl,-rpath,"$bin"
    fi
done

for b in llama-perplexity llama-bench llama-tokenize adamas-dump-logits adamas-tokenize-cases; do
    [[ -x "$bin/$b" ]] || die "$bin/$b was not built"
    log "  $bin/$b"
done
echo "$bin"
