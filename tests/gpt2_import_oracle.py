#!/usr/bin/python3
"""Test oracle for scripts/import_model.py: a small GPT-2-shaped model in torch,
written in both layouts, and HuggingFace's forward pass written out here.

    gpt2_import_oracle.py make DIR [--seed N]
        DIR/hf/model.safetensors + config.json   (HF names, no prefix, Conv1D layout)
        DIR/hfbin/pytorch_model.bin + config.json (prefix "transformer.", lm_head.weight
                                                   tied, GPT-2's attn.bias mask buffers)
        DIR/tl/state_dict.pt + cfg.json           (TransformerLens names, its buffers)
        DIR/ids.npy (int64), DIR/ids32.npy (int32): 12 token ids
    gpt2_import_oracle.py check MODEL.safetensors DIR [--report REPORT.json]
        MODEL (the importer's output) run by scripts/tlmodel.py on DIR/ids.npy,
        embedded by its embed.W_E + pos_embed.W_pos, logits by its unembed, against
        the forward pass below on DIR/hf's weights (float64): exit 0 when the
        largest difference is below 1e-12 of the logits' scale, 1 otherwise.  With
        --report (attncheck's model JSON), its `top1` rows' certified "top-1 model"
        tokens must be this forward pass's argmax at every position.

The forward pass follows HuggingFace's GPT2LMHeadModel (modeling_gpt2.py):
x = wte[ids] + wpe[pos]; per block a = LN(x) c_attn.W + c_attn.b (Conv1D),
q|k|v split, heads from (head, d_head) column order, logits q k^T / sqrt(d_head),
causal, softmax, merged heads through c_proj; MLP gelu_new (NewGELUActivation);
ln_f; logits x wte^T.  It shares no code with the importer or tlmodel.py.
"""
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import tlmodel  # noqa: E402

CFG = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 50,
       "n_positions": 16, "n_embd": 16, "n_layer": 2, "n_head": 2, "n_inner": 64,
       "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
       "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False,
       "reorder_and_upcast_attn": False, "resid_pdrop": 0.1, "embd_pdrop": 0.1,
       "attn_pdrop": 0.1, "initializer_range": 0.02, "bos_token_id": 49,
       "eos_token_id": 49, "use_cache": True, "tie_word_embeddings": True}
N_IDS = 12


def hf_state_dict(seed):
    """HF GPT-2 names (no prefix), float32, with every bias and LN non-trivial."""
    g = torch.Generator().manual_seed(seed)
    d, m, V, P = CFG["n_embd"], CFG["n_inner"], CFG["vocab_size"], CFG["n_positions"]

    def r(*shape, s=0.2, mean=0.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * s + mean).float()

    sd = {"wte.weight": r(V, d, s=0.5), "wpe.weight": r(P, d, s=0.3)}
    for layer in range(CFG["n_layer"]):
        h = f"h.{layer}."
        sd[h + "ln_1.weight"], sd[h + "ln_1.bias"] = r(d, s=0.1, mean=1.0), r(d, s=0.1)
        sd[h + "attn.c_attn.weight"], sd[h + "attn.c_attn.bias"] = r(d, 3 * d, s=0.4), r(3 * d)
        sd[h + "attn.c_proj.weight"], sd[h + "attn.c_proj.bias"] = r(d, d), r(d)
        sd[h + "ln_2.weight"], sd[h + "ln_2.bias"] = r(d, s=0.1, mean=1.0), r(d, s=0.1)
        sd[h + "mlp.c_fc.weight"], sd[h + "mlp.c_fc.bias"] = r(d, m, s=0.1), r(m, s=0.05)
        sd[h + "mlp.c_proj.weight"], sd[h + "mlp.c_proj.bias"] = r(m, d, s=0.05), r(d)
    sd["ln_f.weight"], sd["ln_f.bias"] = r(d, s=0.1, mean=1.0), r(d, s=0.1)
    return sd


def tl_state_dict(sd):
    """The same model in TransformerLens names, split with torch here (as
    HookedTransformer.state_dict() holds it, buffers included)."""
    d, H = CFG["n_embd"], CFG["n_head"]
    E = d // H
    tl = {"embed.W_E": sd["wte.weight"], "pos_embed.W_pos": sd["wpe.weight"],
          "unembed.W_U": sd["wte.weight"].T.contiguous(),
          "unembed.b_U": torch.zeros(CFG["vocab_size"])}
    for layer in range(CFG["n_layer"]):
        h, b = f"h.{layer}.", f"blocks.{layer}."
        tl[b + "ln1.w"], tl[b + "ln1.b"] = sd[h + "ln_1.weight"], sd[h + "ln_1.bias"]
        tl[b + "ln2.w"], tl[b + "ln2.b"] = sd[h + "ln_2.weight"], sd[h + "ln_2.bias"]
        qkv_w = torch.split(sd[h + "attn.c_attn.weight"], d, dim=1)
        qkv_b = torch.split(sd[h + "attn.c_attn.bias"], d)
        for name, w, bias in zip("QKV", qkv_w, qkv_b):
            tl[b + "attn.W_" + name] = w.reshape(d, H, E).permute(1, 0, 2).contiguous()
            tl[b + "attn.b_" + name] = bias.reshape(H, E)
        tl[b + "attn.W_O"] = sd[h + "attn.c_proj.weight"].reshape(H, E, d)
        tl[b + "attn.b_O"] = sd[h + "attn.c_proj.bias"]
        tl[b + "mlp.W_in"], tl[b + "mlp.b_in"] = sd[h + "mlp.c_fc.weight"], sd[h + "mlp.c_fc.bias"]
        tl[b + "mlp.W_out"] = sd[h + "mlp.c_proj.weight"]
        tl[b + "mlp.b_out"] = sd[h + "mlp.c_proj.bias"]
        n = CFG["n_positions"]
        tl[b + "attn.mask"] = torch.tril(torch.ones(n, n, dtype=torch.bool))
        tl[b + "attn.IGNORE"] = torch.tensor(-1e5)
    tl["ln_final.w"], tl["ln_final.b"] = sd["ln_f.weight"], sd["ln_f.bias"]
    return tl


def tl_cfg():
    d, H = CFG["n_embd"], CFG["n_head"]
    return {"d_model": d, "n_layers": CFG["n_layer"], "n_heads": H, "d_head": d // H,
            "d_mlp": CFG["n_inner"], "act_fn": "gelu_new", "normalization_type": "LN",
            "eps": 1e-5, "n_ctx": CFG["n_positions"], "d_vocab": CFG["vocab_size"],
            "d_vocab_out": CFG["vocab_size"], "positional_embedding_type": "standard",
            "attention_dir": "causal", "original_architecture": "GPT2LMHeadModel",
            "model_name": "gpt2-tiny-test", "use_attn_scale": True, "dtype": "torch.float32"}


def hf_forward(sd, ids):
    """HuggingFace GPT-2's forward pass in float64: logits [n, vocab]."""
    sd = {k: v.double() for k, v in sd.items()}
    d, H, eps = CFG["n_embd"], CFG["n_head"], CFG["layer_norm_epsilon"]
    E = d // H
    ids = torch.as_tensor(ids, dtype=torch.long)
    n = ids.shape[0]
    x = sd["wte.weight"][ids] + sd["wpe.weight"][torch.arange(n)]

    def ln(x, w, b):
        return torch.nn.functional.layer_norm(x, (d,), w, b, eps)

    def gelu_new(z):
        return 0.5 * z * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z ** 3)))

    causal = torch.tril(torch.ones(n, n, dtype=torch.bool))
    for layer in range(CFG["n_layer"]):
        h = f"h.{layer}."
        a = ln(x, sd[h + "ln_1.weight"], sd[h + "ln_1.bias"])
        qkv = a @ sd[h + "attn.c_attn.weight"] + sd[h + "attn.c_attn.bias"]  # Conv1D
        q, k, v = qkv.split(d, dim=-1)
        q, k, v = (t.view(n, H, E).transpose(0, 1) for t in (q, k, v))  # [head, n, d_head]
        s = q @ k.transpose(-1, -2) / (v.size(-1) ** 0.5)
        s = s.masked_fill(~causal, float("-inf"))
        o = (torch.softmax(s, dim=-1) @ v).transpose(0, 1).reshape(n, d)
        x = x + o @ sd[h + "attn.c_proj.weight"] + sd[h + "attn.c_proj.bias"]
        a = ln(x, sd[h + "ln_2.weight"], sd[h + "ln_2.bias"])
        z = gelu_new(a @ sd[h + "mlp.c_fc.weight"] + sd[h + "mlp.c_fc.bias"])
        x = x + z @ sd[h + "mlp.c_proj.weight"] + sd[h + "mlp.c_proj.bias"]
    x = ln(x, sd["ln_f.weight"], sd["ln_f.bias"])
    return (x @ sd["wte.weight"].T).numpy()


def make(out, seed):
    sd = hf_state_dict(seed)
    for sub in ("hf", "hfbin", "tl"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    tlmodel.save_file({k: v.numpy() for k, v in sd.items()},
                      os.path.join(out, "hf", "model.safetensors"), {"format": "pt"})
    full = {"transformer." + k: v for k, v in sd.items()}
    full["lm_head.weight"] = sd["wte.weight"]
    n = CFG["n_positions"]
    for layer in range(CFG["n_layer"]):
        full[f"transformer.h.{layer}.attn.bias"] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
        full[f"transformer.h.{layer}.attn.masked_bias"] = torch.tensor(-1e4)
    torch.save(full, os.path.join(out, "hfbin", "pytorch_model.bin"))
    for sub in ("hf", "hfbin"):
        with open(os.path.join(out, sub, "config.json"), "w") as f:
            json.dump(CFG, f, indent=2)
    torch.save(tl_state_dict(sd), os.path.join(out, "tl", "state_dict.pt"))
    with open(os.path.join(out, "tl", "cfg.json"), "w") as f:
        json.dump(tl_cfg(), f, indent=2)
    ids = torch.randint(0, CFG["vocab_size"], (N_IDS,), generator=torch.Generator().manual_seed(seed + 1))
    np.save(os.path.join(out, "ids.npy"), ids.numpy().astype(np.int64))
    np.save(os.path.join(out, "ids32.npy"), ids.numpy().astype(np.int32))
    return 0


def check(model, out, report=None):
    sd, _ = tlmodel.load_file(os.path.join(out, "hf", "model.safetensors"))
    sd = {k: torch.from_numpy(v) for k, v in sd.items()}
    ids = np.load(os.path.join(out, "ids.npy"))
    ref = hf_forward(sd, ids)
    t, meta = tlmodel.load_file(model)
    cfg = tlmodel.config(meta)
    x = t["embed.W_E"][ids] + t["pos_embed.W_pos"][: len(ids)]
    got = tlmodel.forward(t, cfg, x) @ t["unembed.W_U"] + t["unembed.b_U"]
    diff, scale = float(np.max(np.abs(got - ref))), float(np.max(np.abs(ref)))
    ok = diff <= 1e-12 * scale
    print(f"gpt2_import_oracle: {model}: max |logit - HF logit| = {diff:.3g} "
          f"(scale {scale:.3g}): {'agree' if ok else 'DISAGREE'}")
    if report:
        with open(report) as f:
            rows = [r for r in json.load(f)["rows"] if r["params"].get("check") == "top1"]
        want = np.argmax(ref, axis=1)
        seen = 0
        for r in rows:
            pos, top = int(r["params"]["pos"]), r["extra"].get("top-1 model")
            seen += 1
            if not (top or "").isdigit() or int(top) != want[pos]:
                print(f"gpt2_import_oracle: top1 row at position {pos}: attncheck's model "
                      f"top-1 {top}, HF argmax {want[pos]}")
                ok = False
        if seen != len(ids):
            print(f"gpt2_import_oracle: {seen} top1 rows for {len(ids)} positions")
            ok = False
    return 0 if ok else 1


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "make":
        seed = int(sys.argv[4]) if len(sys.argv) >= 5 and sys.argv[3] == "--seed" else 18
        return make(sys.argv[2], seed)
    if len(sys.argv) >= 4 and sys.argv[1] == "check":
        report = sys.argv[5] if len(sys.argv) >= 6 and sys.argv[4] == "--report" else None
        return check(sys.argv[2], sys.argv[3], report)
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main())
