#!/usr/bin/env bash
# The accuracy study (docs/accuracy.md): perplexity, pass-key retrieval and selection quality of dense,
# oracle, adamas, quest and streaming on the default model, plus the experiments the defaults were chosen
# from. Every run writes one JSON file; a file that exists is not run again, so an interrupted study
# resumes where it stopped. scripts/accuracy_report.py turns the files into tables and plots.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
    cat <<'TXT'
Usage: scripts/accuracy.sh [--gqa MODE] [--out DIR] [--adamas BINARY] [--jobs N] [--only REGEX] [--quick]
                           [STAGE...]

Stages (default: all, in this order):
  experiments  adamas variants at 8K context, budgets 64 and 128, Austen: threshold (fixed τ = 10 as
               the paper, fixed τ = 1, τ per vector, τ per layer and KV head calibrated from the
               prompt), exact re-ranking, L1 against xor, the other GQA modes, sinks and recent
               windows, dense layers 0-3, 1-bit codes (sign bits: a threshold no coordinate reaches)
               and 3-bit codes
  perplexity   the main table: Austen at contexts 2K, 4K, 8K, 32K scored tokens per cell, dense,
               oracle, adamas, quest, streaming at budgets 16 to 1024
  passkey      pass-key retrieval, contexts 1K-8K x depths 0-100 %, 5 keys per cell, budgets 16-256
  selection    attention mass, oracle recall, next-token KL per layer; code bucket shares
  heldout      perplexity and pass key on the World English Bible (not used to choose the defaults);
               the oracle at budgets 64 and 128 only, no paper rows in the pass key
  report       docs/accuracy tables and plots (python3 scripts/accuracy_report.py; needs matplotlib)

--gqa MODE     the GQA mode of every run that does not set its own (default: pooled, the engine's
               default); per-head repeats the study as it ran before pooled became the default:
               --gqa per-head --out docs/accuracy/per-head/data (the paper's rows are per-head in both)
--out DIR      where the JSON files go (default: docs/accuracy/data; with --gqa per-head,
               docs/accuracy/per-head/data)
--adamas BIN   the adamas binary (default: build/release/adamas)
--jobs N       N runs at once, each on nproc/N threads (default 1: one run on every thread)
--only REGEX   only the runs whose name (the JSON file's, e.g. ppl-austen-8192-oracle-64) matches
--quick        a smoke run: one window per context and fewer cells (minutes, not hours)

The model is the default one (scripts/fetch-model.sh; $ADAMAS_MODEL instead when set), the texts those
of scripts/fetch-corpus.sh ($ADAMAS_CORPUS_DIR/{austen,web}.txt instead when set). On the 2-core
reference machine the whole study takes several hours; the numbers do not depend on the machine
beyond float rounding.
TXT
}

out=
gqa=pooled
adamas=build/release/adamas
quick=0
jobs=1
only=
stages=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --out) out=$2; shift 2 ;;
        --gqa) gqa=$2; shift 2 ;;
        --adamas) adamas=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --jobs) jobs=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        experiments | perplexity | passkey | selection | heldout | report) stages+=("$1"); shift ;;
        *) echo "accuracy.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
    esac
done
[[ ${#stages[@]} -eq 0 ]] && stages=(experiments perplexity passkey selection heldout report)
case "$gqa" in
    pooled) out=${out:-docs/accuracy/data} ;;
    per-head) out=${out:-docs/accuracy/per-head/data} ;;
    *) echo "accuracy.sh: --gqa '$gqa' must be pooled or per-head" >&2; exit 1 ;;
esac
if [[ ! -x $adamas ]]; then
    echo "accuracy.sh: $adamas is not built (run scripts/setup.sh, or pass --adamas)" >&2
    exit 1
fi
if ! [[ $jobs =~ ^[1-9][0-9]*$ ]]; then
    echo "accuracy.sh: --jobs '$jobs' must be a positive integer" >&2
    exit 1
fi
threads=0
((jobs > 1)) && threads=$(($(nproc) / jobs > 0 ? $(nproc) / jobs : 1))
corpus=${ADAMAS_CORPUS_DIR:-$(scripts/fetch-corpus.sh)}
[[ -n ${ADAMAS_MODEL:-} ]] || scripts/fetch-model.sh >/dev/null
austen=$corpus/austen.txt
web=$corpus/web.txt
mkdir -p "$out"

# OpenBLAS 0.3.21 runs AMD Zen 4 with its AVX2 kernels; its AVX-512 ones are a quarter faster for prefill.
if [[ -z ${OPENBLAS_CORETYPE:-} ]] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi

# run NAME SUBCOMMAND ARGS...: adamas SUBCOMMAND ARGS --json OUT/NAME.json (stdout in OUT/NAME.md,
# progress in OUT/NAME.log), unless that file exists. With --jobs N, up to N runs at once. ARGS get
# --gqa MODE unless they name a mode or run the paper's configuration (per-head).
failed=0
run() {
    local name=$1
    shift
    [[ " $* " == *" --gqa "* || " $* " == *" --paper "* ]] || set -- "$@" --gqa "$gqa"
    local file=$out/$name.json
    [[ -z $only || $name =~ $only ]] || return 0
    if [[ -s $file ]]; then
        echo "accuracy.sh: $name: done before ($file)" >&2
        return
    fi
    echo "accuracy.sh: $name: adamas $*" >&2
    if ((jobs == 1)); then
        run_one "$name" "$@" || failed=1
        return
    fi
    while (($(jobs -rp | wc -l) >= jobs)); do
        wait -n || failed=1
    done
    run_one "$name" "$@" --threads "$threads" &
}
run_one() {
    local name=$1 start=$SECONDS
    shift
    if ! "$adamas" "$@" --json "$out/$name.json" >"$out/$name.md" 2>"$out/$name.log"; then
        echo "accuracy.sh: $name failed: $(tail -c 300 "$out/$name.log")" >&2
        return 1
    fi
    echo "accuracy.sh: $name: $((SECONDS - start)) s" >&2
}

if ((quick)); then
    windows=1
    budgets_ppl=64,128
    budgets_oracle=$budgets_ppl
    budgets_passkey=64
    passkey_depth_groups=(0:100:50)
    passkey_keys=1
else
    windows=8 # 32K scored tokens at 8K, more at shorter contexts (the same text)
    budgets_ppl=16,32,64,128,256,512,1024
    budgets_oracle=$budgets_ppl
    budgets_passkey=16,32,64,128,256
    passkey_depth_groups=(0:20:10 30:50:10 60:80:10 90:100:10) # depths 0-100 % in steps of 10
    passkey_keys=5
fi
# Scored tokens at a context: whole windows (ctx/2 - 1 scored tokens each), as many as 8K windows would
# give: 32,760 tokens at every context in the full study.
tokens_at() { echo $(((windows * 8192 / $1) * ($1 / 2 - 1))); }

# The experiments share one setting, varied one option at a time: the threshold the study chose, with
# no recent window (the window was chosen after the other options, by the exp-recent-* rows).
chosen=(--tau-mode relative --tau 0.5)
base=("${chosen[@]}" --recent 0)
# "dFIRST-LAST": the run-name part of a group of depths FIRST:LAST:STEP.
depth_group_name() { local last=${1#*:}; echo "d${1%%:*}-${last%%:*}"; }

# Adamas alone on the prompts of passkey-austen-8192-d*, with OPTIONS:
# exp-passkey-austen-8192-dFIRST-LAST-SUFFIX.json.
passkey_experiment() { # SUFFIX OPTIONS...
    local suffix=$1 group
    shift
    for group in "${passkey_depth_groups[@]}"; do
        run "exp-passkey-austen-8192-$(depth_group_name "$group")-$suffix" passkey -f "$austen" \
            --contexts 8192 --depths "$group" --keys "$passkey_keys" --policies adamas "$@"
    done
}

experiments() {
    local ppl_8k=(perplexity -f "$austen" --ctx 8192 --max-tokens "$(tokens_at 8192)")
    local ppl=("${ppl_8k[@]}" --budgets 64,128)
    run exp-reference "${ppl[@]}" --policies dense,oracle
    run exp-tau-fixed-10 "${ppl[@]}" --policies adamas --tau-mode fixed --tau 10 --recent 0
    run exp-tau-fixed-1 "${ppl[@]}" --policies adamas --tau-mode fixed --tau 1 --recent 0
    run exp-tau-1bit "${ppl[@]}" --policies adamas --tau-mode fixed --tau 1e30 --recent 0
    for tau in 0.3 0.5 0.7 1.0; do
        run "exp-tau-relative-$tau" "${ppl[@]}" --policies adamas --tau-mode relative --tau "$tau" --recent 0
    done
    # One threshold per layer and KV head for the keys, from the prompt's first prefill pass.
    for tau in 0.5 0.7; do
        run "exp-tau-calibrated-$tau" "${ppl[@]}" --policies adamas --tau-mode calibrated --tau "$tau" --recent 0
    done
    for r in 2 4 8; do
        run "exp-rerank-$r" "${ppl[@]}" --policies adamas "${base[@]}" --rerank "$r"
    done
    # Re-ranking with the default recent window (the rows above have none).
    run exp-rerank-8-recent "${ppl[@]}" --policies adamas "${chosen[@]}" --rerank 8
    run exp-metric-xor "${ppl[@]}" --policies adamas "${base[@]}" --metric xor
    # Shared selects B tokens per KV head: a third of the K/V rows of per-head or pooled at B here.
    run exp-gqa-shared "${ppl[@]}" --policies adamas "${base[@]}" --gqa shared
    if [[ $gqa == per-head ]]; then
        # Per-head selects B tokens per query head (3B gathered K/V rows per KV head on this model,
        # some of them the same): at 3B, shared gathers as many rows as per-head at B. (Pooled at B
        # is shared at 3B: these rows led to the pooled default.)
        run exp-gqa-shared-3x "${ppl_8k[@]}" --budgets 192,384 --policies adamas "${base[@]}" --gqa shared
        # The same with the default recent window (B/4: 48 and 96), against the defaults' per-head rows.
        run exp-gqa-shared-3x-recent "${ppl_8k[@]}" --budgets 192,384 --policies adamas --gqa shared
        # And the oracle's bound for shared sets: the group's best 3B tokens by exact q·k.
        run exp-gqa-shared-3x-oracle "${ppl_8k[@]}" --budgets 192,384 --policies oracle --gqa shared
    else
        # The previous default, at equal K/V rows.
        run exp-gqa-per-head "${ppl[@]}" --policies adamas "${base[@]}" --gqa per-head
    fi
    run exp-sinks-4 "${ppl[@]}" --policies adamas "${base[@]}" --sinks 4
    # Pooled sets hold 3B tokens, so windows wider than B fit (96 is half the set at 64, a quarter at 128).
    local window windows=(8 16 32 64)
    [[ $gqa == pooled ]] && windows+=(96 128)
    for window in "${windows[@]}"; do
        run "exp-recent-$window" "${ppl[@]}" --policies adamas "${chosen[@]}" --recent "$window"
    done
    # 3-bit codes (eight buckets 0.35 RMS apart: the best spacing of `adamas selection` on one window),
    # alone and with the default recent window (against the main table's adamas row).
    run exp-code-bits-3 "${ppl[@]}" --policies adamas --tau-mode relative --recent 0 --code-bits 3 --tau 0.35
    run exp-code-bits-3-recent "${ppl[@]}" --policies adamas --tau-mode relative --code-bits 3 --tau 0.35
    # The pass key at 8K without the recent window: what the window costs retrieval. Also a window of
    # 8 tokens (B/8 at 64, B/16 at 128).
    for window in 0 8; do
        passkey_experiment "recent-$window" --budgets 64,128 --recent "$window"
    done
    if [[ $gqa == pooled ]]; then
        # A third of the pooled set (64 of 192, 128 of 384) against the default's quarter (the main
        # pass-key table's adamas rows): what the wider window the perplexity rows favour costs retrieval.
        passkey_experiment recent-64-b64 --budgets 64 --recent 64
        passkey_experiment recent-128-b128 --budgets 128 --recent 128
    fi
    # The pass key with shared selection at 3x the budget (pooled's, before it was the default).
    if [[ $gqa == per-head ]]; then
        passkey_experiment shared-3x --budgets 192,384 --gqa shared
    fi
    # A sampled tail (--tail): a quarter of the set drawn from the tokens the selection left out, each
    # weighted to stand for those like it, in proportion to exp(exact logit): among adamas's re-ranked
    # candidates (--rerank 8), and for the oracle, over every token (its bound: it reads every key).
    run exp-tail-rerank-8 "${ppl[@]}" --policies adamas "${chosen[@]}" --rerank 8 --tail 0.25 --tail-beta 1
    run exp-tail-oracle "${ppl[@]}" --policies oracle --tail 0.25 --tail-beta 1
    for layers in 0 1 3; do
        run "exp-dense-layers-$layers" "${ppl[@]}" --policies adamas "${base[@]}" --dense-layers "$layers"
        run "exp-dense-layers-$layers-oracle" "${ppl[@]}" --policies oracle --dense-layers "$layers"
    done
}

all_policies=dense,oracle,adamas,quest,streaming
# The paper's adamas (fixed τ = 10, codes alone) as one more row of each table.
paper=(--policies adamas --paper)

# One run per policy (and per budget for the oracle, whose exact scores cost as much as dense attention),
# so that --jobs spreads them; NAME-CTX-POLICY[-BUDGET].json. The report joins them.
perplexity_table() { # NAME-PREFIX TEXT CONTEXTS...
    local name=$1 text=$2 ctx policy budget
    shift 2
    for ctx in "$@"; do
        local ppl=(perplexity -f "$text" --ctx "$ctx" --max-tokens "$(tokens_at "$ctx")")
        for budget in ${budgets_oracle//,/ }; do
            run "$name-$ctx-oracle-$budget" "${ppl[@]}" --policies oracle --budgets "$budget"
        done
        run "$name-$ctx-dense" "${ppl[@]}" --policies dense
        for policy in adamas quest streaming; do
            run "$name-$ctx-$policy" "${ppl[@]}" --policies "$policy" --budgets "$budgets_ppl"
        done
        run "$name-$ctx-paper" "${ppl[@]}" --budgets "$budgets_ppl" "${paper[@]}"
    done
}

# One run per context and group of depths (each prompt is prefilled once for all the policies of its
# run; keys and haystacks are seeded by context, depth and key, so the split changes nothing):
# NAME-CTX-dFIRST-LAST[-paper].json. PAPER=0 leaves out the paper rows.
passkey_table() { # NAME-PREFIX TEXT PAPER CONTEXTS...
    local name=$1 text=$2 with_paper=$3 ctx group
    shift 3
    for ctx in "$@"; do
        for group in "${passkey_depth_groups[@]}"; do
            local part
            part=$(depth_group_name "$group")
            local pk=(passkey -f "$text" --contexts "$ctx" --depths "$group" --keys "$passkey_keys"
                --budgets "$budgets_passkey")
            run "$name-$ctx-$part" "${pk[@]}" --policies "$all_policies"
            # An `if`, not `&&`: a false test as the function's last status would end the script (set -e)
            # before it waits for the runs still in flight.
            if ((with_paper)); then
                run "$name-$ctx-$part-paper" "${pk[@]}" "${paper[@]}"
            fi
        done
    done
}

wait_all() {
    while (($(jobs -rp | wc -l) > 0)); do
        wait -n || failed=1
    done
}

for stage in "${stages[@]}"; do
    echo "accuracy.sh: stage $stage" >&2
    case "$stage" in
        experiments) experiments ;;
        perplexity) perplexity_table ppl-austen "$austen" 8192 4096 2048 ;;
        passkey) passkey_table passkey-austen "$austen" 1 8192 4096 2048 1024 ;;
        selection)
            # One 8K window, 32 sampled steps: 28 layers x 9 heads x 32 = 8,064 head-steps per cell.
            local_sel=(selection -f "$austen" --ctx 8192 --windows 1 --samples 32 --budgets 64,128,256 --per-layer)
            run selection-austen-8192 "${local_sel[@]}" --policies oracle,adamas,quest,streaming
            run selection-austen-8192-paper "${local_sel[@]}" "${paper[@]}"
            # The code variants of the experiments, adamas alone without a recent window.
            local_exp=(selection -f "$austen" --ctx 8192 --windows 1 --samples 32 --budgets 64,128,256
                --policies adamas --recent 0)
            run selection-exp-tau-relative-0.5 "${local_exp[@]}" --tau-mode relative --tau 0.5
            run selection-exp-code-bits-3 "${local_exp[@]}" --code-bits 3 --tau 0.35
            run selection-exp-code-bits-3-tau-0.25 "${local_exp[@]}" --code-bits 3 --tau 0.25
            run selection-exp-code-bits-3-tau-0.5 "${local_exp[@]}" --code-bits 3 --tau 0.5
            run selection-exp-tau-calibrated-0.5 "${local_exp[@]}" --tau-mode calibrated --tau 0.5
            run selection-exp-tau-calibrated-0.7 "${local_exp[@]}" --tau-mode calibrated --tau 0.7
            ;;
        heldout)
            # The held-out check compares adamas with dense, quest and streaming; the oracle only at the
            # budgets of the targets, and the pass key without the paper's rows.
            budgets_oracle=64,128 perplexity_table ppl-web "$web" 8192
            passkey_table passkey-web "$web" 0 8192 4096
            # One set per KV head at 3x the budget (pooled's, before it was the default) on the held-out
            # text; quoted in the docs, not in a generated table.
            if [[ $gqa == per-head ]]; then
                run gqa-shared-3x-web-8192 perplexity -f "$web" --ctx 8192 --max-tokens "$(tokens_at 8192)" \
                    --budgets 192,384 --policies adamas --gqa shared
            fi
            ;;
        report)
            wait_all
            # Tables and plots beside the data directory (docs/accuracy for docs/accuracy/data).
            report_dir=$out
            [[ $(basename "$out") == data ]] && report_dir=$(dirname "$out")
            python3 scripts/accuracy_report.py --data "$out" --docs "$report_dir" --gqa "$gqa"
            ;;
    esac
done
wait_all
if ((failed)); then
    echo "accuracy.sh: some runs failed (see the messages above); run again to retry them" >&2
    exit 1
fi
