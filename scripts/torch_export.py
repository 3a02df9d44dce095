#!/usr/bin/python3
"""An exported attention-only network as a PyTorch nn.Module, with TransformerLens hook points.

    /usr/bin/python3 scripts/torch_export.py EXPORT.safetensors --dtype float32[,bfloat16,float64]
                                             [--bias-row] [--tl-state-dict OUT.pt]

EXPORT is either export attncheck writes (doc/models.md, "Converted models out"): a claim's
(`attncheck export ID --format safetensors`, with "reference_out") or a model's
(`attncheck model FILE --export-converted OUT`, with the original under "original.").
In Python:

    sys.path.insert(0, "scripts"); import torch_export
    net, tensors, meta = torch_export.load("EXPORT.safetensors", torch.float32)
    y = net(net.stream_in)                      # [pos, D] or [batch, pos, D]
    y, cache = net.run_with_cache(net.stream_in)   # cache["blocks.0.attn.hook_pattern"], ...
    y = net.run_with_hooks(x, fwd_hooks=[("blocks.1.attn.hook_z", fn)])  # fn(t, hook) -> t or None
    logits = net.logits(net(net.embed_tokens(tokens)))   # when the export has the embeddings

The network runs as src/aonet.h defines it (scripts/run_export.py does the same in numpy):

    block k:  U = ln1(X) on the first d columns (the rest passed through)
              X = X + sum over heads h: softmax_mask(q.k / attn_scale) v W_O
    output:   ln_final on the first d columns

Every tensor and operation in the dtype (float64, float32 or bfloat16): weights rounded
from the export's F64 values, torch's own kernels.  Block k is the export's layer k; its
heads are the layer's head groups in order (net.blocks[k].attn.groups gives each group's
name and head range).  Hook points (identity modules; a forward hook on one may return a
replacement, as TransformerLens's HookPoint), named as TransformerLens names them:

    blocks.{k}.hook_resid_pre, .ln1.hook_scale, .ln1.hook_normalized,
    blocks.{k}.attn.hook_attn_scores, .hook_pattern   [batch, head, query, key]
    blocks.{k}.attn.hook_z                            [batch, pos, head, d_head]
    blocks.{k}.attn.hook_result                       [batch, pos, head, D] (only computed
                                                      when hooked or cached, as TL's
                                                      use_attn_result)
    blocks.{k}.hook_attn_out, blocks.{k}.hook_resid_post, ln_final.hook_normalized

hook_z pads every head to the widest d_head_ov of the layer with zeros (heads of
different widths: SVTR's 15 + 1 against the neurons' 1); the padding is dropped after
the hook.  A model's export carries embed.W_E, pos_embed.W_pos, unembed.W_U, unembed.b_U
when the model file has them: embed_tokens() builds the stream (the bias token first),
logits() reads the real tokens' rows.

Command line, one line per dtype: E, the largest Euclidean distance over the real
tokens' rows (the bias row left out) between the output and the reference, as
attncheck's `sweep --arith` and `model --arith` measure it.  The reference is the
claim's "reference_out", or the original model (scripts/tlmodel.py) run in long double
with the export's exact weights (OUT.json).  E is an estimate of what attncheck's
emulation certifies for its own model of the hardware, not a certified number.
--bias-row also checks, through hook_resid_post, that the bias row is bitwise
[+0, ..., +0, 1, 1, (one-hot position 0)] after every block (the float-robust form;
doc/float-robust.md).  --tl-state-dict writes {"state_dict", "config"} in TransformerLens's
attn_only names (tl_state_dict()) and says whether HookedTransformer computes the network
exactly and, if not, what blocks it; tl_forward() is HookedTransformer's forward pass as its
source reads (doc/torch-onnx.md).

Exit: 0; 1 when --bias-row finds the row moved; 2 a missing module, a bad file or usage.
"""
import argparse
import json
import os
import sys

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print("torch_export: %s is missing (apt-get install python3-torch python3-numpy)" % e.name,
          file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_export  # noqa: E402
import tlmodel  # noqa: E402

DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16}
EMBEDDINGS = ("embed.W_E", "pos_embed.W_pos", "unembed.W_U", "unembed.b_U")


class HookPoint(nn.Module):
    """The identity.  A forward hook on it sees the tensor and may return a replacement
    (TransformerLens's HookPoint); .name is its name in the network."""

    name = ""

    def forward(self, x):
        return x


def _param(a, dtype):
    return nn.Parameter(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)).to(dtype),
                        requires_grad=False)


class LayerNormFeatures(nn.Module):
    """LN, LNPre, RMS or RMSPre of the first d columns, the rest passed through; the
    arithmetic is TransformerLens's (centre, scale = sqrt(mean(x^2) + eps), x / scale)."""

    def __init__(self, ln, d, tensors, prefix, dtype):
        super().__init__()
        self.kind, self.d, self.eps = ln["kind"], d, float(ln.get("eps", "0"))
        if self.kind in ("LN", "RMS"):
            self.w = _param(tensors[prefix + ".w"], dtype)
        if self.kind == "LN":
            self.b = _param(tensors[prefix + ".b"], dtype)
        self.hook_scale = HookPoint()
        self.hook_normalized = HookPoint()

    def forward(self, x):
        if self.kind == "none":
            return x
        f = x[..., :self.d]
        if self.kind in ("LN", "LNPre"):
            f = f - f.mean(-1, keepdim=True)
        scale = self.hook_scale((f.pow(2).mean(-1, keepdim=True) + self.eps).sqrt())
        f = self.hook_normalized(f / scale)  # before w and b, as TransformerLens hooks it
        if self.kind in ("LN", "RMS"):
            f = f * self.w
        if self.kind == "LN":
            f = f + self.b
        return torch.cat([f, x[..., self.d:]], -1)


class HeadGroup(nn.Module):
    """Heads sharing a width, a mask rule and attn_scale: W_Q, W_K [h, D, d_head_qk],
    W_V [h, D, d_head_ov], W_O [h, d_head_ov, D]."""

    def __init__(self, g, tensors, prefix, dtype):
        super().__init__()
        self.name, self.mask, self.n_heads = g["name"], g["mask"], g["n_heads"]
        self.attn_scale = float(g["attn_scale"])
        for w in ("W_Q", "W_K", "W_V", "W_O"):
            setattr(self, w, _param(tensors[prefix + w], dtype))


class Attention(nn.Module):
    """One layer's head groups, their heads concatenated in order."""

    def __init__(self, layer, tensors, prefix, dtype):
        super().__init__()
        self.groups = nn.ModuleList(HeadGroup(g, tensors, "%s.%s." % (prefix, g["name"]), dtype)
                                    for g in layer["groups"])
        self.d_head = max(g.W_V.shape[2] for g in self.groups)
        for name in ("hook_attn_scores", "hook_pattern", "hook_z", "hook_result"):
            setattr(self, name, HookPoint())

    def head_ranges(self):
        """(group name, first head, end) per group."""
        out, h = [], 0
        for g in self.groups:
            out.append((g.name, h, h + g.n_heads))
            h += g.n_heads
        return out

    def forward(self, u):
        n = u.shape[1]
        scores, vs = [], []
        for g in self.groups:
            q = torch.einsum("bpd,hde->bphe", u, g.W_Q)
            k = torch.einsum("bpd,hde->bphe", u, g.W_K)
            vs.append(torch.einsum("bpd,hde->bphe", u, g.W_V))
            s = torch.einsum("bqhe,bkhe->bhqk", q, k) / g.attn_scale
            allowed = torch.from_numpy(run_export.mask_matrix(g.mask, n))
            scores.append(s.masked_fill(~allowed, float("-inf")))
        s = self.hook_attn_scores(torch.cat(scores, 1))
        pattern = self.hook_pattern(torch.softmax(s, dim=-1))
        zs = []
        for (_, h0, h1), g, v in zip(self.head_ranges(), self.groups, vs):
            z = torch.einsum("bhqk,bkhe->bqhe", pattern[:, h0:h1], v)
            zs.append(nn.functional.pad(z, (0, self.d_head - z.shape[-1])))
        z = self.hook_z(torch.cat(zs, 2))
        parts = [(g, z[:, :, h0:h1, :g.W_O.shape[1]])
                 for (_, h0, h1), g in zip(self.head_ranges(), self.groups)]
        if self.hook_result._forward_hooks:
            result = torch.cat([torch.einsum("bphe,hed->bphd", zg, g.W_O) for g, zg in parts], 2)
            return self.hook_result(result).sum(2)
        out = 0
        for g, zg in parts:
            out = out + torch.einsum("bphe,hed->bpd", zg, g.W_O)
        return out


class Block(nn.Module):
    def __init__(self, layer, d, tensors, k, dtype):
        super().__init__()
        prefix = "net.layers.%d" % k
        self.ln1 = LayerNormFeatures(layer["ln"], d, tensors, prefix + ".ln", dtype)
        self.attn = Attention(layer, tensors, prefix, dtype)
        self.hook_resid_pre = HookPoint()
        self.hook_attn_out = HookPoint()
        self.hook_resid_post = HookPoint()

    def forward(self, x):
        x = self.hook_resid_pre(x)
        return self.hook_resid_post(x + self.hook_attn_out(self.attn(self.ln1(x))))


class AttnOnly(nn.Module):
    """The exported network (src/aonet.h) in one dtype."""

    def __init__(self, tensors, meta, dtype=torch.float32):
        super().__init__()
        net = json.loads(meta["attncheck_network"])
        self.D, self.d, self.dtype = net["D"], net["d"], dtype
        self.bias_row = int(meta.get("bias_row", "0"))
        self.blocks = nn.ModuleList(Block(layer, self.d, tensors, k, dtype)
                                    for k, layer in enumerate(net["layers"]))
        self.ln_final = (LayerNormFeatures(net["ln_final"], self.d, tensors, "net.ln_final", dtype)
                         if net.get("ln_final") else None)
        self.stream_in = torch.from_numpy(np.asarray(tensors["stream_in"], np.float64)).to(dtype)
        for name in EMBEDDINGS:
            if name in tensors:
                setattr(self, name.replace(".", "_"), _param(tensors[name], dtype))
        for name, m in self.named_modules():
            if isinstance(m, HookPoint):
                m.name = name
        self.hook_dict = {m.name: m for m in self.modules() if isinstance(m, HookPoint)}

    def forward(self, x):
        batched = x.dim() == 3
        x = x if batched else x.unsqueeze(0)
        for block in self.blocks:
            x = block(x)
        if self.ln_final is not None:
            x = self.ln_final(x)
        return x if batched else x[0]

    def run_with_hooks(self, x, fwd_hooks=()):
        """fwd_hooks: (name, fn) pairs, fn(tensor, hook=HookPoint) returning a
        replacement or None, as TransformerLens's run_with_hooks; removed after."""
        handles = []
        try:
            for name, fn in fwd_hooks:
                point = self.hook_dict[name]
                handles.append(point.register_forward_hook(
                    lambda m, inp, out, fn=fn: fn(out, hook=m)))
            return self(x)
        finally:
            for h in handles:
                h.remove()

    def run_with_cache(self, x, names=None):
        """The output and {hook name: tensor} for every hook point (or those named)."""
        cache = {}

        def keep(t, hook):
            cache[hook.name] = t.detach()

        chosen = [n for n in self.hook_dict if names is None or n in names]
        return self.run_with_hooks(x, [(n, keep) for n in chosen]), cache

    def embed_tokens(self, tokens):
        """The stream for token ids: the bias token [0, 1, 1] first, then
        [W_E[t] + W_pos[p], 1, 0] (a model's export, the embeddings present)."""
        tokens = torch.as_tensor(tokens)
        x = self.embed_W_E[tokens] + self.pos_embed_W_pos[:tokens.shape[-1]]
        s = torch.zeros(tokens.shape[:-1] + (tokens.shape[-1] + 1, self.D), dtype=self.dtype)
        s[..., 1:, :self.d] = x
        s[..., :, self.d] = 1
        s[..., 0, self.d + 1] = 1
        return s

    def logits(self, y):
        """The real tokens' logits from the network's output (ln_final applied)."""
        out = y[..., 1:, :self.d] @ self.unembed_W_U
        return out + self.unembed_b_U if hasattr(self, "unembed_b_U") else out


def load(path, dtype=torch.float32):
    """(AttnOnly, numpy tensors, metadata) of an export."""
    tensors, meta = tlmodel.load_file(path)
    return AttnOnly(tensors, meta, dtype), tensors, meta


def bias_row_moved(net, x):
    """The blocks after which the bias row is not bitwise [+0 features, 1, 1,
    one-hot position 0 (encoded masks)] (a list of block indices)."""
    _, cache = net.run_with_cache(x, [b.hook_resid_post.name for b in net.blocks])
    want = net.stream_in[net.bias_row].to(torch.float64)
    moved = []
    for k, b in enumerate(net.blocks):
        row = cache[b.hook_resid_post.name][0, net.bias_row].to(torch.float64)
        if not (torch.equal(row, want) and not torch.signbit(row).any()):
            moved.append(k)
    return moved


def ln_params(sd, prefix, ln, D):
    """A LayerNorm's w, b as [d_model] tensors (TransformerLens's shape): [gamma, 1, ...]
    and [beta, 0, ...]; the columns past d are passed through by tl_forward (exact)."""
    for w, fill in (("w", 1), ("b", 0)):
        if hasattr(ln, w):
            t = torch.full((D,), fill, dtype=getattr(ln, w).dtype)
            t[:ln.d] = getattr(ln, w).detach()
            sd["%s.%s" % (prefix, w)] = t


def tl_state_dict(net):
    """(state dict, config, blockers): the network in TransformerLens's attn_only names
    (HookedTransformerConfig fields in config), and the list of what HookedTransformer
    cannot express, each kept in a config key "attncheck_*" that tl_forward reads.

    Exact: every layer's heads (its groups in order) padded with zero heads to the
    largest layer's count and with zero columns to the widest d_head (a zero q, k or v
    entry adds an exact 0; a zero head's W_O is 0); b_Q, b_K, b_V, b_O zero (the biases
    are the c rows).  A model export's embeddings become TransformerLens's with the bias
    token as a BOS token (id d_vocab, W_E row [0, 1, 1]) at position 0: W_E gets the
    columns [1, 0] and that row, W_pos a zero row 0 and zero c, f columns, W_U zero c, f
    rows.  Blockers (doc/torch-onnx.md): a mask other than one causal or bidirectional
    rule for every head ("attncheck_masks"), head groups with different attn_scale
    ("attncheck_attn_scale"), a LayerNorm over the first d < D columns
    ("attncheck_ln"), different eps."""
    blocks = list(net.blocks)
    H = max(sum(g.n_heads for g in b.attn.groups) for b in blocks)
    e = max(max(g.W_Q.shape[2], g.W_V.shape[2]) for b in blocks for g in b.attn.groups)
    D, dt = net.D, net.dtype
    sd, masks, scales, lns = {}, [], [], []
    for k, b in enumerate(blocks):
        p = "blocks.%d.attn." % k
        for w in ("W_Q", "W_K", "W_V", "W_O"):
            t = torch.zeros((H, D, e) if w != "W_O" else (H, e, D), dtype=dt)
            h = 0
            for g in b.attn.groups:
                src = getattr(g, w).detach()
                if w == "W_O":
                    t[h:h + g.n_heads, :src.shape[1]] = src
                else:
                    t[h:h + g.n_heads, :, :src.shape[2]] = src
                h += g.n_heads
            sd[p + w] = t
        for w in ("b_Q", "b_K", "b_V"):
            sd[p + w] = torch.zeros(H, e, dtype=dt)
        sd[p + "b_O"] = torch.zeros(D, dtype=dt)
        rules, sc = [], []
        for g in b.attn.groups:
            rules += [g.mask] * g.n_heads
            sc += [g.attn_scale] * g.n_heads
        pad = H - len(rules)
        masks.append(rules + ["self"] * pad)  # zero heads: any rule
        scales.append(sc + [sc[0]] * pad)
        lns.append((b.ln1.kind, b.ln1.eps))
        ln_params(sd, "blocks.%d.ln1" % k, b.ln1, D)
    final = net.ln_final
    if final is not None:
        ln_params(sd, "ln_final", final, D)
    if hasattr(net, "embed_W_E"):
        V = net.embed_W_E.shape[0]
        W_E = torch.zeros(V + 1, D, dtype=dt)
        W_E[:V, :net.d] = net.embed_W_E.detach()
        W_E[:, net.d] = 1
        W_E[V, net.d + 1] = 1
        W_pos = torch.zeros(net.pos_embed_W_pos.shape[0] + 1, D, dtype=dt)
        W_pos[1:, :net.d] = net.pos_embed_W_pos.detach()
        W_U = torch.zeros(D, net.unembed_W_U.shape[1], dtype=dt)
        W_U[:net.d] = net.unembed_W_U.detach()
        sd.update({"embed.W_E": W_E, "pos_embed.W_pos": W_pos, "unembed.W_U": W_U})
        if hasattr(net, "unembed_b_U"):
            sd["unembed.b_U"] = net.unembed_b_U.detach()
    rule_set = {r for k, layer in enumerate(masks)
                for r in layer[:sum(g.n_heads for g in blocks[k].attn.groups)]}
    kinds = {kind for kind, _ in lns} | ({final.kind} if final is not None else set())
    eps = {eps for kind, eps in lns if kind != "none"} | (
        {final.eps} if final is not None and final.kind != "none" else set())
    scale_set = {s for layer in scales for s in layer}
    cfg = {"n_layers": len(blocks), "d_model": D, "n_heads": H, "d_head": e, "attn_only": True,
           "n_ctx": max(net.stream_in.shape[0], sd["pos_embed.W_pos"].shape[0]
                        if "pos_embed.W_pos" in sd else 0),
           # the closest of TransformerLens's two: causal when the original was
           "attention_dir": "causal" if rule_set & {"causal", "real-causal"} else "bidirectional",
           "normalization_type": None if kinds <= {"none"} else sorted(kinds - {"none"})[0],
           "eps": min(eps) if eps else 1e-5,
           "attn_scale": scale_set.pop() if len(scale_set) == 1 else 1.0,
           "use_attn_scale": True, "positional_embedding_type": "standard",
           "default_prepend_bos": "embed.W_E" in sd, "dtype": dt}
    if "embed.W_E" in sd:
        cfg["d_vocab"] = sd["embed.W_E"].shape[0]
        cfg["d_vocab_out"] = sd["unembed.W_U"].shape[1]
    blockers = []
    if not rule_set <= {"all"} and rule_set != {"causal"}:
        blockers.append("masks %s (TransformerLens: one causal or bidirectional mask "
                        "for every head)" % sorted(rule_set))
        cfg["attncheck_masks"] = masks
    if len(set(scales[0]) | {s for layer in scales for s in layer}) > 1:
        blockers.append("attn_scale differs between heads")
        cfg["attncheck_attn_scale"] = scales
    if not kinds <= {"none"}:
        blockers.append("LayerNorm over the first d = %d of d_model = %d columns "
                        "(TransformerLens: over all d_model)" % (net.d, D))
        cfg["attncheck_ln"] = {"d": net.d, "layers": lns,
                               "final": [final.kind, final.eps] if final is not None else None}
    if len(eps) > 1:
        blockers.append("different eps %s (TransformerLens: one eps)" % sorted(eps))
    return sd, cfg, blockers


TL_EXTRAS = ("masks", "attn_scale", "ln")


def tl_forward(sd, cfg, x, keep=TL_EXTRAS):
    """The forward pass of TransformerLens's HookedTransformer(attn_only=True) with this
    state dict and config on the residual stream x [batch, pos, d_model], as its source
    computes it (components/layer_norm.py, abstract_attention.py, transformer_block.py):
    ln1 centres and scales over the last axis, q = ln1(x) W_Q + b_Q, scores q.k /
    attn_scale, the causal mask where attention_dir is causal, softmax, z = pattern v,
    out = z W_O + b_O, resid_post = resid_pre + out; ln_final.  The "attncheck_*" keys
    named in keep replace what TransformerLens cannot express (masks: per-head masks,
    attn_scale: per-head attn_scale, ln: the LayerNorm over the first d columns); all
    three: the exported network exactly; keep=(): what HookedTransformer would compute."""
    ln = cfg.get("attncheck_ln") if "ln" in keep else None

    def norm(t, prefix, kind, eps):
        if kind in (None, "none"):
            return t
        cols = ln["d"] if ln else t.shape[-1]
        f = t[..., :cols]
        if kind in ("LN", "LNPre"):
            f = f - f.mean(-1, keepdim=True)
        f = f / (f.pow(2).mean(-1, keepdim=True) + eps).sqrt()
        if prefix + ".w" in sd:
            f = f * sd[prefix + ".w"][:cols]
        if prefix + ".b" in sd:
            f = f + sd[prefix + ".b"][:cols]
        return torch.cat([f, t[..., cols:]], -1)

    n = x.shape[1]
    for k in range(cfg["n_layers"]):
        kind, eps = (ln["layers"][k] if ln else (cfg["normalization_type"], cfg["eps"]))
        u = norm(x, "blocks.%d.ln1" % k, kind, eps)
        p = "blocks.%d.attn." % k
        q, kk, v = (torch.einsum("bpd,hde->bphe", u, sd[p + w]) + sd[p + b]
                    for w, b in (("W_Q", "b_Q"), ("W_K", "b_K"), ("W_V", "b_V")))
        s = torch.einsum("bqhe,bkhe->bhqk", q, kk)
        if "attn_scale" in keep and "attncheck_attn_scale" in cfg:
            s = s / torch.tensor(cfg["attncheck_attn_scale"][k], dtype=s.dtype)[:, None, None]
        else:
            s = s / cfg["attn_scale"]
        if cfg["attention_dir"] == "causal":
            s = s.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf"))
        if "masks" in keep and "attncheck_masks" in cfg:
            allowed = torch.stack([torch.from_numpy(run_export.mask_matrix(r, n))
                                   for r in cfg["attncheck_masks"][k]])
            s = s.masked_fill(~allowed, float("-inf"))
        pattern = torch.softmax(s, -1)
        pattern = torch.where(torch.isnan(pattern), torch.zeros_like(pattern), pattern)
        z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)
        x = x + torch.einsum("bqhe,hed->bqd", z, sd[p + "W_O"]) + sd[p + "b_O"]
    if ln and ln["final"]:
        return norm(x, "ln_final", *ln["final"])
    if not ln and cfg["normalization_type"] is not None and "ln_final.w" in sd:
        return norm(x, "ln_final", cfg["normalization_type"], cfg["eps"])
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("export")
    ap.add_argument("--dtype", required=True, help="float64, float32, bfloat16, comma-separated")
    ap.add_argument("--bias-row", action="store_true",
                    help="check the bias row bitwise after every block (exit 1 if it moved)")
    ap.add_argument("--tl-state-dict", metavar="OUT.pt",
                    help="write the network in TransformerLens attn_only names (torch.save)")
    args = ap.parse_args()
    dtypes = args.dtype.split(",")
    if any(d not in DTYPES for d in dtypes):
        print("torch_export: --dtype takes float64, float32 and bfloat16", file=sys.stderr)
        return 2
    try:
        tensors, meta = tlmodel.load_file(args.export)
        ref = run_export.exact_reference(args.export, tensors, meta)
    except (OSError, KeyError, ValueError) as e:
        print("torch_export: %s: not an attncheck export (%s)" % (args.export, e), file=sys.stderr)
        return 2
    rc = 0
    for name in dtypes:
        net = AttnOnly(tensors, meta, DTYPES[name])
        with torch.no_grad():
            y = net(net.stream_in).to(torch.float64).numpy()
            print("%.17g" % run_export.distance(y, ref, net.bias_row))
            if args.bias_row:
                moved = bias_row_moved(net, net.stream_in)
                if moved:
                    print("torch_export: %s: the bias row moved after blocks %s" % (name, moved),
                          file=sys.stderr)
                    rc = 1
        if args.tl_state_dict and name == dtypes[0]:
            sd, cfg, blockers = tl_state_dict(net)
            tmp = args.tl_state_dict + ".tmp"
            try:
                torch.save({"state_dict": sd, "config": cfg}, tmp)
                os.replace(tmp, args.tl_state_dict)
            except (OSError, RuntimeError) as e:
                print("torch_export: %s: %s" % (args.tl_state_dict, e), file=sys.stderr)
                return 2
            with torch.no_grad():
                x = net.stream_in.unsqueeze(0)
                tl = tl_forward(sd, cfg, x, keep=())[0].to(torch.float64).numpy()
            print("torch_export: %s written (%s); HookedTransformer: %s; its forward pass "
                  "(tl_forward keep=()) E = %.3g" % (
                      args.tl_state_dict, name, "exact" if not blockers else
                      "not exact: " + "; ".join(blockers),
                      run_export.distance(tl, ref, net.bias_row)), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
