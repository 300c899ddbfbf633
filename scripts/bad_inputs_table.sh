#!/usr/bin/env bash
# Regenerates the table of bad inputs in docs/robustness.md (between its bad-inputs markers) from a run
# of the BadInputsTest suite, which builds each bad input, runs the CLI on it and checks the outcome.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tests=build/release/tests/adamas_tests
[[ -x $tests ]] || { echo "bad_inputs_table.sh: $tests is not built (run scripts/setup.sh)" >&2; exit 1; }
table=$(mktemp)
trap 'rm -f "$table"' EXIT
ADAMAS_BAD_INPUTS_TABLE=$table "$tests" --gtest_filter='BadInputsTest.*' >/dev/null
python3 - "$table" docs/robustness.md <<'PY'
import re, sys
rows = open(sys.argv[1]).read()
doc_path = sys.argv[2]
doc = open(doc_path).read()
begin, end = "<!-- bad-inputs:begin -->", "<!-- bad-inputs:end -->"
if begin not in doc or end not in doc:
    sys.exit(f"bad_inputs_table.sh: {doc_path} has no {begin} ... {end} block")
# The scratch directory of each run is elided from the paths.
rows = re.sub(r"/tmp/adamas-[0-9]+-BadInputsTest-[A-Za-z]+/", "", rows)
table = "| input | what is wrong | message (exit code 2) |\n|---|---|---|\n" + rows
head, rest = doc.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc_path, "w").write(head + begin + "\n" + table + end + tail)
print(f"bad_inputs_table.sh: {rows.count(chr(10))} rows written to {doc_path}")
PY
