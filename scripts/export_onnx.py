#!/usr/bin/python3
"""An exported attention-only network as an ONNX graph (opset 17), built with onnx.helper.

    /usr/bin/python3 scripts/export_onnx.py EXPORT.safetensors OUT.onnx [--dtype float32|float64]
                                            [--run]

EXPORT is what `attncheck export ID --format safetensors` or `attncheck model FILE
--export-converted OUT` writes (doc/models.md, "Converted models out").  The graph computes
the network as src/aonet.h defines it (scripts/run_export.py and scripts/torch_export.py do
the same in numpy and torch):

    input   stream        [pos, D]   (any pos: the masks are built from it)
    layer k:  U = LN_k(X) on the first d columns (x - mean, / sqrt(mean(x^2) + eps), * w + b;
              the rest passed through)
              X = X + sum over head groups, heads: softmax_mask(q.k / attn_scale) v W_O
    outputs stream_out    [pos, D]   (ln_final applied), and
            blocks.{k}.hook_resid_post [pos, D] after every layer

The weights are initializers in the dtype, rounded from the export's F64 values.  Masks
(all, causal, self+bias, self, real, real-causal) are computed from the position indices,
masked logits set to -inf before Softmax.

--run runs OUT.onnx with onnx.reference.ReferenceEvaluator (numpy kernels) on the export's
stream_in and prints E, the largest Euclidean distance over the real tokens' rows between
its output and the exact reference (scripts/run_export.py exact_reference: the claim's
reference_out, or the original in long double), and a second line: the layers after which
the bias row is not bitwise what it was (none for the float-robust form).  An estimate, not
a certified number.

Exit: 0; 2 a missing module (python3-onnx), a bad file or usage.
"""
import argparse
import json
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:  # pragma: no cover
    print("export_onnx: %s is missing (apt-get install python3-onnx python3-numpy)" % e.name,
          file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_export  # noqa: E402
import tlmodel  # noqa: E402

ONNX_TYPE = {"float32": (TensorProto.FLOAT, np.float32), "float64": (TensorProto.DOUBLE, np.float64)}


class Graph:
    """Nodes and initializers, with fresh names."""

    def __init__(self, np_dtype):
        self.nodes, self.inits, self.count, self.dt = [], [], 0, np_dtype

    def fresh(self, stem):
        self.count += 1
        return "%s_%d" % (stem, self.count)

    def const(self, value, name=None, dtype=None):
        name = name or self.fresh("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype or self.dt), name))
        return name

    def op(self, kind, inputs, out=None, **attrs):
        out = out or self.fresh(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out


def layer_norm(g, x, d, ln, tensors, prefix):
    """LN of the first d columns of x [pos, D], the rest passed through (TransformerLens's
    arithmetic, as torch_export.LayerNormFeatures)."""
    if ln["kind"] == "none":
        return x
    axis_last = g.const([1], dtype=np.int64)
    f = g.op("Slice", [x, g.const([0], dtype=np.int64), g.const([d], dtype=np.int64), axis_last])
    rest = g.op("Slice", [x, g.const([d], dtype=np.int64), g.const([2 ** 62], dtype=np.int64),
                          axis_last])
    if ln["kind"] in ("LN", "LNPre"):
        f = g.op("Sub", [f, g.op("ReduceMean", [f], axes=[1], keepdims=1)])
    ms = g.op("ReduceMean", [g.op("Mul", [f, f])], axes=[1], keepdims=1)
    f = g.op("Div", [f, g.op("Sqrt", [g.op("Add", [ms, g.const(float(ln["eps"]))])])])
    if ln["kind"] in ("LN", "RMS"):
        f = g.op("Mul", [f, g.const(tensors[prefix + ".w"])])
    if ln["kind"] == "LN":
        f = g.op("Add", [f, g.const(tensors[prefix + ".b"])])
    return g.op("Concat", [f, rest], axis=1)


def allowed_mask(g, rule, i, j):
    """The bool [pos, pos] of run_export.MASKS[rule] from i [pos, 1] and j [1, pos]."""
    zero = g.const(0, dtype=np.int64)
    eq = lambda a, b: g.op("Equal", [a, b])  # noqa: E731
    both = lambda a, b: g.op("And", [a, b])  # noqa: E731
    either = lambda a, b: g.op("Or", [a, b])  # noqa: E731
    self_ = eq(i, j)
    causal = g.op("LessOrEqual", [j, i])
    corner = both(eq(i, zero), eq(j, zero))
    real = both(g.op("Greater", [i, zero]), g.op("Greater", [j, zero]))
    return {"causal": lambda: causal,
            "self+bias": lambda: either(self_, eq(j, zero)),
            "self": lambda: self_,
            "real": lambda: either(corner, real),
            "real-causal": lambda: either(corner, both(real, causal))}[rule]()


def build(tensors, meta, dtype):
    onnx_type, np_dtype = ONNX_TYPE[dtype]
    net = json.loads(meta["attncheck_network"])
    D, d = net["D"], net["d"]
    g = Graph(np_dtype)
    x = "stream"
    pos = g.op("Range", [g.const(0, dtype=np.int64),
                         g.op("Squeeze", [g.op("Shape", [x], start=0, end=1),
                                          g.const([0], dtype=np.int64)]),
                         g.const(1, dtype=np.int64)])
    i = g.op("Unsqueeze", [pos, g.const([1], dtype=np.int64)])
    j = g.op("Unsqueeze", [pos, g.const([0], dtype=np.int64)])
    minus_inf = g.const(-np.inf)
    outputs = []
    for k, layer in enumerate(net["layers"]):
        prefix = "net.layers.%d" % k
        u = layer_norm(g, x, d, layer["ln"], tensors, prefix + ".ln")
        total = None
        for grp in layer["groups"]:
            p = "%s.%s." % (prefix, grp["name"])
            w = {n: g.const(tensors[p + n], name=p + n) for n in ("W_Q", "W_K", "W_V", "W_O")}
            q, kk, v = (g.op("MatMul", [u, w[n]]) for n in ("W_Q", "W_K", "W_V"))  # [h, pos, e]
            s = g.op("MatMul", [q, g.op("Transpose", [kk], perm=[0, 2, 1])])
            s = g.op("Div", [s, g.const(float(grp["attn_scale"]))])
            if grp["mask"] != "all":
                s = g.op("Where", [allowed_mask(g, grp["mask"], i, j), s, minus_inf])
            a = g.op("Softmax", [s], axis=-1)
            out = g.op("MatMul", [g.op("MatMul", [a, v]), w["W_O"]])  # [h, pos, D]
            out = g.op("ReduceSum", [out, g.const([0], dtype=np.int64)], keepdims=0)
            total = out if total is None else g.op("Add", [total, out])
        x = g.op("Add", [x, total], out="blocks.%d.hook_resid_post" % k)
        outputs.append(x)
    y = x
    if net.get("ln_final"):
        y = layer_norm(g, x, d, net["ln_final"], tensors, "net.ln_final")
    g.op("Identity", [y], out="stream_out")
    vi = lambda name: helper.make_tensor_value_info(name, onnx_type, ["pos", D])  # noqa: E731
    graph = helper.make_graph(g.nodes, "attncheck_network", [vi("stream")],
                              [vi("stream_out")] + [vi(o) for o in outputs], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="attncheck scripts/export_onnx.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)  # with strict shape inference
    return model


def _reduce_axes(n, inputs, a):
    axes = inputs[1] if len(inputs) > 1 else a.get("axes")
    return tuple(int(x) for x in axes), bool(a.get("keepdims", 1))


# The opset-17 ops this graph uses, as the ONNX operator specification defines them, in
# numpy; for Debian's python3-onnx 1.12, which has no onnx.reference (ONNX 1.13 added it).
OPS = {
    "Add": lambda i, a: np.add(i[0], i[1]), "Sub": lambda i, a: np.subtract(i[0], i[1]),
    "Mul": lambda i, a: np.multiply(i[0], i[1]), "Div": lambda i, a: np.divide(i[0], i[1]),
    "Sqrt": lambda i, a: np.sqrt(i[0]), "MatMul": lambda i, a: np.matmul(i[0], i[1]),
    "Equal": lambda i, a: np.equal(i[0], i[1]), "Greater": lambda i, a: np.greater(i[0], i[1]),
    "LessOrEqual": lambda i, a: np.less_equal(i[0], i[1]),
    "And": lambda i, a: np.logical_and(i[0], i[1]), "Or": lambda i, a: np.logical_or(i[0], i[1]),
    "Where": lambda i, a: np.where(i[0], i[1], i[2]), "Identity": lambda i, a: i[0],
    "Transpose": lambda i, a: np.transpose(i[0], a["perm"]),
    "Concat": lambda i, a: np.concatenate(i, axis=a["axis"]),
    "Shape": lambda i, a: np.array(i[0].shape[a.get("start", 0):a.get("end")], dtype=np.int64),
    "Squeeze": lambda i, a: np.squeeze(i[0], axis=tuple(int(x) for x in i[1])),
    "Unsqueeze": lambda i, a: np.expand_dims(i[0], tuple(int(x) for x in i[1])),
    "Range": lambda i, a: np.arange(i[0], i[1], i[2], dtype=i[0].dtype),
    "Slice": lambda i, a: i[0][tuple(slice(None) if ax not in list(i[3]) else
                                     slice(int(i[1][list(i[3]).index(ax)]),
                                           int(i[2][list(i[3]).index(ax)]))
                                     for ax in range(i[0].ndim))],
    "ReduceMean": lambda i, a: i[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)),
                                         dtype=i[0].dtype),
    "ReduceSum": lambda i, a: i[0].sum(axis=tuple(int(x) for x in i[1]),
                                       keepdims=bool(a.get("keepdims", 1)), dtype=i[0].dtype),
    # Softmax-13: exp(x - max) / sum over the axis; exp(-inf) = 0 for masked keys
    "Softmax": lambda i, a: (lambda e: e / e.sum(a.get("axis", -1), keepdims=True))(
        np.exp(i[0] - i[0].max(a.get("axis", -1), keepdims=True))),
}


def run_graph(path, feeds):
    """The graph's outputs on feeds: onnx.reference.ReferenceEvaluator when the installed
    onnx has it, else OPS node by node in the file's order.  (outputs, runtime name)"""
    try:
        from onnx.reference import ReferenceEvaluator
        return ReferenceEvaluator(path).run(None, feeds), "onnx.reference.ReferenceEvaluator"
    except ImportError:
        pass
    model = onnx.load(path)
    v = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    v.update(feeds)
    for n in model.graph.node:
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        if n.op_type not in OPS:
            raise ValueError("op %s is not interpreted" % n.op_type)
        v[n.output[0]] = np.asarray(OPS[n.op_type]([v[x] for x in n.input], a))
    return [v[o.name] for o in model.graph.output], \
        "export_onnx.py's interpreter (onnx %s has no onnx.reference)" % onnx.__version__


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("export")
    ap.add_argument("out")
    ap.add_argument("--dtype", default="float32", choices=sorted(ONNX_TYPE))
    ap.add_argument("--run", action="store_true",
                    help="run OUT with onnx.reference and print E and the bias row's check")
    args = ap.parse_args()
    try:
        tensors, meta = tlmodel.load_file(args.export)
        model = build(tensors, meta, args.dtype)
    except (OSError, KeyError, ValueError) as e:
        print("export_onnx: %s: not an attncheck export (%s)" % (args.export, e), file=sys.stderr)
        return 2
    tmp = args.out + ".tmp"
    try:
        onnx.save(model, tmp)
        os.replace(tmp, args.out)
    except OSError as e:
        print("export_onnx: %s: %s" % (args.out, e), file=sys.stderr)
        return 2
    if args.run:
        ref = run_export.exact_reference(args.export, tensors, meta)
        x = np.asarray(tensors["stream_in"], dtype=ONNX_TYPE[args.dtype][1])
        outs, runtime = run_graph(args.out, {"stream": x})
        if any(o.dtype != x.dtype for o in outs):
            print("export_onnx: %s computed in %s, not %s" % (runtime, outs[0].dtype, x.dtype),
                  file=sys.stderr)
            return 2
        b = int(meta.get("bias_row", "0")) % x.shape[0]
        print("%.17g" % run_export.distance(outs[0], ref, b))
        moved = [k for k, o in enumerate(outs[1:])
                 if not (np.array_equal(o[b], x[b]) and not np.signbit(o[b]).any())]
        print("bias row moved after layers %s (%s)" % (moved if moved else "none", runtime))
    return 0


if __name__ == "__main__":
    sys.exit(main())
