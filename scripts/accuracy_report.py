#!/usr/bin/env python3
"""Tables and plots of the accuracy study from the JSON files scripts/accuracy.sh writes.

Writes DOCS/tables.md (every table, generated: do not edit by hand) and PNG plots beside it:
perplexity against budget per policy, pass-key heat maps (depth x context) per policy and budget, and
attention mass per layer. docs/accuracy.md explains them. Needs matplotlib for the plots
(pip install matplotlib); with --no-plots only the tables are written.
"""
import argparse
import json
import math
import sys
from pathlib import Path

POLICY_ORDER = ["dense", "oracle", "adamas", "adamas (paper)", "quest", "streaming"]
STYLE = {
    "dense": dict(color="black", linestyle="--"),
    "oracle": dict(color="tab:green", marker="^"),
    "adamas": dict(color="tab:red", marker="o"),
    "adamas (paper)": dict(color="tab:red", marker="x", linestyle=":"),
    "quest": dict(color="tab:blue", marker="s"),
    "streaming": dict(color="tab:gray", marker="v"),
}


def load(data: Path, name: str):
    path = data / f"{name}.json"
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)


def joined_rows(data: Path, prefix: str):
    """Rows of every PREFIX-*.json (one file per policy, budget or context); those of files ending in
    -paper are named 'adamas (paper)'. None when there is no such file."""
    files = sorted(data.glob(f"{prefix}-*.json"))
    if not files:
        return None
    rows = []
    for f in files:
        for r in json.loads(f.read_text()):
            if f.stem.endswith("-paper"):
                r["policy"] = "adamas (paper)"
            rows.append(r)
    return rows


def fmt_budget(b):
    return "—" if b in (None, 0) else str(b)


def ppl_cell(ppl, dense):
    return f"{ppl:.2f} ({100 * (ppl / dense - 1):+.1f} %)"


def perplexity_table(rows, title, gqa):
    dense = next((r["ppl"] for r in rows if r["policy"] == "dense"), None)
    if dense is None:
        return f"### {title}\n\n(no dense row yet)\n"
    budgets = sorted({r["budget"] for r in rows if r["budget"]})
    policies = [p for p in POLICY_ORDER if p != "dense" and any(r["policy"] == p for r in rows)]
    tokens = rows[0]["tokens"]
    out = [f"### {title}", "", f"{tokens} scored tokens per cell. Dense: **{dense:.3f}**. "
           f"Each cell: perplexity (change against dense). {BUDGET_TEXT[gqa]}", ""]
    out.append("| policy | " + " | ".join(f"B={b}" for b in budgets) + " |")
    out.append("|---|" + "---:|" * len(budgets))
    for p in policies:
        cells = []
        for b in budgets:
            r = next((r for r in rows if r["policy"] == p and r["budget"] == b), None)
            cells.append("" if r is None else ppl_cell(r["ppl"], dense))
        out.append(f"| {p} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def passkey_table(rows, title):
    """Accuracy per policy and budget over all cells, and the cells where a row differs from dense."""
    contexts = sorted({r["ctx"] for r in rows})
    cells = {}
    for r in rows:
        cells.setdefault((r["policy"], r["budget"] or 0), {})[(r["ctx"], r["depth"])] = r
    dense = cells.get(("dense", 0), {})
    out = [f"### {title}", "", "Keys found, all depths, per context; 'cells below dense': (context, depth) "
           "cells where the row finds fewer keys than dense.", ""]
    out.append("| policy | budget | " + " | ".join(f"{c // 1024}K" for c in contexts) +
               " | all | cells below dense |")
    out.append("|---|---:|" + "---:|" * (len(contexts) + 2))
    for (policy, budget) in sorted(cells, key=lambda k: (POLICY_ORDER.index(k[0]), k[1])):
        grid = cells[(policy, budget)]
        per_ctx = []
        for c in contexts:
            got = sum(r["correct"] for (ctx, _), r in grid.items() if ctx == c)
            total = sum(r["keys"] for (ctx, _), r in grid.items() if ctx == c)
            per_ctx.append(f"{got}/{total}" if total else "")  # not run (yet) at this context
        got = sum(r["correct"] for r in grid.values())
        total = sum(r["keys"] for r in grid.values())
        below = sum(1 for k, r in grid.items() if k in dense and r["correct"] < dense[k]["correct"])
        out.append(f"| {policy} | {fmt_budget(budget)} | " + " | ".join(per_ctx) +
                   f" | {got}/{total} | {below if policy != 'dense' else '—'} |")
    return "\n".join(out) + "\n"


def selection_table(doc, title):
    out = [f"### {title}", "", f"{doc['samples']} sampled decode steps per window, {doc['windows']} windows of "
           f"{doc['ctx']} tokens; means over the sparse layers and query heads.", "",
           "| policy | budget | attention mass | oracle recall | KL(dense ‖ sparse) |", "|---|---:|---:|---:|---:|"]
    for r in doc["rows"]:
        out.append(f"| {r['policy']} | {r['budget']} | {r['mass']:.3f} | {r['recall']:.3f} | {r['kl']:.4f} |")
    rows = doc["rows"]
    out += ["", "Attention mass per layer.", "",
            "| layer | " + " | ".join(f"{r['policy']}@{r['budget']}" for r in rows) + " |",
            "|---:|" + "---:|" * len(rows)]
    for i, layer in enumerate(rows[0]["layers"]):
        out.append(f"| {layer['layer']} | " + " | ".join(f"{r['layers'][i]['mass']:.3f}" for r in rows) + " |")
    levels = 1 << doc.get("code_bits", 2)
    head = " | ".join(str(b) for b in range(1, levels))
    out += ["", f"Code buckets: share of coordinates in buckets 0-{levels - 1} per layer (keys / queries).", "",
            f"| layer | keys 0 | {head} | queries 0 | {head} |", "|---:|" + "---:|" * (2 * levels)]
    for b in doc.get("buckets", []):
        out.append(f"| {b['layer']} | " + " | ".join(f"{x:.3f}" for x in b["keys"] + b["queries"]) + " |")
    return "\n".join(out) + "\n"


def selection_experiments_table(data: Path):
    """Mass / recall / KL of the adamas code variants (selection-exp-*.json), one row per variant."""
    files = sorted(data.glob("selection-exp-*.json"))
    if not files:
        return ""
    docs = [(f.stem[len("selection-exp-"):], json.loads(f.read_text())) for f in files]
    budgets = sorted({r["budget"] for _, doc in docs for r in doc["rows"]})
    out = ["### Selection quality of the code variants, Austen, 8K", "",
           f"{docs[0][1]['samples']} sampled decode steps of one window; adamas without a recent window. "
           "Each cell: attention mass / oracle recall / KL(dense ‖ sparse).", "",
           "| variant | bits | " + " | ".join(f"B={b}" for b in budgets) + " |", "|---|---:|" + "---|" * len(budgets)]
    for name, doc in docs:
        by = {r["budget"]: r for r in doc["rows"]}
        cells = [f"{by[b]['mass']:.3f} / {by[b]['recall']:.3f} / {by[b]['kl']:.3f}" if b in by else ""
                 for b in budgets]
        out.append(f"| {name} | {doc.get('code_bits', 2)} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


# What a budget B counts, per GQA mode of the study.
BUDGET_TEXT = {
    "pooled": "B: K/V rows per query head (every policy keeps one set of 3B per KV head).",
    "per-head": "B: tokens per query head (streaming keeps one set of B per KV head).",
}
GQA_TEXT = {
    "pooled": "pooled GQA (one set of 3B per KV head on this model: the K/V rows of B per query head)",
    "per-head": "per-head GQA (B tokens per query head)",
}


def experiments_table(data: Path, gqa: str):
    reference = load(data, "exp-reference")
    if reference is None:
        return ""
    dense = next(r["ppl"] for r in reference if r["policy"] == "dense")
    out = ["### Experiments: adamas variants, Austen, 8K context", "",
           f"{reference[0]['tokens']} scored tokens per cell; dense {dense:.3f}. Unless a row says otherwise: "
           f"τ per vector 0.5, no re-ranking, L1, {GQA_TEXT[gqa]}, no sinks or recent window, 2 dense layers. "
           "The paper's rows are per-head.", "",
           "| experiment | policy | PPL @64 | PPL @128 |", "|---|---|---:|---:|"]
    files = sorted(data.glob("exp-*.json"))
    for f in files:
        name = f.stem[len("exp-"):]
        rows = json.loads(f.read_text())
        if not rows or "ppl" not in rows[0]:  # the pass-key experiments: quoted in docs/accuracy.md
            continue
        for policy in ("oracle", "adamas"):
            by = {r["budget"]: r["ppl"] for r in rows if r["policy"] == policy}
            if not by:
                continue
            if set(by) <= {64, 128}:
                cells = [ppl_cell(by[b], dense) if b in by else "" for b in (64, 128)]
            else:  # other budgets (e.g. shared GQA at 3x): named in their cells, in the two columns
                cells = [f"B={b}: {ppl_cell(by[b], dense)}" for b in sorted(by)][:2]
            out.append(f"| {name} | {policy} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def plot_perplexity(plt, groups, path, title):
    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 4), squeeze=False)
    for ax, (label, rows) in zip(axes[0], groups):
        dense = next(r["ppl"] for r in rows if r["policy"] == "dense")
        ax.axhline(dense, label="dense", **STYLE["dense"])
        for p in POLICY_ORDER[1:]:
            pts = sorted((r["budget"], r["ppl"]) for r in rows if r["policy"] == p and r["budget"])
            if pts:
                ax.plot([b for b, _ in pts], [v for _, v in pts], label=p, **STYLE[p])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_ylim(dense * 0.97, dense * 3)
        ax.yaxis.set_major_formatter(plt.matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(plt.matplotlib.ticker.FormatStrFormatter("%g"))
        ax.set_xlabel("budget B (see the tables)")
        ax.set_ylabel("perplexity")
        ax.set_title(label)
        ax.grid(True, which="both", alpha=0.3)
    handles = {}  # every policy of any panel, once
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    axes[0][0].legend(list(handles.values()), list(handles.keys()), fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_passkey(plt, rows, path, title):
    contexts = sorted({r["ctx"] for r in rows})
    depths = sorted({r["depth"] for r in rows})
    keys = sorted({(r["policy"], r["budget"] or 0) for r in rows},
                  key=lambda k: (POLICY_ORDER.index(k[0]), k[1]))
    budgets = sorted({b for _, b in keys if b})
    policies = [p for p in POLICY_ORDER if any(k[0] == p for k in keys)]
    fig, axes = plt.subplots(len(policies), len(budgets), figsize=(2.2 * len(budgets), 2.0 * len(policies)),
                             squeeze=False)
    for i, p in enumerate(policies):
        for j, b in enumerate(budgets):
            ax = axes[i][j]
            bb = 0 if p == "dense" else b
            grid = [[next((r["accuracy"] for r in rows if r["policy"] == p and (r["budget"] or 0) == bb
                           and r["ctx"] == c and r["depth"] == d), math.nan) for c in contexts] for d in depths]
            ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto", origin="upper")
            ax.set_xticks(range(len(contexts)), [f"{c // 1024}K" for c in contexts], fontsize=7)
            ax.set_yticks(range(0, len(depths), max(1, len(depths) // 5)),
                          [f"{depths[k]:g}%" for k in range(0, len(depths), max(1, len(depths) // 5))], fontsize=7)
            ax.set_title(p if p == "dense" else f"{p}@{b}", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_layers(plt, doc, path, title, budget=128):
    fig, ax = plt.subplots(figsize=(7, 4))
    for r in doc["rows"]:
        if r["budget"] != budget:
            continue
        p = r["policy"]
        ax.plot([l["layer"] for l in r["layers"]], [l["mass"] for l in r["layers"]], label=f"{p}@{budget}",
                **STYLE.get(p, {}))
    ax.set_xlabel("layer")
    ax.set_ylabel("dense attention mass captured")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="docs/accuracy/data", help="directory of the JSON files")
    ap.add_argument("--docs", default="docs/accuracy", help="where tables.md and the PNG files go")
    ap.add_argument("--no-plots", action="store_true", help="tables only (no matplotlib needed)")
    ap.add_argument("--gqa", choices=sorted(GQA_TEXT), default="pooled",
                    help="the GQA mode the study ran with (scripts/accuracy.sh --gqa), named in the tables")
    args = ap.parse_args()
    data, docs = Path(args.data), Path(args.docs)
    if not data.is_dir():
        sys.exit(f"accuracy_report.py: {data}: no such directory (run scripts/accuracy.sh first)")
    docs.mkdir(parents=True, exist_ok=True)
    plt = None
    if not args.no_plots:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            sys.exit("accuracy_report.py: matplotlib is missing (pip install matplotlib, or pass --no-plots)")

    parts = ["# Accuracy study: generated tables", "",
             "Generated by `python3 scripts/accuracy_report.py` from the JSON files of `scripts/accuracy.sh`; "
             f"docs/accuracy.md explains them. Sparse rows: {GQA_TEXT[args.gqa]} unless a row says otherwise; "
             "the paper's rows (`--paper`) select per head.", ""]
    for corpus, label in (("austen", "Austen"), ("web", "World English Bible (held out)")):
        groups = []
        for ctx in (2048, 4096, 8192):
            rows = joined_rows(data, f"ppl-{corpus}-{ctx}")
            if rows and any(r["policy"] == "dense" for r in rows):
                parts.append(perplexity_table(rows, f"Perplexity, {label}, context {ctx}", args.gqa))
                groups.append((f"context {ctx}", rows))
        if groups and plt:
            plot_perplexity(plt, groups, docs / f"ppl-{corpus}.png", f"Perplexity against budget, {label}")
        rows = joined_rows(data, f"passkey-{corpus}")
        if rows:
            parts.append(passkey_table(rows, f"Pass key, {label}"))
            if plt:
                plot_passkey(plt, rows, docs / f"passkey-{corpus}.png", f"Pass-key accuracy (depth x context), {label}")
    for name, label in (("selection-austen-8192", "Selection quality, Austen, 8K"),
                        ("selection-austen-8192-paper", "Selection quality, paper adamas (fixed τ = 10), Austen, 8K")):
        doc = load(data, name)
        if doc:
            parts.append(selection_table(doc, label))
            if plt:
                plot_layers(plt, doc, docs / f"{name}-layers.png", f"{label}: attention mass per layer")
    parts.append(experiments_table(data, args.gqa))
    parts.append(selection_experiments_table(data))
    (docs / "tables.md").write_text("\n".join(parts))
    print(f"accuracy_report.py: wrote {docs / 'tables.md'}" + (" and the plots" if plt else ""))


if __name__ == "__main__":
    main()
