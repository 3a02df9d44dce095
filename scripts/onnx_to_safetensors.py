#!/usr/bin/python3
"""Extract the SVTR encoder of PaddleOCR's PP-OCRv4 recogniser (ONNX) into a
TransformerLens-layout safetensors file, and prove the extraction right.

    /usr/bin/python3 scripts/onnx_to_safetensors.py MODEL.onnx OUT.safetensors [--input-npy X.npy]

What it does, reading the graph rather than trusting a description of it:
  1. Follows the encoder from its input (the flatten+transpose of the CNN's
     feature map) through each block: the LayerNorm decomposition (its eps),
     the qkv Linear and how its output is reshaped and transposed into heads
     (which slice is q, k, v; n_heads, d_head), the scale multiplying q, the
     output projection, the MLP and its activation (x * Sigmoid(beta * x)),
     the residual adds, and the final LayerNorm.  Anything else is an error.
  2. Writes the weights (float32, exact) with the config in __metadata__.
  3. Evaluates the encoder's part of the ONNX graph with a small numpy
     interpreter of the ops it uses, on random inputs, in float32 (as a
     float32 runtime would) and in float64, and compares both with a plain
     float64 forward pass of the extracted model (scripts/tlmodel.py).
  4. With --input-npy: runs the whole graph (the CNN too) on a synthetic
     48x320 image of dark strokes on white and saves the activations entering
     block 0, [n_ctx, d_model], as float32 .npy.
Needs Debian's python3-onnx and python3-numpy.
"""
import argparse
import json
import sys

import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__file__))
import tlmodel  # noqa: E402

try:
    import onnx
    from onnx import numpy_helper
except ImportError:  # pragma: no cover
    sys.exit("onnx_to_safetensors: python3-onnx is missing (apt-get install python3-onnx)")


class GraphError(Exception):
    pass


# ---------------------------------------------------------------- the graph
class Graph:
    def __init__(self, model):
        self.nodes = list(model.graph.node)
        self.const = {}
        self.producer = {}
        self.consumers = {}
        for i, n in enumerate(self.nodes):
            for o in n.output:
                self.producer[o] = i
            for x in n.input:
                self.consumers.setdefault(x, []).append(i)
            if n.op_type == "Constant":
                self.const[n.output[0]] = numpy_helper.to_array(attr(n)["value"])
        for t in model.graph.initializer:
            self.const[t.name] = numpy_helper.to_array(t)

    def node(self, name):
        return self.nodes[self.producer[name]]

    def only_consumer(self, name, op, extra_ok=()):
        cs = [self.nodes[i] for i in self.consumers.get(name, [])]
        cs = [c for c in cs if c.op_type not in extra_ok]
        if len(cs) != 1 or cs[0].op_type != op:
            raise GraphError(f"{name}: expected one {op} consumer, found {[c.op_type for c in cs]}")
        return cs[0]

    def consumer_ops(self, name):
        return [self.nodes[i] for i in self.consumers.get(name, [])]


def attr(n):
    return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}


def other_input(n, name):
    (o,) = [x for x in n.input if x != name]
    return o


# ----------------------------------------------------- reading the encoder
def read_layer_norm(g, x):
    """x -> LN(x): returns (output name, w name, b name, eps)."""
    mean = g.only_consumer(x, "ReduceMean", extra_ok=("Sub", "Add", "Shape", "MatMul"))
    (sub,) = [c for c in g.consumer_ops(x) if c.op_type == "Sub"]
    if attr(mean).get("axes") != [-1] or sub.input != [x, mean.output[0]]:
        raise GraphError(f"LayerNorm at {x}: not a mean over the last axis")
    pow_ = [c for c in g.consumer_ops(sub.output[0]) if c.op_type == "Pow"][0]
    div = [c for c in g.consumer_ops(sub.output[0]) if c.op_type == "Div"][0]
    if float(g.const[pow_.input[1]]) != 2.0:
        raise GraphError("LayerNorm: variance is not a mean of squares")
    mean2 = g.only_consumer(pow_.output[0], "ReduceMean")
    add = g.only_consumer(mean2.output[0], "Add")
    eps = g.const[other_input(add, mean2.output[0])]
    sqrt = g.only_consumer(add.output[0], "Sqrt")
    if div.input != [sub.output[0], sqrt.output[0]]:
        raise GraphError("LayerNorm: not (x - mean) / sqrt(var + eps)")
    mul = g.only_consumer(div.output[0], "Mul")
    addb = g.only_consumer(mul.output[0], "Add")
    w, b = other_input(mul, div.output[0]), other_input(addb, mul.output[0])
    if not (w.startswith("layer_norm_") and b.startswith("layer_norm_")):
        raise GraphError(f"LayerNorm: affine parameters {w}, {b} are not LayerNorm weights")
    return addb.output[0], w, b, np.float32(eps)


def read_linear(g, x):
    """x -> x W + b: (output name, W name, b name)."""
    mm = [c for c in g.consumer_ops(x) if c.op_type == "MatMul"]
    if len(mm) != 1:
        raise GraphError(f"{x}: expected one MatMul")
    mm = mm[0]
    if mm.input[0] != x or mm.input[1] not in g.const:
        raise GraphError(f"{x}: MatMul is not x times a constant weight")
    add = g.only_consumer(mm.output[0], "Add")
    return add.output[0], mm.input[1], other_input(add, mm.output[0])


def concat_constants(g, name):
    """The shape a Reshape gets from Concat(Cast(const or Shape-slice)...): ints, None for a
    dimension read from a tensor's shape."""
    cat = g.node(name)
    dims = []
    for i in cat.input:
        n = g.node(i)
        src = n.input[0] if n.op_type == "Cast" else i
        dims.append(int(g.const[src].reshape(-1)[0]) if src in g.const else None)
    return dims


def read_attention(g, u, d_model):
    """The attention sublayer reading u = LN1(x): its weights and layout."""
    qkv, w_qkv, b_qkv = read_linear(g, u)
    reshape = g.only_consumer(qkv, "Reshape")
    dims = concat_constants(g, reshape.input[1])
    if len(dims) != 5 or dims[0] != 0 or dims[2] != 3 or dims[1] is not None:
        raise GraphError(f"qkv reshape {dims} is not [0, n_ctx, 3, n_heads, d_head]")
    n_heads, d_head = dims[3], dims[4]
    tr = g.only_consumer(reshape.output[0], "Transpose")
    if attr(tr)["perm"] != [2, 0, 3, 1, 4]:
        raise GraphError(f"qkv transpose {attr(tr)['perm']} is not [2, 0, 3, 1, 4]")
    part = {}
    for sl in g.consumer_ops(tr.output[0]):
        a = attr(sl)
        if sl.op_type != "Slice" or a["axes"] != [0] or a["ends"][0] != a["starts"][0] + 1:
            raise GraphError("qkv is not split by slices of axis 0")
        sq = g.only_consumer(sl.output[0], "Squeeze")
        part[a["starts"][0]] = sq.output[0]
    mul = g.only_consumer(part[0], "Mul")
    scale = np.float32(g.const[other_input(mul, part[0])])
    kt = g.only_consumer(part[1], "Transpose")
    if attr(kt)["perm"] != [0, 1, 3, 2]:
        raise GraphError("k is not transposed for q k^T")
    qk = g.only_consumer(mul.output[0], "MatMul")
    if qk.input != [mul.output[0], kt.output[0]]:
        raise GraphError("logits are not (scale q) k^T")
    sm = g.only_consumer(qk.output[0], "Softmax")
    if attr(sm)["axis"] != 3:
        raise GraphError("softmax is not over keys")
    av = g.only_consumer(sm.output[0], "MatMul")
    if av.input != [sm.output[0], part[2]]:
        raise GraphError("the attention pattern does not weight v")
    tr2 = g.only_consumer(av.output[0], "Transpose")
    if attr(tr2)["perm"] != [0, 2, 1, 3]:
        raise GraphError("heads are not merged as [B, n_ctx, n_heads, d_head]")
    rs2 = g.only_consumer(tr2.output[0], "Reshape")
    if concat_constants(g, rs2.input[1])[2] != n_heads * d_head:
        raise GraphError("merged heads are not n_heads * d_head wide")
    out, w_o, b_o = read_linear(g, rs2.output[0])
    W, b = g.const[w_qkv], g.const[b_qkv]
    if W.shape != (d_model, 3 * n_heads * d_head) or g.const[w_o].shape != (n_heads * d_head, d_model):
        raise GraphError("attention weight shapes disagree with the reshape")
    # qkv column s*(H*E) + h*E + e holds part s, head h, coordinate e
    W = W.reshape(d_model, 3, n_heads, d_head).transpose(1, 2, 0, 3)  # [3, H, D, E]
    b = b.reshape(3, n_heads, d_head)
    p = {"attn.W_Q": W[0], "attn.W_K": W[1], "attn.W_V": W[2],
         "attn.b_Q": b[0], "attn.b_K": b[1], "attn.b_V": b[2],
         "attn.W_O": g.const[w_o].reshape(n_heads, d_head, d_model), "attn.b_O": g.const[b_o]}
    names = {"qkv": w_qkv, "out": w_o}
    return out, p, n_heads, d_head, scale, names


def read_mlp(g, u):
    """u -> act(u W_in + b_in) W_out + b_out with act(z) = z * Sigmoid(beta * z)."""
    pre, w_in, b_in = read_linear(g, u)
    cons = g.consumer_ops(pre)
    (mul_beta,) = [c for c in cons if c.op_type == "Mul" and any(x in g.const for x in c.input)]
    beta = float(g.const[other_input(mul_beta, pre)])
    sig = g.only_consumer(mul_beta.output[0], "Sigmoid")
    (gate,) = [c for c in cons if c.op_type == "Mul" and c is not mul_beta]
    if sorted(gate.input) != sorted([pre, sig.output[0]]):
        raise GraphError("MLP activation is not z * sigmoid(beta z)")
    if beta != 1.0:
        raise GraphError(f"swish with beta {beta}: not SiLU")
    out, w_out, b_out = read_linear(g, gate.output[0])
    p = {"mlp.W_in": g.const[w_in], "mlp.b_in": g.const[b_in],
         "mlp.W_out": g.const[w_out], "mlp.b_out": g.const[b_out]}
    return out, p, {"in": w_in, "out": w_out}


def read_encoder(g):
    """Follow the encoder from the flatten + transpose of the CNN features."""
    starts = [n for n in g.nodes if n.op_type == "Transpose" and attr(n).get("perm") == [0, 2, 1]
              and g.node(n.input[0]).op_type == "Reshape"
              and any(c.op_type == "ReduceMean" for c in g.consumer_ops(n.output[0]))]
    if len(starts) != 1:
        raise GraphError(f"found {len(starts)} candidate encoder inputs")
    x = starts[0].output[0]
    facts = {"input": x, "blocks": []}
    tensors, eps_seen, scales = {}, set(), set()
    layer = 0
    while True:
        u, w1, b1, eps1 = read_layer_norm(g, x)
        nxt = [c for c in g.consumer_ops(u) if c.op_type == "MatMul"]
        if not nxt:  # the final LayerNorm: nothing but reshapes follow
            tensors["ln_final.w"], tensors["ln_final.b"] = g.const[w1], g.const[b1]
            facts["ln_final"] = {"w": w1, "eps": float(eps1)}
            facts["output"] = u
            break
        d_model = g.const[w1].shape[0]
        attn_out, pa, n_heads, d_head, scale, an = read_attention(g, u, d_model)
        add = g.only_consumer(attn_out, "Add")
        if sorted(add.input) != sorted([x, attn_out]):
            raise GraphError(f"block {layer}: attention output is not added to the stream")
        h = add.output[0]
        u2, w2, b2, eps2 = read_layer_norm(g, h)
        mlp_out, pm, mn = read_mlp(g, u2)
        add2 = [c for c in g.consumer_ops(mlp_out) if c.op_type == "Add"][0]
        if sorted(add2.input) != sorted([h, mlp_out]):
            raise GraphError(f"block {layer}: MLP output is not added to the stream")
        pre = f"blocks.{layer}."
        tensors[pre + "ln1.w"], tensors[pre + "ln1.b"] = g.const[w1], g.const[b1]
        tensors[pre + "ln2.w"], tensors[pre + "ln2.b"] = g.const[w2], g.const[b2]
        for k, v in {**pa, **pm}.items():
            tensors[pre + k] = v
        facts["blocks"].append({"ln1": w1, "ln2": w2, "qkv": an["qkv"], "attn_out": an["out"],
                                "mlp_in": mn["in"], "mlp_out": mn["out"], "n_heads": n_heads,
                                "d_head": d_head, "scale": float(scale), "eps": [float(eps1), float(eps2)]})
        eps_seen |= {float(eps1), float(eps2)}
        scales.add(float(scale))
        x = add2.output[0]
        layer += 1
    if len(eps_seen) != 1 or len(scales) != 1:
        raise GraphError(f"blocks differ in eps {eps_seen} or scale {scales}")
    b0 = facts["blocks"][0]
    cfg = {"d_model": int(tensors["blocks.0.ln1.w"].shape[0]), "n_layers": layer,
           "n_heads": b0["n_heads"], "d_head": b0["d_head"],
           "d_mlp": int(tensors["blocks.0.mlp.W_in"].shape[1]), "act_fn": "silu",
           "normalization_type": "LN", "eps": eps_seen.pop(), "eps_final": facts["ln_final"]["eps"],
           # logits are (scale q) k^T with scale the graph's float32 constant: attn_scale = 1/scale
           "attn_scale": 1.0 / scales.pop(), "attention_dir": "bidirectional"}
    return tensors, cfg, facts


# --------------------------------------------------------- the interpreter
def conv2d(x, w, b, a):
    """ONNX Conv (NCHW) by im2col."""
    group = a.get("group", 1)
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    n, c, hh, ww = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (hh + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (ww + pl + pr - dw * (kw - 1) - 1) // sw + 1
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i * dh:i * dh + sh * oh:sh, j * dw:j * dw + sw * ow:sw]
    og = o // group
    out = np.empty((n, o, oh, ow), dtype=x.dtype)
    for gi in range(group):
        cg_cols = cols[:, gi * cg:(gi + 1) * cg]
        out[:, gi * og:(gi + 1) * og] = np.einsum("nckluv,ockl->nouv", cg_cols,
                                                  w[gi * og:(gi + 1) * og], optimize=True)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def softmax_opset9(x, axis):
    """Softmax of opset < 13: over the flattened dimensions from axis on."""
    axis = axis % x.ndim
    flat = x.reshape(int(np.prod(x.shape[:axis])), -1)
    e = np.exp(flat - flat.max(1, keepdims=True))
    return (e / e.sum(1, keepdims=True)).reshape(x.shape)


def avg_pool(x, a):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    if any(a.get("pads", [0, 0, 0, 0])):
        raise GraphError("padded AveragePool not implemented")
    n, c, hh, ww = x.shape
    oh, ow = (hh - kh) // sh + 1, (ww - kw) // sw + 1
    out = np.zeros((n, c, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out += x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
    return out / x.dtype.type(kh * kw)


def run_node(n, v, ftype):
    a = attr(n)
    i = [v[x] if x else None for x in n.input]
    op = n.op_type
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power}
    if op in binary:
        return [binary[op](i[0], i[1])]
    if op == "MatMul":
        return [np.matmul(i[0], i[1])]
    if op == "Sqrt":
        return [np.sqrt(i[0])]
    if op == "Sigmoid":
        return [(1 / (1 + np.exp(-i[0]))).astype(i[0].dtype)]
    if op == "Relu":
        return [np.maximum(i[0], 0)]
    if op == "HardSigmoid":
        return [np.clip(ftype(a.get("alpha", 0.2)) * i[0] + ftype(a.get("beta", 0.5)), 0, 1)]
    if op == "Clip":
        return [np.clip(i[0], ftype(a.get("min", -np.inf)), ftype(a.get("max", np.inf)))]
    if op == "ReduceMean":
        return [i[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))]
    if op == "Softmax":
        return [softmax_opset9(i[0], a.get("axis", 1))]
    if op == "Reshape":
        shape = [int(s) for s in i[1]]
        shape = [i[0].shape[k] if s == 0 else s for k, s in enumerate(shape)]
        return [i[0].reshape(shape)]
    if op == "Transpose":
        return [i[0].transpose(a["perm"])]
    if op == "Squeeze":
        return [np.squeeze(i[0], axis=tuple(a["axes"]))]
    if op == "Slice":
        sl = [slice(None)] * i[0].ndim
        for ax, s, e in zip(a.get("axes", range(len(a["starts"]))), a["starts"], a["ends"]):
            sl[ax] = slice(s, e)
        return [i[0][tuple(sl)]]
    if op == "Concat":
        return [np.concatenate(i, axis=a["axis"])]
    if op == "Shape":
        return [np.array(i[0].shape, dtype=np.int64)]
    if op == "Cast":
        return [i[0].astype({1: ftype, 6: np.int32, 7: np.int64}[a["to"]])]
    if op == "Conv":
        return [conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a)]
    if op == "BatchNormalization":
        x, s, b, m, var = i
        sh = (1, -1, 1, 1)
        return [(x - m.reshape(sh)) / np.sqrt(var.reshape(sh) + ftype(a.get("epsilon", 1e-5)))
                * s.reshape(sh) + b.reshape(sh)]
    if op == "GlobalAveragePool":
        return [i[0].mean(axis=(2, 3), keepdims=True)]
    if op == "AveragePool":
        return [avg_pool(i[0], a)]
    raise GraphError(f"op {op} not implemented")


def evaluate(g, feeds, target, ftype=np.float32):
    """Evaluate target from feeds, running only the nodes it needs, in graph
    order, every float in ftype."""
    need, stack = set(), [target]
    while stack:
        name = stack.pop()
        if name in feeds or name in g.const or not name:
            continue
        idx = g.producer[name]
        if idx not in need:
            need.add(idx)
            stack.extend(g.nodes[idx].input)
    v = {k: (c.astype(ftype) if c.dtype.kind == "f" else c) for k, c in g.const.items()}
    v.update({k: x.astype(ftype) for k, x in feeds.items()})
    for idx in sorted(need):
        n = g.nodes[idx]
        for o, r in zip(n.output, run_node(n, v, ftype)):
            v[o] = r.astype(ftype) if r.dtype.kind == "f" else r
    return v[target]


# ------------------------------------------------------------------ checks
def check_extraction(g, facts, tensors, cfg, seed=0, n_ctx=40, batch=3):
    """Largest differences between the graph and the extracted model on
    random inputs of the encoder's typical scale."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, n_ctx, cfg["d_model"])) * 2.0
    t64 = {k: np.asarray(a, np.float64) for k, a in tensors.items()}
    ref = np.stack([tlmodel.forward(t64, cfg, xb) for xb in x])
    scale = np.abs(ref).max()
    res = {}
    for ftype in (np.float32, np.float64):
        got = evaluate(g, {facts["input"]: x.astype(np.float32).astype(ftype)}, facts["output"], ftype)
        ref_in = np.stack([tlmodel.forward(t64, cfg, xb) for xb in x.astype(np.float32).astype(np.float64)])
        d = np.abs(got.astype(np.float64) - ref_in)
        res[np.dtype(ftype).name] = (float(d.max()), float(d.max() / scale))
    # a wrong layout is not within rounding: swap two heads of W_Q and see
    bad = dict(t64)
    w = bad["blocks.0.attn.W_Q"].copy()
    w[[0, 1]] = w[[1, 0]]
    bad["blocks.0.attn.W_Q"] = w
    got = evaluate(g, {facts["input"]: x.astype(np.float64)}, facts["output"], np.float64)
    swapped = np.stack([tlmodel.forward(bad, cfg, xb) for xb in x])
    res["heads_swapped"] = float(np.abs(got - swapped).max() / scale)
    res["output_scale"] = float(scale)
    return res


def synthetic_image(width=320):
    """48 x width RGB strokes on white, normalised as PaddleOCR does:
    (pixel/255 - 0.5)/0.5."""
    img = np.full((3, 48, width), 255.0)
    rng = np.random.default_rng(2309)
    for k in range(14):  # glyph-like boxes of bars
        x0 = 8 + k * 22
        for _ in range(3):
            if rng.random() < 0.5:
                y = rng.integers(10, 38)
                img[:, y:y + 3, x0:x0 + 16] = 30
            else:
                xx = x0 + rng.integers(0, 14)
                img[:, 10:38, xx:xx + 3] = 30
    return ((img / 255.0 - 0.5) / 0.5)[None].astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("onnx")
    ap.add_argument("out")
    ap.add_argument("--input-npy", help="also save the real activations entering block 0 here")
    ap.add_argument("--facts", help="write the layout facts and check figures as JSON here")
    args = ap.parse_args()
    g = Graph(onnx.load(args.onnx))
    try:
        tensors, cfg, facts = read_encoder(g)
    except GraphError as e:
        sys.exit(f"onnx_to_safetensors: {args.onnx}: the graph differs from an SVTR encoder: {e}")
    res = check_extraction(g, facts, tensors, cfg)
    f32, f64 = res["float32"], res["float64"]
    print(f"onnx_to_safetensors: encoder input {facts['input']}, output {facts['output']}")
    for i, b in enumerate(facts["blocks"]):
        print(f"  block {i}: LN1 {b['ln1']}, qkv {b['qkv']}, out {b['attn_out']}, LN2 {b['ln2']}, "
              f"MLP {b['mlp_in']} -> {b['mlp_out']}; {b['n_heads']} heads of {b['d_head']}, "
              f"q scaled by {b['scale']!r}, eps {b['eps']}")
    print(f"  final LN {facts['ln_final']['w']}, eps {facts['ln_final']['eps']!r}")
    print(f"  config {json.dumps(cfg)}")
    print(f"  graph (float32 interpreter) vs extracted model (float64): max |diff| {f32[0]:.3g}, "
          f"relative to max |out| {f32[1]:.3g}")
    print(f"  graph (float64 interpreter) vs extracted model (float64): max |diff| {f64[0]:.3g}, "
          f"relative {f64[1]:.3g}")
    print(f"  control, two heads of W_Q swapped: relative difference {res['heads_swapped']:.3g}")
    # float32 rounding of a computation this deep is a few hundred ulps at most
    if not (f32[1] < 1e-4 and f64[1] < 1e-12 and res["heads_swapped"] > 1e-3):
        sys.exit("onnx_to_safetensors: the extracted model does not reproduce the graph")
    meta = {"config": json.dumps(cfg, sort_keys=True),
            "source": "PaddleOCR PP-OCRv4 mobile recogniser (ch_PP-OCRv4_rec_infer.onnx), SVTR encoder",
            "extraction_check": json.dumps({"float32_rel": f32[1], "float64_rel": f64[1]})}
    if args.input_npy:
        img = synthetic_image()
        acts = evaluate(g, {"x": img}, facts["input"], np.float32)[0]
        np.save(args.input_npy, acts.astype(np.float32))
        print(f"  real activations entering block 0 for a synthetic 48x320 image: shape "
              f"{acts.shape}, mean {acts.mean():.4g}, std {acts.std():.4g}, max |x| {np.abs(acts).max():.4g}"
              f" -> {args.input_npy}")
        res["activations_shape"] = list(acts.shape)
    tlmodel.save_file({k: np.asarray(v, np.float32) for k, v in tensors.items()}, args.out, meta)
    print(f"onnx_to_safetensors: wrote {args.out} ({len(tensors)} tensors, F32)")
    if args.facts:
        with open(args.facts, "w") as f:
            json.dump({"config": cfg, "facts": facts, "check": res}, f, indent=1, default=str)


if __name__ == "__main__":
    main()
