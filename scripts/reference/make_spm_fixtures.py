#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizer/llama_spm_cases.json: test strings for the SentencePiece tokenizer with
the token ids llama.cpp's `llama-tokenize` gives on llama.cpp's Llama (SPM) vocabulary, and the text
llama.cpp's llama_detokenize makes of those ids (through adamas-tokenize-cases, our program on llama.h,
which must also agree with llama-tokenize on the ids). Run by scripts/reference/make-fixtures.sh.

    python3 scripts/reference/make_spm_fixtures.py --bin LLAMA_CPP_BIN_DIR --vocab ggml-vocab-llama-spm.gguf \
        --out tests/fixtures/tokenizer/llama_spm_cases.json --llamacpp-commit COMMIT
"""
import argparse
import json
import subprocess
import sys

AUSTEN = (
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be "
    "in want of a wife.\n\nHowever little known the feelings or views of such a man may be on his first "
    "entering a neighbourhood, this truth is so well fixed in the minds of the surrounding families, that "
    "he is considered as the rightful property of some one or other of their daughters.\n\n\"My dear Mr. "
    "Bennet,\" said his lady to him one day, \"have you heard that Netherfield Park is let at last?\"\n")

# (name, text, add_bos, parse_special). Valid UTF-8 only: for invalid bytes our tokenizer deliberately
# differs from llama.cpp (see docs/design.md), so those are tested by hand-built cases instead.
CASES = [
    ("empty", "", False, True),
    ("empty_bos", "", True, True),
    ("hello_bos", "Hello world", True, True),
    ("hello", "Hello world", False, True),
    ("leading_space", " Hello world", False, True),
    ("leading_spaces", "    leading spaces", True, True),
    ("trailing_spaces", "trailing spaces   ", False, True),
    ("single_space", " ", False, True),
    ("only_spaces", "     ", False, True),
    ("space_runs", "a  b   c    d     e      f", False, True),
    ("newline", "\n", False, True),
    ("newlines", "line1\nline2\n\nline3\n\n\n\nend\n", True, True),
    ("tabs", "\tone\t\ttwo\t \tthree\t", False, True),
    ("crlf", "windows\r\nline\r\n\r\nend", False, True),
    ("mixed_whitespace", " \t \n \r\n\t\t  x \n\n  y\t \n", False, True),
    ("unicode_spaces", "a\u00a0b\u2009c\u3000d\u200be\u2028f", False, True),
    ("literal_u2581", "\u2581 is SentencePiece's space \u2581\u2581x", False, True),
    ("digits", "0 1 12 123 1234 12345 3.14159 1,000,000 2024-01-31", False, True),
    ("long_number", "31415926535897932384626433832795028841971693993751", False, True),
    ("dots_digits", "3.3 3..3 3...3 33333333 ½ ² ①", False, True),
    ("accents", "Café déjà vu — naïve façade, Ångström, São Paulo, Ærø.", False, True),
    ("combining", "e\u0301 a\u0308 n\u0303 Zalgo: Z\u0351\u0363a\u0366\u036bl\u0310g\u0352o", False, True),
    ("cyrillic_greek", "Привет, мир! Γειά σου Κόσμε", False, True),
    ("cjk", "日本語のテキストと中文文本，한국어 텍스트。", False, True),
    ("cjk_mixed", "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～", False, True),
    ("thai_devanagari", "สวัสดีชาวโลก नमस्ते दुनिया", False, True),
    ("rtl", "שלום עולם — مرحبا بالعالم", False, True),
    ("emoji", "I ❤️ tokenizers 🤖🚀 👩‍👩‍👧‍👦 🇫🇷 👍🏽 🏳️‍🌈!", False, True),
    ("math_alphanumerics", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ∮ E⋅da = Q, 𝒜 ≠ ℵ₀", False, True),
    ("control_chars", "bell\x07 eot\x04 esc\x1b[0m nul\x00 del\x7f", False, True),
    ("byte_token_text", "<0x41> <0x0A> <0xFF>", False, False),
    ("special_bos_eos", "<s>Hello</s> there", True, True),
    ("special_as_text", "<s>Hello</s> there", True, False),
    ("special_adjacent", "<s></s><unk><s>x</s>", False, True),
    ("special_only", "<s>", False, True),
    ("special_at_end", "Hello<s>", False, True),
    ("special_newline", "</s>\n<s> after a newline", False, True),
    ("unk_as_text", "<unk> and <s> typed", True, False),
    ("special_partial", "<s <s/> </s <unk <s>>", False, True),
    ("llama2_chat", "[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nWhat is 2+2? [/INST]", True, True),
    ("llama2_chat_history", "[INST] Hi [/INST] Hello! How can I help?</s><s>[INST] Tell me a joke. [/INST]",
     True, True),
    ("mistral_chat", "[INST] What is your favourite condiment? [/INST]", True, True),
    ("contractions", "it's don't they're we've I'M YOU'LL he'd", False, True),
    ("punctuation", "Hello!!! What??? (yes) [no] {maybe} <tag> a->b a::b #include \"x.h\" ...", False, True),
    ("code", "def f(x):\n    return x ** 2  # square\n\nif __name__ == \"__main__\":\n\tprint(f(3))\n",
     False, True),
    ("html_url", "<div class=\"x\">&amp;</div> https://example.com/a?b=c&d=e#f", False, True),
    ("austen", AUSTEN, True, True),
    ("long_word", "a" * 1000 + " " + "ab" * 500, False, True),
]


def die(message):
    sys.exit(f"make_spm_fixtures.py: {message}")


def llama_tokenize(binary, vocab, text, add_bos, parse_special):
    args = [binary, "-m", vocab, "--ids", "--log-disable", "--stdin", "--no-escape"]
    if not add_bos:
        args.append("--no-bos")
    if not parse_special:
        args.append("--no-parse-special")
    r = subprocess.run(args, input=text.encode(), capture_output=True)
    if r.returncode != 0:
        die(f"{' '.join(args)} failed:\n{r.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


def llama_cases(binary, vocab, cases):
    """ids and detokenized texts from adamas-tokenize-cases, one result per case."""
    lines = "".join(f"{int(b)} {int(p)} {t.encode().hex()}\n" for _, t, b, p in cases)
    r = subprocess.run([binary, "-m", vocab], input=lines.encode(), capture_output=True)
    if r.returncode != 0:
        die(f"{binary} failed:\n{r.stderr.decode(errors='replace')[-2000:]}")
    out = []
    for line in r.stdout.decode().splitlines():
        ids, detok, detok_plain = line.split(" ")
        unhex = lambda h: "" if h == "-" else h
        out.append(([] if ids == "-" else [int(i) for i in ids.split(",")], unhex(detok), unhex(detok_plain)))
    if len(out) != len(cases):
        die(f"{binary} answered {len(out)} of {len(cases)} cases")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="llama.cpp bin dir with llama-tokenize and adamas-tokenize-cases")
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--llamacpp-commit", default="unknown")
    args = ap.parse_args()

    names = [c[0] for c in CASES]
    if len(set(names)) != len(names):
        die("case names repeat")
    detok = llama_cases(f"{args.bin}/adamas-tokenize-cases", args.vocab, CASES)
    cases = []
    for (name, text, add_bos, parse_special), (api_ids, decoded_hex, _) in zip(CASES, detok):
        ids = llama_tokenize(f"{args.bin}/llama-tokenize", args.vocab, text, add_bos, parse_special)
        if ids != api_ids:
            die(f"{name}: llama-tokenize {ids} != llama_tokenize {api_ids}")
        cases.append({"name": name, "text_hex": text.encode().hex(), "add_bos": add_bos,
                      "parse_special": parse_special, "ids": ids, "decoded_hex": decoded_hex})
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"about": "token ids from llama.cpp's llama-tokenize (commit " + args.llamacpp_commit
                   + ") on ggml-vocab-llama-spm.gguf, and llama_detokenize(ids, remove_special=false, "
                   "unparse_special=true) as decoded_hex; see scripts/reference/make_spm_fixtures.py",
                   "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
