#!/usr/bin/python3
"""A GPT-2-small-shaped model with random weights, in TransformerLens layout.

    /usr/bin/python3 scripts/make_gpt2_shaped.py OUT.safetensors [--seed N] [--input-npy X.npy]

Shape: 12 layers, d_model 768, 12 heads of 64, d_mlp 3072, gelu_new, causal,
LayerNorm (eps 1e-5), attn_scale 8 = sqrt(d_head).  Scale (GPT-2's
initialisation, with the biases and LayerNorm parameters of a trained model
made non-trivial so that every path is exercised):
  W_Q, W_K, W_V, W_in        ~ N(0, 0.02^2)
  W_O, W_out                 ~ N(0, (0.02 / sqrt(2 * 12))^2)   (GPT-2's residual scaling)
  b_Q, b_K, b_V, b_O, b_in, b_out ~ N(0, 0.01^2)
  ln*.w ~ 1 + N(0, 0.05^2),  ln*.b ~ N(0, 0.02^2)
F32, seeded (numpy's PCG64): the same seed gives the same file.  With
--input-npy, also 32 tokens of residual stream ~ N(0, 1) as float32 .npy.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import tlmodel  # noqa: E402

CFG = {"d_model": 768, "n_layers": 12, "n_heads": 12, "d_head": 64, "d_mlp": 3072,
       "act_fn": "gelu_new", "normalization_type": "LN", "eps": 1e-5, "attn_scale": 8.0,
       "attention_dir": "causal"}


def make(seed):
    rng = np.random.default_rng(seed)
    d, h, e, m, n_layers = (CFG[k] for k in ("d_model", "n_heads", "d_head", "d_mlp", "n_layers"))
    std, std_resid = 0.02, 0.02 / math.sqrt(2 * n_layers)

    def normal(shape, s, mean=0.0):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(s) + np.float32(mean))

    t = {}
    for layer in range(n_layers):
        p = f"blocks.{layer}."
        for ln in ("ln1", "ln2"):
            t[p + ln + ".w"] = normal(d, 0.05, 1.0)
            t[p + ln + ".b"] = normal(d, 0.02)
        for w in ("W_Q", "W_K", "W_V"):
            t[p + "attn." + w] = normal((h, d, e), std)
        for b in ("b_Q", "b_K", "b_V"):
            t[p + "attn." + b] = normal((h, e), 0.01)
        t[p + "attn.W_O"] = normal((h, e, d), std_resid)
        t[p + "attn.b_O"] = normal(d, 0.01)
        t[p + "mlp.W_in"] = normal((d, m), std)
        t[p + "mlp.b_in"] = normal(m, 0.01)
        t[p + "mlp.W_out"] = normal((m, d), std_resid)
        t[p + "mlp.b_out"] = normal(d, 0.01)
    t["ln_final.w"] = normal(d, 0.05, 1.0)
    t["ln_final.b"] = normal(d, 0.02)
    return t, rng


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=2309)
    ap.add_argument("--input-npy")
    args = ap.parse_args()
    tensors, rng = make(args.seed)
    meta = {"config": json.dumps(CFG, sort_keys=True),
            "source": f"random GPT-2-small-shaped weights, scripts/make_gpt2_shaped.py --seed {args.seed}"}
    tlmodel.save_file(tensors, args.out, meta)
    n = sum(a.size for a in tensors.values())
    print(f"make_gpt2_shaped: wrote {args.out} ({len(tensors)} tensors, {n} parameters, F32, seed {args.seed})")
    if args.input_npy:
        np.save(args.input_npy, rng.standard_normal((32, CFG["d_model"]), dtype=np.float32))
        print(f"make_gpt2_shaped: wrote {args.input_npy} (32 tokens)")


if __name__ == "__main__":
    main()
