#!/usr/bin/python3
"""Run an exported attention-only network in float64, and the model it came from.

    /usr/bin/python3 scripts/run_export.py OUT.safetensors [--tol T] [--perturb NAME]

OUT.safetensors is what `attncheck model FILE --export-converted OUT` writes (the
layout is in doc/models.md, "Converted models out"): the network under "net.", its
description in the metadata key "attncheck_network", the stream it starts from
("stream_in"), and either the original model ("original." tensors, its config in
"original_config", its tokens in "input") or a reference output ("reference_out").
The bias token's row is row 0, or the metadata "bias_row" (the blog
constructions' extra token is last).  The network is run as src/aonet.h
defines it:

    layer k:  U = LN_k(X) on the first d columns (the rest passed through)
              X = X + sum over groups, heads h: softmax_mask(q.k / attn_scale) v W_O
    output:   ln_final on the first d columns

The original is run by scripts/tlmodel.py's forward pass (TransformerLens
conventions; for a gelu/relu model, with the activation replaced by the SiLU_a
the heads compute, as the export's "reference_act" says).  Both run in plain
float64 (numpy), and again in long double with the weights made exact by
OUT.json's exact entries.  They agree when
  - in float64, the largest difference on the real tokens' rows is at most
    tol * max(1, max |output|), tol = 2^-24 by default: float64's unit roundoff
    2^-53 amplified by up to 2^29.  The amplification is the construction's:
    the bias token's features are 0 only in exact arithmetic, its LayerNorm
    divides whatever rounding leaves there by sqrt(eps) (2^8.3 for eps = 1e-5),
    and the neuron heads read it (the bias token's own output row, shown
    apart, is amplified once more by ln_final);
  - and, where long double is wider than double, the difference shrinks by at
    least 2^8 with 11 more bits (or is below 2^-52 of the scale when the
    reference is an exported float64 rounding): it is rounding, not a wrong
    weight, mask or bias.  --perturb changes one weight by a relative 1e-5 first, so a test can
    show that such a change is caught by both.

Exit: 0 the outputs agree, 1 they differ, 2 a missing module, a bad file or usage.
"""
import argparse
import json
import os
import sys

try:
    import numpy as np
except ImportError:  # pragma: no cover
    print("run_export: python3-numpy is missing (apt-get install python3-numpy)", file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlmodel  # noqa: E402

MASKS = {
    "all": lambda i, j: True,
    "causal": lambda i, j: j <= i,
    "self+bias": lambda i, j: j == i or j == 0,
    "self": lambda i, j: j == i,
    "real": lambda i, j: j == 0 if i == 0 else j >= 1,
    "real-causal": lambda i, j: j == 0 if i == 0 else 1 <= j <= i,
}


def mask_matrix(rule, n):
    return np.array([[MASKS[rule](i, j) for j in range(n)] for i in range(n)], dtype=bool)


def layer_norm_features(x, d, ln, tensors, prefix):
    """LN of the first d columns (kinds LN, LNPre, RMS, RMSPre, none), the rest
    passed through; RMS kinds do not centre and have no .b."""
    if ln["kind"] == "none":
        return x
    eps = float(ln["eps"])
    y = x.copy()
    f = x[:, :d]
    mu = f.mean(-1, keepdims=True) if ln["kind"] in ("LN", "LNPre") else 0 * f[:, :1]
    var = ((f - mu) ** 2).mean(-1, keepdims=True)
    g = (f - mu) / np.sqrt(var + eps)
    if ln["kind"] in ("LN", "RMS"):
        g = g * tensors[prefix + ".w"]
    if ln["kind"] == "LN":
        g = g + tensors[prefix + ".b"]
    y[:, :d] = g
    return y


def run_network(tensors, net, x):
    d = net["d"]
    n = x.shape[0]
    for k, layer in enumerate(net["layers"]):
        prefix = "net.layers.%d" % k
        u = layer_norm_features(x, d, layer["ln"], tensors, prefix + ".ln")
        out = np.zeros_like(x)
        for g in layer["groups"]:
            p = "%s.%s." % (prefix, g["name"])
            wq, wk, wv, wo = (tensors[p + w] for w in ("W_Q", "W_K", "W_V", "W_O"))
            q = np.einsum("nd,hde->hne", u, wq)
            kk = np.einsum("nd,hde->hne", u, wk)
            v = np.einsum("nd,hde->hne", u, wv)
            s = np.einsum("hne,hme->hnm", q, kk) / float(g["attn_scale"])
            allowed = mask_matrix(g["mask"], n)
            s = np.where(allowed, s, -np.inf)
            s = s - s.max(-1, keepdims=True)
            a = np.exp(s)
            a /= a.sum(-1, keepdims=True)
            out += np.einsum("hne,hed->nd", np.einsum("hnm,hme->hne", a, v), wo)
        x = x + out
    if net.get("ln_final"):
        x = layer_norm_features(x, d, net["ln_final"], tensors, "net.ln_final")
    return x


def apply_exact(tensors, exact_path, dtype):
    """The tensors as dtype, with the exact entries of OUT.json (decimals that
    the F64 file only rounds) read at dtype's precision."""
    out = {k: np.asarray(v, dtype=dtype) for k, v in tensors.items()}
    with open(exact_path, encoding="utf-8") as f:
        doc = json.load(f)
    for name, entries in doc["exact_entries"].items():
        flat = out[name].reshape(-1)
        for index, text in entries.items():
            flat[int(index)] = dtype(text)
    return out


def reference(tensors, meta, dtype):
    """The stream the network must end in: [[ln_final(0), 1, 1], [model(X), 1, 0]],
    the model run by tlmodel.forward at dtype (SiLU_a in place of the activation
    when the export says so), or the exported reference output."""
    if "reference_out" in tensors:
        return np.asarray(tensors["reference_out"], dtype=dtype), "the exported reference output"
    cfg = tlmodel.config({"config": meta["original_config"]})
    orig = {k[len("original."):]: v for k, v in tensors.items() if k.startswith("original.")}
    act, what = None, "the original model (scripts/tlmodel.py)"
    ref_act = meta.get("reference_act", "model")
    if ref_act.startswith("silu_a:"):
        a = dtype(ref_act[len("silu_a:"):])
        act = lambda z: z / (1 + np.exp(-a * z))  # noqa: E731
        what = "the original model with SiLU_a, a = %s" % ref_act[len("silu_a:"):]
    elif ref_act.startswith("silusum:"):
        # sum_j c_j SiLU_{a_j} per block ("c:a,c:a|..."); tlmodel runs one activation
        blocks = ref_act[len("silusum:"):].split("|")
        if len(set(blocks)) != 1:
            raise ValueError("reference_act: blocks with different heads per neuron")
        terms = [tuple(dtype(v) for v in t.split(":")) for t in blocks[0].split(",")]
        act = lambda z: sum(c * z / (1 + np.exp(-a * z)) for c, a in terms)  # noqa: E731
        what = "the original model with sum_j c_j SiLU_{a_j} (%d heads per neuron)" % len(terms)
    out = tlmodel.forward(orig, cfg, tensors["input"], dtype=dtype, act=act)
    d = out.shape[1]
    ref = np.zeros((out.shape[0] + 1, d + 2), dtype=dtype)
    ref[1:, :d] = out
    zero = np.zeros((1, d), dtype=dtype)
    zero = tlmodel.final_norm(orig, cfg, zero, dtype)
    ref[0, :d] = zero[0]
    ref[:, d] = 1
    ref[0, d + 1] = 1
    return ref, what


def exact_reference(path, tensors, meta):
    """The exact output to compare with (float64 array): the claim's reference_out, or
    the original run in long double with the exact weights (reference)."""
    if "reference_out" in tensors:
        return np.asarray(tensors["reference_out"], dtype=np.float64)
    exact = path + ".json"
    t = apply_exact(tensors, exact, np.longdouble) if os.path.exists(exact) else \
        {k: np.asarray(v, np.longdouble) for k, v in tensors.items()}
    ref, _ = reference(t, meta, np.longdouble)
    return np.asarray(ref, dtype=np.float64)


def distance(y, ref, bias_row):
    """E: the largest Euclidean distance over the rows, the bias row left out."""
    rows = [i for i in range(ref.shape[0]) if i != bias_row % ref.shape[0]]
    y = np.asarray(y, dtype=np.float64)
    return float(np.sqrt(((y[rows] - ref[rows]) ** 2).sum(-1)).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("export")
    ap.add_argument("--tol", type=float, default=2.0 ** -24)
    ap.add_argument("--perturb", metavar="NAME", help="scale the largest entry of tensor NAME by 1 + 1e-5 first")
    args = ap.parse_args()
    try:
        tensors, meta = tlmodel.load_file(args.export)
        net = json.loads(meta["attncheck_network"])
        tensors["stream_in"]
    except (OSError, KeyError, ValueError) as e:
        print("run_export: %s: not an attncheck export (%s)" % (args.export, e), file=sys.stderr)
        return 2
    if args.perturb:
        if args.perturb not in tensors:
            print("run_export: no tensor %s" % args.perturb, file=sys.stderr)
            return 2
        flat = tensors[args.perturb].reshape(-1)
        flat[int(np.argmax(np.abs(flat)))] *= 1 + 1e-5
    heads = sum(g["n_heads"] for layer in net["layers"] for g in layer["groups"])
    ref, what = reference(tensors, meta, np.float64)
    y = run_network(tensors, net, tensors["stream_in"])
    scale = max(1.0, float(np.abs(ref).max()))
    b = int(meta.get("bias_row", "0")) % y.shape[0]
    rows = [i for i in range(y.shape[0]) if i != b]
    real = float(np.abs(y[rows] - ref[rows]).max()) / scale
    bias = float(np.abs(y[b] - ref[b]).max()) / scale
    ok = real <= args.tol
    print("run_export: %s: %d layers, %d heads, against %s" % (args.export, len(net["layers"]), heads, what))
    print("  float64:     real tokens' largest difference %.3e of max(1, |output|), the bias "
          "token's %.3e (tolerance %.3e on real tokens): %s" % (real, bias, args.tol, "agree" if ok else "DIFFER"))
    # The same at 64-bit long double, the weights exact (OUT.json): rounding shrinks.
    exact_path = args.export + ".json"
    if np.finfo(np.longdouble).nmant > 52 and os.path.exists(exact_path):
        tl = apply_exact(tensors, exact_path, np.longdouble)
        refl, _ = reference(tl, meta, np.longdouble)
        yl = run_network(tl, net, tl["stream_in"])
        real_l = float(np.abs(yl[rows] - refl[rows]).max()) / scale
        # an exported reference is a float64 rounding of a certified enclosure: 2^-52 floor
        floor = 2.0 ** -52 if "reference_out" in tensors else 2.0 ** -60
        shrinks = real_l <= max(real / 256, floor)
        print("  long double: real tokens' largest difference %.3e (%d-bit significand, exact "
              "weights): %s" % (real_l, np.finfo(np.longdouble).nmant + 1,
                                "rounding (smaller by 2^8, or at the reference's float64 rounding)"
                                if shrinks else "DOES NOT SHRINK"))
        ok = ok and shrinks
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
