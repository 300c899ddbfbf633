#!/usr/bin/env bash
# Regenerates the llama.cpp reference fixtures: tests/fixtures/llamacpp/ (token ids, logits and greedy
# continuations of the default model, with scripts/reference/make_fixtures.py) and the SentencePiece
# tokenizer fixtures in tests/fixtures/tokenizer/ (llama.cpp's Llama vocabulary and its test strings, plus
# our cases, with scripts/reference/make_spm_fixtures.py). Deterministic for a given build and CPU.
set -euo pipefail

usage() {
    cat <<'TXT'
Usage: scripts/reference/make-fixtures.sh [--bin DIR] [--out DIR] [--only logits|spm]

  --bin DIR    llama.cpp bin dir holding adamas-dump-logits, adamas-tokenize-cases, llama-tokenize and
               llama-bench, inside the llama.cpp source tree (<llama.cpp>/build/bin)
               [what scripts/reference/build-llamacpp.sh prints; it is run when --bin is not given]
  --out DIR    fixture dir of the logits fixtures [tests/fixtures/llamacpp]
  --only WHAT  regenerate only the logits fixtures or only the SentencePiece tokenizer fixtures [both]

Logits: the model is the default one (scripts/fetch-model.sh), the corpus that of scripts/fetch-corpus.sh;
full dumps go to a temporary dir that is removed at the end.
SentencePiece: copies models/ggml-vocab-llama-spm.gguf and its .inp/.out test strings from the llama.cpp
source tree (sha256-checked) into tests/fixtures/tokenizer/ and writes llama_spm_cases.json there.
stderr: progress.
TXT
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=""
out="$repo/tests/fixtures/llamacpp"
only=""
while (($#)); do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --bin) [[ $# -ge 2 ]] || { echo "make-fixtures.sh: --bin needs a directory" >&2; exit 2; }; bin=$2; shift 2 ;;
        --out) [[ $# -ge 2 ]] || { echo "make-fixtures.sh: --out needs a directory" >&2; exit 2; }; out=$2; shift 2 ;;
        --only) [[ $# -ge 2 && ( $2 == logits || $2 == spm ) ]] || { echo "make-fixtures.sh: --only needs 'logits' or 'spm'" >&2; exit 2; }
                only=$2; shift 2 ;;
        *) echo "make-fixtures.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

[[ -n "$bin" ]] || bin=$("$here/build-llamacpp.sh")
for b in adamas-dump-logits adamas-tokenize-cases llama-tokenize; do
    [[ -x "$bin/$b" ]] || { echo "make-fixtures.sh: $bin/$b not found (run build-llamacpp.sh)" >&2; exit 1; }
done
src=$(cd "$bin/../.." && pwd)
commit=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)

if [[ "$only" != spm ]]; then
    model=$("$repo/scripts/fetch-model.sh")
    corpus=$("$repo/scripts/fetch-corpus.sh")
    version=$("$bin/llama-bench" --version 2>&1 | sed -n 1p)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    python3 "$here/make_fixtures.py" --dumper "$bin/adamas-dump-logits" --model "$model" --corpus "$corpus" \
        --out "$out" --work "$work" --llamacpp-version "$version" --llamacpp-commit "$commit" --threads 2
    du -ch "$out" | tail -n 1 >&2
fi

if [[ "$only" != logits ]]; then
    # llama.cpp's vocabulary-only GGUF of the Llama (SentencePiece) tokenizer, as of commit 0c1e570.
    readonly spm_vocab="ggml-vocab-llama-spm.gguf"
    readonly spm_sha256="16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69"
    tok="$repo/tests/fixtures/tokenizer"
    got=$(sha256sum "$src/models/$spm_vocab" | cut -d' ' -f1)
    [[ "$got" == "$spm_sha256" ]] || { echo "make-fixtures.sh: $src/models/$spm_vocab has sha256 $got, expected $spm_sha256" >&2; exit 1; }
    for f in "$spm_vocab" "$spm_vocab.inp" "$spm_vocab.out"; do cp "$src/models/$f" "$tok/$f"; done
    cp "$src/LICENSE" "$tok/LICENSE.llama.cpp"
    python3 "$here/make_spm_fixtures.py" --bin "$bin" --vocab "$tok/$spm_vocab" --out "$tok/llama_spm_cases.json" \
        --llamacpp-commit "$commit"
fi
