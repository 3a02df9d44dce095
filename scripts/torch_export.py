#!/usr/bin/python3
"""Run an exported attention-only network in torch, in float32 or bfloat16, on the CPU.

    /usr/bin/python3 scripts/torch_export.py OUT.safetensors --dtype float32[,bfloat16]

OUT.safetensors is what `attncheck export ID --format safetensors` writes (a claim's
converted network, its input stream and its reference output).  The network runs as
scripts/run_export.py runs it in numpy (src/aonet.h's definition), every tensor and
operation in the dtype: inputs and weights rounded to it, torch's own kernels (its
exp is not correctly rounded; its matrix products sum in their own order, in float32
for bfloat16 on the CPU).  Printed, one line per dtype: E, the largest Euclidean distance over the
stream's rows between the output and the reference, as attncheck's `sweep --arith`
measures it.  It is an estimate of what attncheck's emulation certifies for its own
model of the hardware, not a certified number.

Exit: 0, or 2 when torch or numpy is missing or the file is not an export.
"""
import argparse
import json
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover
    print("torch_export: %s is missing (apt-get install python3-torch python3-numpy)" % e.name,
          file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_export  # noqa: E402
import tlmodel  # noqa: E402


def layer_norm_features(x, d, ln, t, prefix):
    if ln["kind"] == "none":
        return x
    y = x.clone()
    f = x[:, :d]
    if ln["kind"] in ("RMS", "RMSPre"):  # TransformerLens's RMSNorm: x * rsqrt(mean(x^2) + eps) * w
        g = f * torch.rsqrt((f ** 2).mean(-1, keepdim=True) + float(ln["eps"]))
        if ln["kind"] == "RMS":
            g = g * t[prefix + ".w"]
        y[:, :d] = g
        return y
    mu = f.mean(-1, keepdim=True)
    var = ((f - mu) ** 2).mean(-1, keepdim=True)
    g = (f - mu) / torch.sqrt(var + float(ln["eps"]))
    if ln["kind"] == "LN":
        g = g * t[prefix + ".w"] + t[prefix + ".b"]
    y[:, :d] = g
    return y


def run_network(t, net, x):
    d, n = net["d"], x.shape[0]
    for k, layer in enumerate(net["layers"]):
        prefix = "net.layers.%d" % k
        u = layer_norm_features(x, d, layer["ln"], t, prefix + ".ln")
        out = torch.zeros_like(x)
        for g in layer["groups"]:
            p = "%s.%s." % (prefix, g["name"])
            wq, wk, wv, wo = (t[p + w] for w in ("W_Q", "W_K", "W_V", "W_O"))
            q = torch.einsum("nd,hde->hne", u, wq)
            kk = torch.einsum("nd,hde->hne", u, wk)
            v = torch.einsum("nd,hde->hne", u, wv)
            s = torch.einsum("hne,hme->hnm", q, kk) / float(g["attn_scale"])
            allowed = torch.from_numpy(run_export.mask_matrix(g["mask"], n))
            s = s.masked_fill(~allowed, float("-inf"))
            a = torch.softmax(s, dim=-1)
            out = out + torch.einsum("hne,hed->nd", torch.einsum("hnm,hme->hne", a, v), wo)
        x = x + out
    if net.get("ln_final"):
        x = layer_norm_features(x, d, net["ln_final"], t, "net.ln_final")
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("export")
    ap.add_argument("--dtype", required=True, help="float32, bfloat16 or both, comma-separated")
    args = ap.parse_args()
    dtypes = args.dtype.split(",")
    if not dtypes or any(d not in ("float32", "bfloat16") for d in dtypes):
        print("torch_export: --dtype takes float32 and bfloat16", file=sys.stderr)
        return 2
    try:
        tensors, meta = tlmodel.load_file(args.export)
        net = json.loads(meta["attncheck_network"])
        ref = np.asarray(tensors["reference_out"], dtype=np.float64)
    except (OSError, KeyError, ValueError) as e:
        print("torch_export: %s: not a claim's export (%s)" % (args.export, e), file=sys.stderr)
        return 2
    for name in dtypes:
        dt = getattr(torch, name)
        t = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64)).to(dt)
             for k, v in tensors.items()}
        with torch.no_grad():
            y = run_network(t, net, t["stream_in"]).to(torch.float64).numpy()
        print("%.17g" % float(np.sqrt(((y - ref) ** 2).sum(-1)).max()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
