"""Write tests/SdBlazor.Engine.Tests/Fixtures/tokenizer_cases.json with expected CLIP-style ids (77 each).

Usage: /usr/bin/python3 tokenizer_cases.py [--tokenizer-dir ../../models/sdblazor-mini/tokenizer]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer as tk  # noqa: E402
from common import REPO  # noqa: E402

PROMPTS = [
    "a red circle on a blue background, top left",
    "a white square on a black background, bottom right",
    "",
    "  A   Purple TRIANGLE on a   green background,center  ",
    "a zebra circle on a blue background!",
    "an orange square, 42 degrees",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer-dir", default=os.path.join(REPO, "models", "sdblazor-mini", "tokenizer"))
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "SdBlazor.Engine.Tests", "Fixtures",
                                                  "tokenizer_cases.json"))
    a = ap.parse_args()
    t = tk.Tokenizer.load(a.tokenizer_dir)
    cases = []
    for p in PROMPTS:
        ids = t(p)
        assert len(ids) == 77
        cases.append({"prompt": p, "input_ids": ids,
                      "tokens": [tk.SOT] + [s for w in tk.PAT.findall(tk.clean(p)) for s in t.bpe(w)] + [tk.EOT]})
    out = {"vocab_size": len(t.encoder), "bos_token_id": t.sot, "eos_token_id": t.eot, "pad_token_id": t.pad,
           "max_length": 77, "cases": cases}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    for c in cases:
        print(repr(c["prompt"]), c["tokens"])


if __name__ == "__main__":
    main()
