#!/usr/bin/env bash
# Regenerates tests/fixtures/llamacpp/ (token ids, logits and greedy continuations of the default model as
# computed by llama.cpp) with scripts/reference/make_fixtures.py. Deterministic for a given build and CPU.
set -euo pipefail

usage() {
    cat <<'TXT'
Usage: scripts/reference/make-fixtures.sh [--bin DIR] [--out DIR]

  --bin DIR   llama.cpp bin dir holding adamas-dump-logits and llama-bench
              [what scripts/reference/build-llamacpp.sh prints; it is run when --bin is not given]
  --out DIR   fixture dir [tests/fixtures/llamacpp]

The model is the default one (scripts/fetch-model.sh), the corpus that of scripts/fetch-corpus.sh.
Full dumps go to a temporary dir that is removed at the end. stderr: progress.
TXT
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=""
out="$repo/tests/fixtures/llamacpp"
while (($#)); do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --bin) [[ $# -ge 2 ]] || { echo "make-fixtures.sh: --bin needs a directory" >&2; exit 2; }; bin=$2; shift 2 ;;
        --out) [[ $# -ge 2 ]] || { echo "make-fixtures.sh: --out needs a directory" >&2; exit 2; }; out=$2; shift 2 ;;
        *) echo "make-fixtures.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

[[ -n "$bin" ]] || bin=$("$here/build-llamacpp.sh")
[[ -x "$bin/adamas-dump-logits" ]] || { echo "make-fixtures.sh: $bin/adamas-dump-logits not found (run build-llamacpp.sh)" >&2; exit 1; }
model=$("$repo/scripts/fetch-model.sh")
corpus=$("$repo/scripts/fetch-corpus.sh")
version=$("$bin/llama-bench" --version 2>&1 | sed -n 1p)
commit=$(git -C "$bin/../.." rev-parse HEAD 2>/dev/null || echo unknown)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_fixtures.py" --dumper "$bin/adamas-dump-logits" --model "$model" --corpus "$corpus" \
    --out "$out" --work "$work" --llamacpp-version "$version" --llamacpp-commit "$commit" --threads 2
du -ch "$out" | tail -n 1 >&2
