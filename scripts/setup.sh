#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine and builds the release preset. Idempotent: installs only what is
# missing (apt-get update only then), and re-running just rebuilds. Installing needs root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(cmake ninja-build g++ pkg-config libhwy-dev libcli11-dev nlohmann-json3-dev libfmt-dev libpcre2-dev libopenblas-dev libgtest-dev googletest
          libbenchmark-dev python3
          # The fuzz build (clang with libFuzzer) and symbolized sanitizer reports.
          clang libclang-rt-dev llvm)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done

# Runs a command as root: directly when we are root, else through sudo when there is one.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        echo "setup.sh: '$*' needs root (run this script as root)" >&2
        exit 1
    fi
}

if ((${#missing[@]} > 0)); then
    echo "setup.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update
    as_root apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The NumPy reference test runs with the python3 on PATH, so that is the one that needs numpy.
if ! python3 -c 'import numpy' 2>/dev/null; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip
    fi
    echo "setup.sh: installing numpy for $(command -v python3)" >&2
    # Debian's own python3 refuses plain pip installs (PEP 668); a venv or pyenv python accepts them.
    python3 -m pip install --quiet numpy 2>/dev/null || python3 -m pip install --quiet --break-system-packages numpy
fi

# Pin CMake's Python to the python3 on PATH, the one that has numpy.
cmake --preset release -DPython3_EXECUTABLE="$(command -v python3)"
cmake --build --preset release
