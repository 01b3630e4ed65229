"""GPU end-to-end encoding against raw `SentenceTransformer.encode`, measured in one run.

Texts: --n distinct statements built from the shipped example survey (sentences of its
answers, paired so they are distinct). Baseline: `SentenceTransformer.encode` in fp16
(batch 512, its own length sorting). themer: `SentenceTransformerEncoder(device="cuda")`
(length-sorted batches of 2,048 tokenised by 8 threads ahead of the GPU, fp16, mean
pooling). Both get a
warm-up first. Prints texts/s, the ratio, and the cosine between the two outputs.
Exits 0 with a note when no CUDA device is present.

    python eval/bench/gpu_encode.py --model PATH [--n 200000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def statements(n: int) -> list[str]:
    frame = pd.read_csv(ROOT / "examples" / "nps_survey.csv", dtype=str, keep_default_na=False)
    parts = [s.strip() for text in pd.concat([frame["reason"], frame["improve"]])
             for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 3]
    parts = list(dict.fromkeys(parts))
    out, k = [], 0
    while len(out) < n:
        a, b = parts[k % len(parts)], parts[(k * 7 + k // len(parts) + 1) % len(parts)]
        out.append(f"{a} {b}" if k >= len(parts) else a)
        k += 1
    return list(dict.fromkeys(out))[:n]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: GPU benchmark skipped")
        return
    from sentence_transformers import SentenceTransformer

    from themer.nlp.embed import SentenceTransformerEncoder

    texts = statements(args.n)
    raw = SentenceTransformer(str(args.model), device="cuda")
    raw.half()
    raw.encode(texts[:4096], batch_size=512, show_progress_bar=False)
    torch.cuda.synchronize()
    start = time.perf_counter()
    base = raw.encode(texts, batch_size=512, convert_to_numpy=True, normalize_embeddings=True,
                      show_progress_bar=False)
    torch.cuda.synchronize()
    raw_rate = len(texts) / (time.perf_counter() - start)
    ours = SentenceTransformerEncoder(args.model, device="cuda")
    ours.encode(texts[:4096])
    torch.cuda.synchronize()
    start = time.perf_counter()
    mine = ours.encode(texts)
    torch.cuda.synchronize()
    rate = len(texts) / (time.perf_counter() - start)
    cosine = np.sum(base * mine, axis=1)
    result = {"gpu": torch.cuda.get_device_name(0), "texts": len(texts),
              "mean_tokens": float(np.mean([len(t.split()) for t in texts[:5000]])),
              "raw_encode_per_s": round(raw_rate), "themer_per_s": round(rate),
              "ratio": round(rate / raw_rate, 2), "cosine_min": float(cosine.min()),
              "cosine_mean": float(cosine.mean())}
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
