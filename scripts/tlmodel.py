"""TransformerLens-layout models in safetensors, with numpy alone.

save_file/load_file read and write safetensors (F64, F32, F16, BF16) the way
src/safetensors.c does; config() reads the model config from __metadata__ by
the rules of src/tmodel.h; forward() is a plain float64 forward pass of a
pre-LN transformer in that layout (TransformerLens conventions):
  h = x + sum_heads softmax(q.k / attn_scale) v W_O + b_O,  q = LN1(x) W_Q + b_Q, ...
  y = h + act(LN2(h) W_in + b_in) W_out + b_out,   output LN_final(y).
Run with Debian's /usr/bin/python3 (python3-numpy).
"""
import json
import math
import os
import struct
import tempfile

import numpy as np

_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2"}
PARAMS = [
    "ln1.w", "ln1.b", "ln2.w", "ln2.b",
    "attn.W_Q", "attn.W_K", "attn.W_V", "attn.b_Q", "attn.b_K", "attn.b_V",
    "attn.W_O", "attn.b_O",
    "mlp.W_in", "mlp.b_in", "mlp.W_out", "mlp.b_out",
]


def _bf16_bits(a):
    """float32 -> bfloat16 bit patterns, rounded to nearest even."""
    bits = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return bits.astype("<u2")


def save_file(tensors, path, metadata=None, dtype=None):
    """Write tensors (name -> array) sorted by name, header keys sorted and
    padded to 8 bytes; dtype None keeps each array's float type, or one of
    F64/F32/F16/BF16 for all.  Written to a temporary file and renamed."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        dt = dtype or {np.dtype("float64"): "F64", np.dtype("float32"): "F32",
                       np.dtype("float16"): "F16"}[a.dtype]
        if not np.all(np.isfinite(a)):
            raise ValueError(f"tensor {name}: NaN or infinite value")
        raw = (_bf16_bits(a) if dt == "BF16" else np.ascontiguousarray(a, dtype=_DTYPES[dt])).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".tmp.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for raw in blobs:
                f.write(raw)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_file(path, native=False):
    """(name -> float64 array, metadata dict); native: each array in its own
    float dtype (BF16 as float32, exactly), None for a non-float tensor."""
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen])
    base = 8 + hlen
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        raw = data[base + b:base + end]
        if e["dtype"] == "BF16":
            a = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view("<f4")
        elif native and e["dtype"] not in _DTYPES:
            out[name] = None
            continue
        else:
            a = np.frombuffer(raw, _DTYPES[e["dtype"]])
        out[name] = (a if native else a.astype(np.float64)).reshape(e["shape"])
    return out, meta


def config(meta):
    """The model config from metadata (see src/tmodel.h for the rules)."""
    c = dict(json.loads(meta["config"])) if "config" in meta else {}
    for k in ("d_model", "n_layers", "n_heads", "d_head", "d_mlp"):
        if k in meta:
            c[k] = int(meta[k])
    for k in ("act_fn", "normalization_type", "attention_dir"):
        if k in meta:
            c[k] = meta[k]
    for k in ("final_rms", "parallel_attn_mlp"):
        if k in meta:
            c[k] = meta[k] in ("true", "True")
    for k in ("eps", "eps_final", "attn_scale"):
        if k in meta:
            c[k] = float(meta[k])
    c.setdefault("normalization_type", "LN")
    if c["normalization_type"] is None:
        c["normalization_type"] = "none"
    c.setdefault("final_rms", False)
    if c.get("parallel_attn_mlp") is None:
        c["parallel_attn_mlp"] = False
    c.setdefault("eps", 1e-5)
    c.setdefault("eps_final", c["eps"])
    c.setdefault("attn_scale", math.sqrt(c["d_head"]))
    c.setdefault("attention_dir", "causal")
    return c


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    """TransformerLens's RMSNorm: x / sqrt(mean(x^2) + eps) * w (no centring, no b)."""
    return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps) * w


def norm(kind, x, p, prefix, eps, dtype):
    """LN, LNPre, RMS, RMSPre or none, with p[prefix + ".w"] / ".b" as the kind has them."""
    if kind in ("LN", "LNPre"):
        w = np.asarray(p[prefix + ".w"], dtype=dtype) if kind == "LN" else 1
        b = np.asarray(p[prefix + ".b"], dtype=dtype) if kind == "LN" else 0
        return layer_norm(x, w, b, eps)
    if kind in ("RMS", "RMSPre"):
        w = np.asarray(p[prefix + ".w"], dtype=dtype) if kind == "RMS" else 1
        return rms_norm(x, w, eps)
    return x


def final_kind(cfg):
    """ln_final's kind: final_rms turns LN into RMS and LNPre into RMSPre."""
    kind = cfg["normalization_type"]
    if cfg.get("final_rms"):
        kind = {"LN": "RMS", "LNPre": "RMSPre"}.get(kind, kind)
    return kind


def final_norm(tensors, cfg, x, dtype=np.float64):
    return norm(final_kind(cfg), x, tensors, "ln_final", cfg["eps_final"], dtype)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow for large |z|


ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "silu": lambda z: z * _sigmoid(z),
    "sigmoid": _sigmoid,
    "gelu": lambda z: 0.5 * z * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0))),
    "gelu_new": lambda z: 0.5 * z * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z ** 3))),
}


def forward(tensors, cfg, x, return_resid=False, dtype=np.float64, act=None):
    """Run the model on x [n_ctx, d_model] (the stream entering block 0), in
    float64 (or dtype, e.g. np.longdouble; act replaces the activation).
    Returns the output after ln_final (and each block's output)."""
    act = act or ACTIVATIONS[cfg["act_fn"]]
    kind = cfg["normalization_type"]
    resid = []
    x = np.asarray(x, dtype=dtype)
    n = x.shape[0]
    for layer in range(cfg["n_layers"]):
        p = {k: np.asarray(tensors[f"blocks.{layer}.{k}"], dtype=dtype)
             for k in PARAMS if f"blocks.{layer}.{k}" in tensors}
        x_in = x  # a parallel block's MLP reads the block's input too
        u = norm(kind, x, p, "ln1", cfg["eps"], dtype)
        q = np.einsum("nd,hde->hne", u, p["attn.W_Q"]) + p["attn.b_Q"][:, None, :]
        k = np.einsum("nd,hde->hne", u, p["attn.W_K"]) + p["attn.b_K"][:, None, :]
        v = np.einsum("nd,hde->hne", u, p["attn.W_V"]) + p["attn.b_V"][:, None, :]
        s = np.einsum("hne,hme->hnm", q, k) / cfg["attn_scale"]
        if cfg["attention_dir"] == "causal":
            s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
        s = s - s.max(-1, keepdims=True)
        a = np.exp(s)
        a /= a.sum(-1, keepdims=True)
        z = np.einsum("hnm,hme->hne", a, v)
        x = x + np.einsum("hne,hed->nd", z, p["attn.W_O"]) + p["attn.b_O"]
        u = norm(kind, x_in if cfg.get("parallel_attn_mlp") else x, p, "ln2", cfg["eps"], dtype)
        x = x + act(u @ p["mlp.W_in"] + p["mlp.b_in"]) @ p["mlp.W_out"] + p["mlp.b_out"]
        resid.append(x)
    x = final_norm(tensors, cfg, x, dtype)
    return (x, resid) if return_resid else x
