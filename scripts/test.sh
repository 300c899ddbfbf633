#!/usr/bin/env bash
# The test command (and CI's): sets up and builds (scripts/setup.sh), runs the unit and model tests, then
# the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (the asan preset), then each
# libFuzzer target briefly on its corpus (scripts/fuzz.sh). Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

sanitizers=1
fuzz=1
fuzz_seconds=30
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h | --help)
            cat <<'TXT'
Usage: scripts/test.sh [--no-sanitizers] [--no-fuzz] [--fuzz-seconds N]

Runs, in order: the release build's `unit` and `model` tests (the model tests skip until
scripts/fetch-model.sh has run); the `unit` tests built with ASan + UBSan (build/asan, leak checks on);
each fuzz target for N seconds (default 30). The two flags skip a stage when iterating locally; CI runs
all three.
TXT
            exit 0 ;;
        --no-sanitizers) sanitizers=0; shift ;;
        --no-fuzz) fuzz=0; shift ;;
        --fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
        *) echo "test.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
    esac
done

scripts/setup.sh
ctest --preset release -L "unit|model"

if ((sanitizers)); then
    echo "test.sh: the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer" >&2
    cmake --preset asan -DPython3_EXECUTABLE="$(command -v python3)" >/dev/null
    cmake --build --preset asan
    ctest --preset asan -L "unit|model"
fi

if ((fuzz)); then
    echo "test.sh: each fuzz target for $fuzz_seconds s" >&2
    scripts/fuzz.sh --seconds "$fuzz_seconds"
fi
