#!/usr/bin/env bash
# Sets up and builds (scripts/setup.sh), then runs the unit tests; exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
ctest --preset release -L "unit|model"
