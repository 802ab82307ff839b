"""CLIP-format byte-level BPE tokenizer trained on the caption corpus + reference encoder."""
import json
import os
import re
from collections import Counter

SOT = "<|startoftext|>"
EOT = "<|endoftext|>"
MAX_LEN = 77

# ASCII-safe equivalent of CLIP's pattern:
# <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
PAT = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+",
                 re.IGNORECASE)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENCODER = bytes_to_unicode()


def clean(text):
    return re.sub(r"\s+", " ", text).strip().lower()


def word_symbols(word):
    chars = [BYTE_ENCODER[b] for b in word.encode("utf-8")]
    return tuple(chars[:-1]) + (chars[-1] + "</w>",)


def train_bpe(texts):
    """Greedy BPE until every corpus word is a single symbol. Deterministic tie-break."""
    freqs = Counter()
    for t in texts:
        for w in PAT.findall(clean(t)):
            freqs[word_symbols(w)] += 1
    words = dict(freqs)
    merges = []
    while True:
        pairs = Counter()
        for syms, f in words.items():
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], tuple(-ord(ch) for ch in kv[0][0] + " " + kv[0][1])))[0]
        merges.append(best)
        new = {}
        for syms, f in words.items():
            out, i = [], 0
            while i < len(syms):
                if i < len(syms) - 1 and syms[i] == best[0] and syms[i + 1] == best[1]:
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + f
        words = new
    return merges


def build_vocab(merges):
    base = list(BYTE_ENCODER.values())
    vocab = base + [v + "</w>" for v in base]
    vocab += ["".join(m) for m in merges]
    vocab += [SOT, EOT]
    return {tok: i for i, tok in enumerate(vocab)}


def save(out_dir, merges):
    os.makedirs(out_dir, exist_ok=True)
    vocab = build_vocab(merges)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    tok = lambda s: {"__type": "AddedToken", "content": s, "lstrip": False, "normalized": True,
                     "rstrip": False, "single_word": False}
    cfg = {"add_prefix_space": False, "bos_token": tok(SOT), "do_lower_case": True, "eos_token": tok(EOT),
           "errors": "replace", "model_max_length": MAX_LEN, "pad_token": EOT,
           "tokenizer_class": "CLIPTokenizer", "unk_token": tok(EOT)}
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    stm = {"bos_token": {"content": SOT, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
           "eos_token": {"content": EOT, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
           "pad_token": EOT,
           "unk_token": {"content": EOT, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}}
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w") as f:
        json.dump(stm, f, indent=2)


class Tokenizer:
    """Reference tokenizer reading vocab.json / merges.txt (CLIP algorithm)."""

    def __init__(self, vocab, merges):
        self.encoder = dict(vocab)
        self.ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.sot = self.encoder[SOT]
        self.eot = self.encoder[EOT]
        self.pad = self.eot
        self.cache = {}

    @classmethod
    def load(cls, d):
        with open(os.path.join(d, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        with open(os.path.join(d, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().strip().split("\n")[1:]
        return cls(vocab, [tuple(l.split()) for l in lines if l])

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        syms = list(word_symbols(word))
        while len(syms) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(syms, syms[1:]))]
            r, _ = min(pairs)
            if r == 1 << 30:
                break
            a, b = [m for m, rr in self.ranks.items() if rr == r][0]
            out, i = [], 0
            while i < len(syms):
                if i < len(syms) - 1 and syms[i] == a and syms[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            syms = out
        self.cache[word] = syms
        return syms

    def encode_text(self, text):
        ids = []
        for w in PAT.findall(clean(text)):
            ids += [self.encoder[s] for s in self.bpe(w)]
        return ids

    def __call__(self, text, max_len=MAX_LEN):
        ids = [self.sot] + self.encode_text(text)[: max_len - 2] + [self.eot]
        return ids + [self.pad] * (max_len - len(ids))
