#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang, ASan + UBSan) and fuzzes each one for a while on
# a working corpus seeded from fuzz/corpus/<target>. Exits non-zero when a target finds a crash, a leak, a
# timeout or an out-of-memory; the input that did it is saved under build/fuzz/findings/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
    cat <<'TXT'
Usage: scripts/fuzz.sh [--seconds N] [--jobs N] [TARGET...]

Targets (default: all): npy gguf safetensors hf_config tokenizer_json tokenizer_encode tokenizer_decode
chat_template

--seconds N   how long to fuzz each target (default 30; the robustness study ran 20 minutes or more each)
--jobs N      targets fuzzed at once (default 1)

Each target keeps what it learns in build/fuzz/corpus/<target> (seeded from fuzz/corpus/<target>), so
repeated runs go deeper. Inputs are capped at 64 KiB, each run at 10 s and 2 GiB; a run past either
limit counts as a finding. A finding is minimized into a regression test by hand: see docs/robustness.md.
TXT
}

seconds=30
jobs=1
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --seconds) seconds=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        -*) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 1 ;;
        *) targets+=("$1"); shift ;;
    esac
done
all=(npy gguf safetensors hf_config tokenizer_json tokenizer_encode tokenizer_decode chat_template)
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")
for t in "${targets[@]}"; do
    [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (expected one of: ${all[*]})" >&2; exit 1; }
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds '$seconds' must be a positive integer" >&2; exit 1; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --jobs '$jobs' must be a positive integer" >&2; exit 1; }

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

build=build/fuzz
mkdir -p "$build/findings"
fuzz_one() {
    local t=$1 corpus=$build/corpus/$1 log=$build/findings/$1.log
    mkdir -p "$corpus"
    # -artifact_prefix keeps crashing inputs; the leak check stays on (ASan's default).
    if "$build/fuzz/${t}_fuzz" "$corpus" "fuzz/corpus/$t" -max_total_time="$seconds" -max_len=65536 \
        -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/findings/$t-" >"$log" 2>&1; then
        echo "fuzz.sh: $t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs in ${seconds} s, no finding"
        return 0
    fi
    echo "fuzz.sh: $t: FINDING (log $log):" >&2
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5 >&2
    return 1
}

failed=0
for t in "${targets[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do
        wait -n || failed=1
    done
    fuzz_one "$t" &
done
while (($(jobs -rp | wc -l) > 0)); do
    wait -n || failed=1
done
exit "$failed"
