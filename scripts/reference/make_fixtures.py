#!/usr/bin/env python3
"""Runs llama.cpp (through adamas-dump-logits) on fixed prompts and condenses its output into the small
fixtures of tests/fixtures/llamacpp/ that our engine's tests compare against. See that folder's README."""
import argparse
import hashlib
import json
import os
import subprocess
import sys

import numpy as np

kTopK = 100          # (id, logit) pairs kept in float32 for the last position
kGreedyTokens = 32

# name -> (how the prompt is made, all-positions float16 logits kept?, greedy tokens)
kChat = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
# Greedy continuations (32 tokens, past the end of turn). Counting: every step's top-2 margin in llama.cpp
# is above 3, so any correct implementation must produce the same 32 tokens. The chat question's first
# near-tie (0.18) is at step 31; the plain "The capital of France is" has one (0.33) at step 6.
kCounting = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"
kCapitalChat = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
kUnicode = "Café naïve façade: 3.14159 × 2 = 6.28318; 東京 has 13,960,000 people 🙂 (2024-01-01)."
kAustenStart = "It is a truth universally acknowledged"
kAustenTokens = 200


def die(message):
    sys.exit(f"make_fixtures.py: {message}")


def dump(dumper, model, out, prompt_file, all_logits, n_gen, threads, ignore_eog=False):
    cmd = [dumper, "-m", model, "-f", prompt_file, "-o", out, "-t", str(threads), "--flash-attn", "off"]
    if all_logits:
        cmd.append("--all-logits")
    if n_gen:
        cmd += ["--n-gen", str(n_gen)]
    if ignore_eog:
        cmd.append("--ignore-eog")
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        die(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    with open(os.path.join(out, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    return meta


def austen_passage(dumper, model, corpus, work, threads):
    """The first kAustenTokens tokens of Pride and Prejudice from its famous first sentence, cut at a token
    boundary so that the text re-tokenizes to exactly those tokens."""
    with open(os.path.join(corpus, "austen.txt"), encoding="utf-8") as f:
        text = f.read()
    start = text.find(kAustenStart)
    if start < 0:
        die(f"{corpus}/austen.txt: '{kAustenStart}' not found")
    snippet = text[start:start + 8 * kAustenTokens]
    probe = os.path.join(work, "austen_probe")
    os.makedirs(probe, exist_ok=True)
    with open(os.path.join(probe, "prompt.txt"), "w", encoding="utf-8") as f:
        f.write(snippet)
    meta = dump(dumper, model, probe, os.path.join(probe, "prompt.txt"), False, 0, threads)
    if meta["n_prompt"] <= kAustenTokens:
        die(f"austen snippet has only {meta['n_prompt']} tokens")
    return b"".join(piece_bytes(p) for p in meta["prompt_pieces"][:kAustenTokens]).decode("utf-8")


def piece_bytes(piece):
    """A token piece from meta.json: a string, or a list of byte values when not valid UTF-8 by itself."""
    return piece.encode("utf-8") if isinstance(piece, str) else bytes(piece)


def logsumexp(rows):
    rows = rows.astype(np.float64)
    m = rows.max(axis=-1, keepdims=True)
    return (m[..., 0] + np.log(np.exp(rows - m).sum(axis=-1)))


def position_stats(logits):
    """Per row: argmax (lowest id on a tie), max, top1 - top2 margin, logsumexp."""
    order = np.argsort(-logits, axis=-1, kind="stable")[:, :2]
    top = np.take_along_axis(logits, order, axis=-1)
    return {
        "argmax": order[:, 0].tolist(),
        "max": [float(v) for v in top[:, 0]],
        "margin": [float(v) for v in top[:, 0] - top[:, 1]],
        "logsumexp": [float(v) for v in logsumexp(logits)],
    }


def fixture(name, prompt, meta, dump_dir, out, keep_all_f16):
    tokens = np.load(os.path.join(dump_dir, "tokens.npy"))
    last = np.load(os.path.join(dump_dir, "logits_last.npy"))
    everything = np.load(os.path.join(dump_dir, "logits_all.npy"))
    if not np.array_equal(everything[-1], last):
        die(f"{name}: logits_all[-1] differs from logits_last")
    if not np.isfinite(everything).all():
        die(f"{name}: llama.cpp produced non-finite logits")
    top = np.argsort(-last, kind="stable")[:kTopK]
    doc = {
        "name": name,
        "prompt": prompt,
        "tokens": tokens.tolist(),
        "n_vocab": int(last.shape[0]),
        "last": {
            "argmax": int(top[0]),
            "max": float(last[top[0]]),
            "logsumexp": float(logsumexp(last[None, :])[0]),
            "top_ids": top.tolist(),
            "top_logits": [float(v) for v in last[top]],
        },
        "positions": position_stats(everything),
        "files": {"logits_last_f16": f"{name}.logits_last.f16.npy"},
    }
    np.save(os.path.join(out, f"{name}.logits_last.f16.npy"), last.astype(np.float16))
    if keep_all_f16:
        np.save(os.path.join(out, f"{name}.logits_all.f16.npy"), everything.astype(np.float16))
        doc["files"]["logits_all_f16"] = f"{name}.logits_all.f16.npy"
    if meta["n_gen_requested"]:
        greedy = np.load(os.path.join(dump_dir, "greedy.npy"))
        top2 = np.load(os.path.join(dump_dir, "greedy_top2.npy"))
        doc["greedy"] = {
            "requested": meta["n_gen_requested"],
            "stops_after_eog": not meta["ignore_eog"],
            "tokens": greedy.tolist(),
            "pieces": meta["greedy_pieces"],
            "max": [float(v) for v in top2[:, 0]],
            "margin": [float(v) for v in top2[:, 0] - top2[:, 1]],
        }
    with open(os.path.join(out, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dumper", required=True, help="adamas-dump-logits binary")
    ap.add_argument("--model", required=True, help="GGUF model (the default SmolLM2 Q4_1)")
    ap.add_argument("--corpus", required=True, help="corpus dir holding austen.txt")
    ap.add_argument("--out", required=True, help="fixture dir to write")
    ap.add_argument("--work", required=True, help="scratch dir for the full dumps")
    ap.add_argument("--llamacpp-version", default="unknown", help="as llama-bench --version prints it")
    ap.add_argument("--llamacpp-commit", default="unknown")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.work, exist_ok=True)
    prompts = [
        ("capital", "The capital of France is", True, kGreedyTokens, False),
        ("chat", kChat, False, kGreedyTokens, False),
        ("austen", austen_passage(a.dumper, a.model, a.corpus, a.work, a.threads), False, 0, False),
        ("unicode", kUnicode, False, 0, False),
        ("capital-chat", kCapitalChat, False, kGreedyTokens, True),
        ("counting", kCounting, False, kGreedyTokens, True),
    ]
    for name, prompt, keep_all, n_gen, ignore_eog in prompts:
        d = os.path.join(a.work, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "prompt.txt"), "w", encoding="utf-8") as f:
            f.write(prompt)
        meta = dump(a.dumper, a.model, d, os.path.join(d, "prompt.txt"), True, n_gen, a.threads, ignore_eog)
        fixture(name, prompt, meta, d, a.out, keep_all)
        print(f"make_fixtures.py: {name}: {meta['n_prompt']} tokens", file=sys.stderr)

    h = hashlib.sha256()
    with open(a.model, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    manifest = {
        "llamacpp_version": a.llamacpp_version,
        "llamacpp_commit": a.llamacpp_commit,
        "llamacpp_source": "sdist of llama-cpp-python==0.3.36 (vendor/llama.cpp)",
        "model_file": os.path.basename(a.model),
        "model_sha256": h.hexdigest(),
        "model_desc": meta["model_desc"],
        "dumper_options": {"threads": a.threads, "flash_attn": "off", "add_special": True, "parse_special": True,
                           "single_batch": True},
        "system_info": meta["system_info"],
        "prompts": [name for name, *_ in prompts],
    }
    with open(os.path.join(a.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
