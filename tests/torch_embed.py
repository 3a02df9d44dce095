#!/usr/bin/python3
"""A model's export decodes tokens alone (tests/check_torch.c).

    /usr/bin/python3 tests/torch_embed.py make DIR [--bad-embed]
        writes DIR/m.safetensors (a small causal TransformerLens model with embed.W_E,
        pos_embed.W_pos, unembed.W_U, unembed.b_U; with --bad-embed W_E is
        [d_vocab, d_model + 1]), DIR/tokens.npy and DIR/x.npy = W_E[tokens] + W_pos;
    /usr/bin/python3 tests/torch_embed.py check DIR EXPORT
        checks that EXPORT carries the four tensors as the model file has them, that
        scripts/torch_export.py's embed_tokens(tokens) is the export's stream_in, that
        its logits (float64) are the model's (scripts/tlmodel.py) ln_final(y) W_U + b_U,
        and that tl_state_dict's embeddings (the bias token as BOS) and tl_forward give
        the same stream and logits.
Exit 0 when all hold, 1 when one fails.
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import tlmodel  # noqa: E402

CFG = {"d_model": 8, "n_layers": 1, "n_heads": 2, "d_head": 4, "d_mlp": 16, "act_fn": "silu",
       "normalization_type": "LN", "attention_dir": "causal", "d_vocab": 11, "n_ctx": 6}


def make(d, bad):
    rng = np.random.default_rng(5)
    D, H, E, M, V = (CFG[k] for k in ("d_model", "n_heads", "d_head", "d_mlp", "d_vocab"))
    shapes = {"ln1.w": (D,), "ln1.b": (D,), "ln2.w": (D,), "ln2.b": (D,),
              "attn.W_Q": (H, D, E), "attn.W_K": (H, D, E), "attn.W_V": (H, D, E),
              "attn.b_Q": (H, E), "attn.b_K": (H, E), "attn.b_V": (H, E),
              "attn.W_O": (H, E, D), "attn.b_O": (D,), "mlp.W_in": (D, M), "mlp.b_in": (M,),
              "mlp.W_out": (M, D), "mlp.b_out": (D,)}
    # short dyadic weights: every sum below is exact in float64
    t = {"blocks.0." + k: rng.integers(-64, 65, s) / 128.0 for k, s in shapes.items()}
    t["ln_final.w"] = 1 + rng.integers(-16, 17, D) / 128.0
    t["ln_final.b"] = rng.integers(-16, 17, D) / 128.0
    t["embed.W_E"] = rng.integers(-256, 257, (V, D + bad)) / 256.0
    t["pos_embed.W_pos"] = rng.integers(-64, 65, (CFG["n_ctx"], D)) / 256.0
    t["unembed.W_U"] = rng.integers(-64, 65, (D, V)) / 64.0
    t["unembed.b_U"] = rng.integers(-64, 65, V) / 64.0
    tlmodel.save_file(t, os.path.join(d, "m.safetensors"), {"config": json.dumps(CFG)}, "F64")
    tokens = rng.integers(0, V, 5)
    np.save(os.path.join(d, "tokens.npy"), tokens)
    if not bad:
        np.save(os.path.join(d, "x.npy"), t["embed.W_E"][tokens] + t["pos_embed.W_pos"][:5])
    return 0


def check(d, export):
    import torch
    import torch_export
    model, _ = tlmodel.load_file(os.path.join(d, "m.safetensors"))
    net, tensors, meta = torch_export.load(export, torch.float64)
    failed = []

    def say(name, ok):
        print("%s: %s" % (name, "ok" if ok else "FAILED"))
        if not ok:
            failed.append(name)

    say("the export carries the four tensors bit for bit",
        all(n in tensors and np.array_equal(tensors[n], model[n]) for n in torch_export.EMBEDDINGS))
    tokens = np.load(os.path.join(d, "tokens.npy"))
    with torch.no_grad():
        s = net.embed_tokens(torch.from_numpy(tokens))
        say("embed_tokens = stream_in", torch.equal(s, net.stream_in))
        logits = net.logits(net(s)).numpy()
        # TransformerLens's form: the bias token is a BOS token (id d_vocab) at position 0
        sd, cfg, _ = torch_export.tl_state_dict(net)
        ids = torch.cat([torch.tensor([CFG["d_vocab"]]), torch.from_numpy(tokens)])
        resid = sd["embed.W_E"][ids] + sd["pos_embed.W_pos"][:len(ids)]
        say("TransformerLens embedding, bias token as BOS = stream_in", torch.equal(resid, net.stream_in))
        y_tl = torch_export.tl_forward(sd, cfg, resid.unsqueeze(0))[0]
        tl_logits = (y_tl[1:] @ sd["unembed.W_U"] + sd["unembed.b_U"]).numpy()
        say("TransformerLens form's logits = the export's",
            float(np.abs(tl_logits - logits).max()) <= 1e-12 * max(1.0, float(np.abs(logits).max())))
    cfg = tlmodel.config({"config": meta["original_config"]})
    orig = {k[len("original."):]: v for k, v in tensors.items() if k.startswith("original.")}
    y = tlmodel.forward(orig, cfg, np.load(os.path.join(d, "x.npy")), dtype=np.float64)
    want = y @ model["unembed.W_U"] + model["unembed.b_U"]
    err = float(np.abs(logits - want).max())
    say("logits = the model's (|diff| %.3g)" % err, err <= 1e-9 * max(1.0, float(np.abs(want).max())))
    say("same top-1 tokens", np.array_equal(logits.argmax(-1), want.argmax(-1)))
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1] == "make":
        sys.exit(make(sys.argv[2], 1 if "--bad-embed" in sys.argv else 0))
    sys.exit(check(sys.argv[2], sys.argv[3]))
