#!/usr/bin/env python3
"""Checks `adamas attend` against an independent NumPy implementation of DESIGN.md §2.

Written from the spec, not from the C++: Sylvester Hadamard rotation, 2-bit buckets, L1 / xor code
distances, budgeted selection with the forced set and the tie rule, per-head and shared GQA, the oracle,
Quest, streaming and dense baselines, and float64 attention. Selected indices and distances must match
exactly; outputs within 1e-4 (relative L2 and max abs). Also checks that bad inputs fail cleanly.

Exactness: selection is discontinuous, so inputs are built to make it well defined in float32. Random
("gauss") inputs resample any vector with a rotated coordinate near a bucket boundary and re-seed when
an oracle/Quest score cutoff is a near tie; the tie-heavy inputs ("dyadic", "repeated") use multiples of
1/4 whose dot products and Hadamard sums are exact in float32, so their many exact ties are real ties.

Usage: check_attend.py --adamas build/adamas [--filter SUBSTRING] [--verbose]
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

# ----------------------------------------------------------------------------------------------
# The method (DESIGN.md §2), in float64 / exact integers.

_hadamard_cache = {}


def sylvester(d):
    """Sylvester Hadamard matrix H_d of ±1 entries, natural order (§2.1)."""
    if d not in _hadamard_cache:
        h = np.array([[1.0]])
        while h.shape[0] < d:
            h = np.block([[h, h], [h, -h]])
        _hadamard_cache[d] = h
    return _hadamard_cache[d]


def rotate(x):
    """Rotates the last axis: x̂ = H_d x / sqrt(d). Scaling after the ±1 sums keeps exact zeros exact."""
    x = np.asarray(x, np.float64)
    return (x @ sylvester(x.shape[-1]).T) / math.sqrt(x.shape[-1])


def buckets(rotated, tau):
    """c = [x > -τ] + [x > 0] + [x > τ] ∈ {0, 1, 2, 3} (§2.2)."""
    return (rotated > -tau).astype(np.int64) + (rotated > 0) + (rotated > tau)


def code_distances(qc, kc, metric):
    """Distances of one query's codes [d] to keys' codes [n, d] (§2.4)."""
    if metric == "l1":
        return np.abs(kc - qc[None, :]).sum(axis=1)
    x = kc ^ qc[None, :]  # the authors' kernel: 1 per low-bit difference, 2 per high-bit difference
    return ((x & 1) + 2 * ((x >> 1) & 1)).sum(axis=1)


def forced_suffix(recent, force_current):
    return recent if recent > 0 else (1 if force_current else 0)


def select_ranked(n, budget, sinks, recent, force_current, key, smaller_better):
    """§2.5: the forced set plus the best remaining tokens; ties go to the more recent token."""
    if n <= budget:
        return np.arange(n)
    suffix = forced_suffix(recent, force_current)
    forced = np.concatenate([np.arange(sinks), np.arange(n - suffix, n)])
    cand = np.arange(sinks, n - suffix)
    k = budget - len(forced)
    primary = key[cand] if smaller_better else -key[cand]
    order = np.lexsort((-cand, primary))  # last key is primary: by rank, then by index descending
    return np.sort(np.concatenate([forced, cand[order[:k]]]))


def cutoff_gap(n, budget, sinks, recent, force_current, score):
    """Score gap between the last chosen and the first rejected candidate (inf if no cutoff)."""
    if n <= budget:
        return math.inf
    suffix = forced_suffix(recent, force_current)
    cand = np.sort(score[sinks:n - suffix])[::-1]
    k = budget - sinks - suffix
    if k <= 0 or k >= len(cand):
        return math.inf
    return abs(cand[k - 1] - cand[k])


def quest_page_scores(q, keys, page):
    """Σ_i max(q_i·min_i, q_i·max_i) for each page of `page` tokens from position 0."""
    n = keys.shape[0]
    pages = -(-n // page)
    scores = np.empty(pages)
    for p in range(pages):
        block = keys[p * page:(p + 1) * page]
        lo, hi = block.min(axis=0), block.max(axis=0)
        scores[p] = np.maximum(q * lo, q * hi).sum()
    return scores


def quest_select(n, budget, page, scores):
    """Top ceil(B/P) pages, the current token's page always kept, ties to the more recent page."""
    pages = -(-n // page)
    keep = -(-budget // page)
    if n <= budget or pages <= keep:
        return np.arange(n)
    cand = np.arange(pages - 1)
    order = np.lexsort((-cand, -scores[cand]))
    kept = np.sort(np.concatenate([cand[order[:keep - 1]], [pages - 1]]))
    return np.concatenate([np.arange(p * page, min((p + 1) * page, n)) for p in kept])


def quest_gap(n, budget, page, scores):
    pages = -(-n // page)
    keep = -(-budget // page)
    if n <= budget or pages <= keep:
        return math.inf
    s = np.sort(scores[:pages - 1])[::-1]
    return abs(s[keep - 2] - s[keep - 1]) if keep >= 2 else math.inf


def attend(q, keys, values, idx):
    """softmax(q·K_Sᵀ / sqrt(d)) · V_S in float64 (§2.7)."""
    logits = keys[idx] @ q / math.sqrt(q.shape[0])
    w = np.exp(logits - logits.max())
    return (w / w.sum()) @ values[idx]


def reference(case, q, k, v):
    """Expected (rows of indices per query head, output [Hq, d], distances [Hq, n] or None)."""
    policy, budget, gqa = case["policy"], case["budget"], case["gqa"]
    hq, d = q.shape
    hkv, n, _ = k.shape
    g = hq // hkv
    sinks = case["sinks"] if case["sinks"] is not None else (4 if policy == "streaming" else 0)
    recent, fc = case["recent"], case["force_current"]
    rows, dist = [], None
    if policy == "adamas":
        qc = buckets(rotate(q), case["tau"])
        kc = buckets(rotate(k), case["tau"])
        dist = np.stack([code_distances(qc[h], kc[h // g], case["metric"]) for h in range(hq)])
        if gqa == "shared":
            dist = np.repeat(dist.reshape(hkv, g, n).min(axis=1), g, axis=0)
        rows = [select_ranked(n, budget, sinks, recent, fc, dist[h], True) for h in range(hq)]
    elif policy == "oracle":
        scores = np.stack([k[h // g] @ q[h] for h in range(hq)])
        if gqa == "shared":
            scores = np.repeat(scores.reshape(hkv, g, n).max(axis=1), g, axis=0)
        rows = [select_ranked(n, budget, sinks, recent, fc, scores[h], False) for h in range(hq)]
    elif policy == "quest":
        scores = np.stack([quest_page_scores(q[h], k[h // g], case["page"]) for h in range(hq)])
        if gqa == "shared":
            scores = np.repeat(scores.reshape(hkv, g, -1).max(axis=1), g, axis=0)
        rows = [quest_select(n, budget, case["page"], scores[h]) for h in range(hq)]
    elif policy == "streaming":
        row = np.arange(n) if n <= budget else np.concatenate([np.arange(sinks), np.arange(n - budget + sinks, n)])
        rows = [row] * hq
    else:
        rows = [np.arange(n)] * hq
    out = np.stack([attend(q[h], k[h // g], v[h // g], rows[h]) for h in range(hq)])
    return rows, out, dist


def fragility(case, q, k):
    """How close the oracle / Quest cutoff is to a tie, relative to the scores' scale (inf: robust)."""
    policy, gqa = case["policy"], case["gqa"]
    hq = q.shape[0]
    hkv, n, _ = k.shape
    g = hq // hkv
    sinks = case["sinks"] or 0
    worst = math.inf
    if policy == "oracle":
        scores = np.stack([k[h // g] @ q[h] for h in range(hq)])
        if gqa == "shared":
            scores = scores.reshape(hkv, g, n).max(axis=1)
        for s in scores:
            gap = cutoff_gap(n, case["budget"], sinks, case["recent"], case["force_current"], s)
            worst = min(worst, gap / (1.0 + np.abs(s).max()))
    elif policy == "quest":
        scores = np.stack([quest_page_scores(q[h], k[h // g], case["page"]) for h in range(hq)])
        if gqa == "shared":
            scores = scores.reshape(hkv, g, -1).max(axis=1)
        for s in scores:
            worst = min(worst, quest_gap(n, case["budget"], case["page"], s) / (1.0 + np.abs(s).max()))
    return worst


# ----------------------------------------------------------------------------------------------
# Inputs.

def to_bf16(x):
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def stored(x, kv_dtype):
    """Values as the cache stores them."""
    if kv_dtype == "f16":
        return x.astype(np.float16).astype(np.float64)
    if kv_dtype == "bf16":
        return to_bf16(x).astype(np.float64)
    return x.astype(np.float32).astype(np.float64)


def in_file_dtype(x, dtype):
    return x.astype(np.float16 if dtype == "f16" else np.float32)


def near_boundary(rows, tau):
    """Rows whose rotated coordinates lie within float32 rounding of a bucket boundary."""
    y = rotate(rows)
    d = rows.shape[-1]
    # ~5x a float32 FWHT's worst-case error: log2(d) rounded adds of magnitude <= Σ|x|.
    eps = 3e-7 * math.log2(d) * np.abs(rows).sum(axis=-1, keepdims=True) + 1e-12
    margin = np.minimum(np.minimum(np.abs(y), np.abs(y - tau)), np.abs(y + tau))
    return (margin < eps).any(axis=-1)


def make_inputs(case, rng):
    hkv, g, n, d = case["hkv"], case["group"], case["n"], case["d"]
    hq = hkv * g
    kind, dtype = case["kind"], case["dtype"]
    if kind == "gauss":
        sq, sk = case["scales"]
        q = rng.normal(0, sq, (hq, d))
        k = rng.normal(0, sk, (hkv, n, d))
        if case.get("outliers"):
            chans = rng.choice(d, size=max(1, d // 16), replace=False)
            k[:, :, chans] *= 4.0  # a few high-magnitude channels, as post-RoPE keys have
        v = rng.normal(0, 1, (hkv, n, d))
        q, k = (in_file_dtype(x, dtype).astype(np.float64) for x in (q, k))
        v = in_file_dtype(v, case.get("v_dtype", dtype)).astype(np.float64)
        # Resample vectors with a coordinate at a bucket boundary: float32 rounding would decide them.
        for arr, scale in ((q, sq), (k, sk)):
            flat = arr.reshape(-1, d)
            for _ in range(100):
                bad = near_boundary(flat, case["tau"])
                if not bad.any():
                    break
                flat[bad] = in_file_dtype(rng.normal(0, scale, (int(bad.sum()), d)), dtype)
            else:
                raise RuntimeError("could not draw inputs away from bucket boundaries")
    else:
        # Multiples of 1/4 in [-2, 2]: exact in f16/bf16, Hadamard sums and dot products exact in f32.
        def dyadic(shape):
            return rng.integers(-8, 9, shape) / 4.0

        q = dyadic((hq, d))
        if kind == "dyadic":
            k = dyadic((hkv, n, d))
        else:  # "repeated": a few distinct keys, so distances and scores tie everywhere
            base = dyadic((hkv, int(rng.integers(2, 6)), d))
            k = np.stack([base[h][rng.integers(0, base.shape[1], n)] for h in range(hkv)])
        v = rng.integers(-16, 17, (hkv, n, d)) / 8.0
    return q, k, v


# ----------------------------------------------------------------------------------------------
# Running the binary.

class Runner:
    def __init__(self, adamas, workdir, verbose):
        self.adamas, self.dir, self.verbose = adamas, workdir, verbose
        self.passed, self.failed = 0, 0
        self.failures = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def run(self, args):
        try:
            proc = subprocess.run([self.adamas, "attend", *args], capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return -999, "", "timed out after 120 s"
        return proc.returncode, proc.stdout, proc.stderr

    def record(self, name, problems):
        if problems:
            self.failed += 1
            self.failures.append(name)
            print(f"FAIL {name}")
            for p in problems:
                print(f"     {p}")
        else:
            self.passed += 1
            if self.verbose:
                print(f"ok   {name}")


def case_name(c):
    parts = [c["policy"]]
    if c["policy"] == "adamas":
        parts.append(c["metric"])
    parts += [c["gqa"], f"d={c['d']}", f"Hkv={c['hkv']}", f"g={c['group']}", f"n={c['n']}", f"B={c['budget']}"]
    if c["policy"] == "quest":
        parts.append(f"P={c['page']}")
    if c["sinks"] is not None:
        parts.append(f"S={c['sinks']}")
    if c["recent"]:
        parts.append(f"W={c['recent']}")
    if not c["force_current"]:
        parts.append("no-force-current")
    parts += [f"tau={c['tau']:g}", c["kind"], c["dtype"]]
    if c.get("kv_dtype"):
        parts.append(f"kv={c['kv_dtype']}")
    if c.get("threads") is not None:
        parts.append(f"threads={c['threads']}")
    return " ".join(parts) + f" seed={c['seed']}"


def check_case(runner, case):
    rng = np.random.default_rng(case["seed"])
    q, k, v = make_inputs(case, rng)
    if case["kind"] == "gauss":
        for attempt in range(50):
            if fragility(case, q, k) > 1e-5:
                break
            case["seed"] += 7919  # a near-tie at the cutoff: float32 rounding would decide it
            rng = np.random.default_rng(case["seed"])
            q, k, v = make_inputs(case, rng)
    name = case_name(case)

    file_dtype = case["dtype"]
    kv_dtype = case.get("kv_dtype") or file_dtype
    for x in (k, v):  # conversion cases use values the storage type holds exactly
        if case.get("kv_dtype"):
            assert np.array_equal(stored(x, kv_dtype), x), name
    np.save(runner.path("q.npy"), in_file_dtype(q, file_dtype))
    np.save(runner.path("k.npy"), in_file_dtype(k, file_dtype))
    np.save(runner.path("v.npy"), in_file_dtype(v, case.get("v_dtype", file_dtype)))
    for f in ("out.npy", "idx.npy", "dist.npy"):
        if os.path.exists(runner.path(f)):
            os.remove(runner.path(f))

    args = ["--q", runner.path("q.npy"), "--k", runner.path("k.npy"), "--v", runner.path("v.npy"),
            "--policy", case["policy"], "--budget", str(case["budget"]), "--gqa", case["gqa"],
            "--tau", repr(float(case["tau"])), "--out", runner.path("out.npy"), "--indices", runner.path("idx.npy")]
    if case["policy"] == "adamas":
        args += ["--metric", case["metric"], "--distances", runner.path("dist.npy")]
    if case["sinks"] is not None:
        args += ["--sinks", str(case["sinks"])]
    if case["recent"]:
        args += ["--recent", str(case["recent"])]
    if not case["force_current"]:
        args.append("--no-force-current")
    if case["policy"] == "quest":
        args += ["--page-size", str(case["page"])]
    if case.get("kv_dtype"):
        args += ["--kv-dtype", case["kv_dtype"]]
    if case.get("threads") is not None:
        args += ["--threads", str(case["threads"])]

    rows, want_out, want_dist = reference(case, q, k, v)
    rc, _, err = runner.run(args)
    problems = []
    if rc != 0:
        runner.record(name, [f"exit code {rc}: {err.strip()}"])
        return
    hq, d = q.shape
    n = k.shape[1]

    idx = np.load(runner.path("idx.npy"))
    width = max(len(r) for r in rows)
    want_idx = np.full((hq, width), -1, np.int32)
    for h, r in enumerate(rows):
        want_idx[h, :len(r)] = r
    if idx.dtype != np.int32 or idx.shape != want_idx.shape:
        problems.append(f"indices: dtype {idx.dtype} shape {idx.shape}, expected int32 {want_idx.shape}")
    elif not np.array_equal(idx, want_idx):
        h = int(np.nonzero((idx != want_idx).any(axis=1))[0][0])
        got_set, want_set = set(idx[h][idx[h] >= 0].tolist()), set(rows[h].tolist())
        problems.append(f"indices differ at head {h}: only ours {sorted(want_set - got_set)[:10]}, "
                        f"only adamas {sorted(got_set - want_set)[:10]}, "
                        f"ascending={bool(np.all(np.diff(idx[h][idx[h] >= 0]) > 0))}")

    out = np.load(runner.path("out.npy"))
    if out.dtype != np.float32 or out.shape != (hq, d):
        problems.append(f"output: dtype {out.dtype} shape {out.shape}, expected float32 {(hq, d)}")
    elif not problems:
        diff = out.astype(np.float64) - want_out
        rel = np.linalg.norm(diff) / max(np.linalg.norm(want_out), 1e-30)
        max_abs = np.abs(diff).max()
        if not np.all(np.isfinite(out)) or rel > 1e-4 or max_abs > 1e-4 * max(1.0, np.abs(want_out).max()):
            problems.append(f"output: relative L2 error {rel:.3g}, max abs error {max_abs:.3g} (limit 1e-4)")

    if want_dist is not None:
        dist = np.load(runner.path("dist.npy"))
        if dist.dtype != np.uint16 or dist.shape != (hq, n):
            problems.append(f"distances: dtype {dist.dtype} shape {dist.shape}, expected uint16 {(hq, n)}")
        elif not np.array_equal(dist.astype(np.int64), want_dist):
            h, t = (int(x[0]) for x in np.nonzero(dist.astype(np.int64) != want_dist))
            problems.append(f"distances differ first at head {h} token {t}: {dist[h, t]} vs ours {want_dist[h, t]}")
    runner.record(name, problems)


# ----------------------------------------------------------------------------------------------
# The cases.

def base(**kw):
    c = dict(policy="adamas", metric="l1", gqa="per-head", d=64, hkv=2, group=1, n=100, budget=64, page=16,
             sinks=None, recent=0, force_current=True, tau=10.0, kind="gauss", dtype="f32", scales=(1.0, 1.0),
             seed=0)
    c.update(kw)
    return c


# (scales of q and k, tau) for random inputs: moderate logits, codes spread over all four buckets.
GAUSS_PROFILES = [((1.0, 1.0), 0.5, False), ((3.0, 1.0), 1.5, False), ((0.4, 8.0), 10.0, True)]
DYADIC_TAUS = [1.0, 0.5, 10.0]
FORCED = [(None, 0, True), (4, 8, True), (0, 0, False), (2, 0, True), (3, 16, False)]  # (S, W, fc)


def matrix_cases():
    cases = []
    i = 0
    policies = [("adamas", "l1"), ("adamas", "xor"), ("oracle", "l1"), ("quest", "l1"), ("streaming", "l1"),
                ("dense", "l1")]
    shapes = [(32, 2, 1), (64, 3, 3), (128, 2, 4)]
    budget = 64
    for policy, metric in policies:
        for gqa in ("per-head", "shared"):
            for d, hkv, g in shapes:
                for n in (1, budget - 1, budget, budget + 1, 300, 2000):
                    kind = ("gauss", "dyadic", "repeated")[i % 3]
                    c = base(policy=policy, metric=metric, gqa=gqa, d=d, hkv=hkv, group=g, n=n, budget=budget,
                             kind=kind, dtype=("f32", "f16")[i % 2], seed=1000 + i, threads=(None, 1, 3)[i % 7 % 3])
                    if kind == "gauss":
                        c["scales"], c["tau"], c["outliers"] = GAUSS_PROFILES[i % 4 % 3]
                    else:
                        c["tau"] = DYADIC_TAUS[i % 4 % 3]
                    if policy in ("adamas", "oracle"):
                        c["sinks"], c["recent"], c["force_current"] = FORCED[i % 5]
                    elif policy == "streaming":
                        c["sinks"] = (None, 0, 9)[i % 3]
                    cases.append(c)
                    i += 1
    return cases


def targeted_cases():
    g = [
        # Paper parity: eval (true L1, no forced token, top min(B, n)) and kernel (xor, forced current).
        base(n=500, hkv=4, d=128, sinks=0, force_current=False, seed=1),
        base(n=500, hkv=4, d=128, metric="xor", seed=2),
        base(n=500, hkv=4, d=128, metric="xor", sinks=0, force_current=False, kind="dyadic", tau=1.0, seed=3),
        # Long context.
        base(n=4096, d=128, hkv=2, group=4, budget=256, gqa="shared", scales=(3.0, 1.0), tau=1.5, seed=4),
        base(n=4096, d=128, hkv=2, group=4, budget=256, metric="xor", kind="repeated", tau=1.0, seed=5),
        base(policy="oracle", n=4096, d=128, hkv=2, group=4, budget=256, kind="dyadic", seed=6),
        base(policy="quest", n=4096, d=128, hkv=2, group=4, budget=256, gqa="shared", seed=7),
        # Head dim 256, MHA with one head, large groups.
        base(d=256, hkv=1, group=1, n=700, budget=100, scales=(1.0, 1.0), tau=0.5, seed=8),
        base(d=256, hkv=1, group=8, n=700, budget=100, gqa="shared", kind="dyadic", tau=1.0, seed=9),
        base(policy="oracle", d=32, hkv=1, group=8, n=333, budget=17, gqa="shared", kind="repeated", seed=10),
        # Budget edges: only the current token; top-1 without it; sinks + recent fill the budget.
        base(budget=1, n=50, kind="dyadic", tau=1.0, seed=11),
        base(budget=1, n=50, sinks=0, force_current=False, kind="dyadic", tau=1.0, seed=12),
        base(policy="oracle", budget=1, n=50, sinks=0, force_current=False, kind="repeated", seed=13),
        base(budget=12, n=50, sinks=4, recent=8, kind="dyadic", tau=1.0, seed=14),
        base(policy="oracle", budget=12, n=50, sinks=4, recent=8, kind="dyadic", seed=15),
        base(budget=5000, n=300, seed=16),
        # Exact bucket boundaries (d = 64 scales by exactly 1/8; tau 0 puts every zero sum on the edge).
        base(d=64, tau=1.0, kind="dyadic", n=800, seed=17),
        base(d=64, tau=0.5, kind="repeated", n=800, metric="xor", seed=18),
        base(d=64, tau=0.0, kind="dyadic", n=800, seed=19),
        # Storage conversions on values the storage type holds exactly; mixed file dtypes.
        base(kind="dyadic", kv_dtype="f16", tau=1.0, n=400, seed=20),
        base(kind="dyadic", kv_dtype="bf16", tau=1.0, n=400, seed=21),
        base(policy="dense", kind="dyadic", kv_dtype="bf16", n=400, seed=22),
        base(policy="oracle", kind="dyadic", kv_dtype="f16", n=400, seed=23),
        base(policy="quest", kind="repeated", kv_dtype="bf16", n=400, seed=24),
        base(kind="gauss", dtype="f16", kv_dtype="f32", tau=0.5, n=400, seed=25),
        base(kind="gauss", dtype="f16", v_dtype="f32", tau=0.5, n=400, seed=26),
        base(policy="dense", kind="gauss", dtype="f32", v_dtype="f16", n=400, seed=27),
        # Quest page edges: partial last page, exact pages, every page kept though n > B, P = 1.
        base(policy="quest", page=8, budget=20, n=100, seed=28),
        base(policy="quest", page=8, budget=20, n=96, kind="repeated", seed=29),
        base(policy="quest", page=16, budget=20, n=30, seed=30),
        base(policy="quest", page=16, budget=20, n=33, kind="dyadic", seed=31),
        base(policy="quest", page=1, budget=10, n=200, kind="dyadic", gqa="shared", group=3, seed=32),
        base(policy="quest", page=16, budget=16, n=300, kind="repeated", seed=33),
        base(policy="quest", page=16, budget=1, n=300, kind="dyadic", seed=34),
        # Streaming with explicit sinks.
        base(policy="streaming", sinks=0, budget=10, n=100, seed=35),
        base(policy="streaming", sinks=11, budget=12, n=100, seed=36),
        base(policy="streaming", budget=12, n=13, seed=37),
    ]
    return g


def check_errors(runner):
    """Bad inputs and options: a clean non-zero exit, no signal, a message naming the culprit."""
    p = runner.path
    rng = np.random.default_rng(99)

    def good():
        np.save(p("q.npy"), rng.normal(size=(4, 64)).astype(np.float32))
        np.save(p("k.npy"), rng.normal(size=(2, 10, 64)).astype(np.float32))
        np.save(p("v.npy"), rng.normal(size=(2, 10, 64)).astype(np.float32))

    def expect(name, code, needle, extra=(), setup=None):
        good()
        for f in ("out.npy", "idx.npy"):
            if os.path.exists(p(f)):
                os.remove(p(f))
        if setup:
            setup()
        options = {"--q": p("q.npy"), "--k": p("k.npy"), "--v": p("v.npy"), "--budget": "4", "--out": p("out.npy"),
                   "--indices": p("idx.npy")}
        options.update(zip(extra[::2], extra[1::2]))  # `extra` replaces or adds options
        args = [x for kv in options.items() for x in kv]
        rc, out, err = runner.run(args)
        problems = []
        if rc != code:
            problems.append(f"exit code {rc}, expected {code}")
        if rc < 0:
            problems.append(f"killed by signal {-rc}")
        if needle not in err:
            problems.append(f"stderr lacks {needle!r}: {err.strip()!r}")
        if out.strip():
            problems.append(f"stdout not empty: {out.strip()!r}")
        leftovers = [f for f in os.listdir(runner.dir) if f.startswith(("out.npy", "idx.npy"))]
        if leftovers:
            problems.append(f"left files behind: {leftovers}")
        runner.record(f"error: {name}", problems)

    def save(name, arr):
        return lambda: np.save(p(name), arr)

    def write(name, data):
        def f():
            with open(p(name), "wb") as fh:
                fh.write(data)
        return f

    def truncate(name, drop):
        def f():
            data = open(p(name), "rb").read()
            open(p(name), "wb").write(data[:-drop])
        return f

    def append(name, extra_bytes):
        def f():
            open(p(name), "ab").write(extra_bytes)
        return f

    bad_input = 2
    expect("q is 3-D", bad_input, p("q.npy"), setup=save("q.npy", np.zeros((4, 1, 64), np.float32)))
    expect("k is 2-D", bad_input, p("k.npy"), setup=save("k.npy", np.zeros((10, 64), np.float32)))
    expect("v shape differs from k", bad_input, p("v.npy"), setup=save("v.npy", np.zeros((2, 11, 64), np.float32)))
    expect("head dim of q and k differ", bad_input, p("k.npy"),
           setup=lambda: (save("k.npy", np.zeros((2, 10, 32), np.float32))(),
                          save("v.npy", np.zeros((2, 10, 32), np.float32))()))
    for d in (48, 16, 512):
        expect(f"head dim {d}", bad_input, p("q.npy"),
               setup=lambda d=d: (save("q.npy", np.zeros((4, d), np.float32))(),
                                  save("k.npy", np.zeros((2, 10, d), np.float32))(),
                                  save("v.npy", np.zeros((2, 10, d), np.float32))()))
    expect("Hq not a multiple of Hkv", bad_input, p("q.npy"), setup=save("q.npy", np.zeros((5, 64), np.float32)))
    expect("no tokens", bad_input, p("k.npy"),
           setup=lambda: (save("k.npy", np.zeros((2, 0, 64), np.float32))(),
                          save("v.npy", np.zeros((2, 0, 64), np.float32))()))
    expect("q is int32", bad_input, p("q.npy"), setup=save("q.npy", np.zeros((4, 64), np.int32)))
    expect("k is float64", bad_input, p("k.npy"), setup=save("k.npy", np.zeros((2, 10, 64), np.float64)))
    expect("v is big-endian", bad_input, p("v.npy"), setup=save("v.npy", np.zeros((2, 10, 64), ">f4")))
    expect("k is Fortran order", bad_input, p("k.npy"),
           setup=save("k.npy", np.asfortranarray(np.zeros((2, 10, 64), np.float32))))
    expect("v truncated", bad_input, p("v.npy"), setup=truncate("v.npy", 5))
    expect("k header truncated", bad_input, p("k.npy"), setup=lambda: write("k.npy", open(p("k.npy"), "rb").read(50))())
    expect("q trailing bytes", bad_input, p("q.npy"), setup=append("q.npy", b"\0\0\0\0"))
    expect("q garbage", bad_input, p("q.npy"), setup=write("q.npy", rng.integers(0, 256, 300, np.uint8).tobytes()))
    expect("k empty file", bad_input, p("k.npy"), setup=write("k.npy", b""))
    expect("q header garbage", bad_input, p("q.npy"),
           setup=write("q.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': <f4  }\n" + b"\0" * 1024))
    expect("v missing", bad_input, p("missing-v.npy"), extra=["--v", p("missing-v.npy")])
    expect("k is a directory", bad_input, runner.dir, extra=["--k", runner.dir])
    expect("output directory missing", bad_input, p("nodir/out.npy"), extra=["--out", p("nodir/out.npy")])

    usage = 1
    expect("budget 0", usage, "--budget", extra=["--budget", "0"])
    expect("forced set exceeds budget", usage, "budget", extra=["--sinks", "3", "--recent", "2"])
    expect("negative sinks", usage, "--sinks", extra=["--sinks", "-2"])
    expect("distances with oracle", usage, "--distances",
           extra=["--policy", "oracle", "--distances", p("dist.npy")])
    expect("unknown policy", usage, "--policy", extra=["--policy", "magic"])
    expect("unknown metric", usage, "--metric", extra=["--metric", "l2"])
    expect("unknown kv dtype", usage, "--kv-dtype", extra=["--kv-dtype", "f64"])

    # Missing required options: CLI11 names the option.
    rc, _, err = runner.run(["--q", p("q.npy")])
    runner.record("error: missing required options",
                  [] if rc == usage and "--k" in err else [f"exit code {rc}, stderr {err.strip()!r}"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--adamas", required=True, help="path of the adamas binary")
    ap.add_argument("--filter", default="", help="only cases whose name contains this")
    ap.add_argument("--verbose", action="store_true", help="print passing cases too")
    args = ap.parse_args()
    if not os.access(args.adamas, os.X_OK):
        print(f"check_attend.py: {args.adamas}: not an executable", file=sys.stderr)
        return 2

    start = time.time()
    with tempfile.TemporaryDirectory(prefix="adamas-attend-") as workdir:
        runner = Runner(os.path.abspath(args.adamas), workdir, args.verbose)
        cases = matrix_cases() + targeted_cases()
        for case in cases:
            if args.filter in case_name(case):
                try:
                    check_case(runner, case)
                except Exception as e:  # a missing or unreadable output file is a failure, not a crash
                    runner.record(case_name(case), [f"{type(e).__name__}: {e}"])
        if not args.filter or args.filter.startswith("error"):
            check_errors(runner)
    print(f"check_attend.py: {runner.passed + runner.failed} checks in {time.time() - start:.1f} s")
    if runner.failures:
        print("failed:\n  " + "\n  ".join(runner.failures))
    print(f"{runner.passed} passed, {runner.failed} failed")
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
