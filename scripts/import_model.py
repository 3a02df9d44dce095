#!/usr/bin/python3
"""Import a HuggingFace GPT-2 checkpoint or a TransformerLens state dict as an attncheck model file.

    /usr/bin/python3 scripts/import_model.py hf CHECKPOINT OUT.safetensors [--config config.json]
    /usr/bin/python3 scripts/import_model.py tl STATE_DICT OUT.safetensors --config CFG.json

hf: CHECKPOINT is a directory holding model.safetensors or pytorch_model.bin
and config.json, or one of those files (config.json beside it unless
--config).  Names as HuggingFace's GPT2Model/GPT2LMHeadModel write them, with
or without the "transformer." prefix: wte, wpe, h.{l}.ln_1, h.{l}.attn.c_attn
(Conv1D, weight [d_model, 3 d_model], y = x W + b, columns q | k | v, each
head-major), h.{l}.attn.c_proj, h.{l}.ln_2, h.{l}.mlp.c_fc, h.{l}.mlp.c_proj,
ln_f; lm_head.weight when the file has one, else the unembedding is tied to
wte (GPT-2 has no output bias: unembed.b_U is zeros).  The split into heads is
TransformerLens's (pretrained/weight_conversions/gpt2.py).  config.json is
mapped to HookedTransformerConfig fields; what has no exact counterpart is
refused.

tl: STATE_DICT is a TransformerLens state dict (HookedTransformer.state_dict())
saved with torch.save (.pt/.pth/.bin, read with weights_only=True) or as
safetensors; CFG.json holds HookedTransformerConfig fields (json.dump of
model.cfg.to_dict() with non-JSON values dropped, or the fields by hand).  The
config goes into the file as given: `attncheck model` refuses any field it
cannot model.

OUT holds the tensors attncheck reads (blocks.*, ln_final.*) and embed.W_E,
pos_embed.W_pos, unembed.W_U, unembed.b_U, each in its own dtype (F64, F32,
F16; BF16 as F32, exactly), with the config in __metadata__ "config".
Exit codes as attncheck's: 64 usage, 65 data (one line naming the problem),
66 no input, 70 python3-torch missing for a torch pickle, 73 cannot create OUT.  --mutate NAME writes a deliberately wrong
mapping (c_attn-transposed, heads-interleaved): broken twins for the tests.
Debian's /usr/bin/python3 with python3-numpy and python3-torch.
"""
import argparse
import json
import math
import os
import re
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlmodel  # noqa: E402

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_SOFTWARE, EX_CANTCREAT = 64, 65, 66, 70, 73
MUTATIONS = ("c_attn-transposed", "heads-interleaved")


class Refused(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def fail(msg, code=EX_DATAERR):
    raise Refused(code, msg)


# ---------------------------------------------------------------- reading

def _to_numpy(name, t):
    """A torch tensor as a numpy float array, exactly (bfloat16 widened to float32)."""
    import torch
    if not isinstance(t, torch.Tensor):
        fail(f"entry '{name}' is not a tensor")
    if not t.is_floating_point():
        return None  # buffers such as masks: not weights
    if t.dtype == torch.bfloat16:
        t = t.to(torch.float32)  # exact
    return t.detach().cpu().contiguous().numpy()


def read_tensors(path):
    """name -> numpy array from safetensors (numpy reader, dtypes kept) or a
    torch pickle (weights_only).  Non-float tensors map to None."""
    if not os.path.isfile(path):
        fail(f"{path}: no such file", EX_NOINPUT)
    with open(path, "rb") as f:
        head = f.read(8)
    if path.endswith(".safetensors"):
        try:
            return tlmodel.load_file(path, native=True)[0]
        except (ValueError, KeyError, TypeError, OSError, struct.error) as e:
            fail(f"{path}: not a readable safetensors file ({e})")
    if not head:
        fail(f"{path}: empty file")
    try:
        import torch
    except ImportError:
        fail(f"{path}: a torch pickle needs Debian's python3-torch (apt-get install -y "
             "python3-torch)", EX_SOFTWARE)
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for a bad pickle
        fail(f"{path}: torch.load(weights_only=True) cannot read it: {str(e).splitlines()[0]}")
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict):
        fail(f"{path}: holds a {type(sd).__name__}, not a state dict")
    return {str(k): _to_numpy(str(k), v) for k, v in sd.items()}


def read_json(path, what):
    if not os.path.isfile(path):
        fail(f"{path}: no such file ({what})", EX_NOINPUT)
    def no_constant(name):  # NaN, Infinity: the config is written back as JSON
        raise ValueError(f"{name} is no JSON number")

    def finite(text):
        v = float(text)
        if not math.isfinite(v):
            raise ValueError(f"{text} is beyond a double")
        return v

    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f, parse_constant=no_constant, parse_float=finite)
    except (ValueError, OSError, RecursionError) as e:
        fail(f"{path}: not valid JSON ({e})")
    if not isinstance(obj, dict):
        fail(f"{path}: not a JSON object ({what})")
    return obj


def want(t, name, shape):
    """t[name], present, float, of that shape."""
    a = t.get(name)
    if name not in t:
        fail(f"missing tensor '{name}'")
    if a is None:
        fail(f"tensor '{name}' is not a float tensor")
    if tuple(a.shape) != tuple(shape):
        fail(f"tensor '{name}' has shape {list(a.shape)}, the config says {list(shape)}")
    if not np.all(np.isfinite(a)):
        fail(f"tensor '{name}' holds NaN or Inf")
    return a


# ---------------------------------------------------------------- HuggingFace GPT-2

# HF activation_function -> TransformerLens act_fn, where they are the same function
HF_ACTS = {"gelu_new": "gelu_new", "gelu": "gelu", "relu": "relu", "silu": "silu",
           "swish": "silu", "gelu_pytorch_tanh": "gelu_pytorch_tanh", "gelu_fast": "gelu_fast",
           "sigmoid": "sigmoid"}
# config.json keys that change nothing in one forward pass from token ids to logits
HF_HARMLESS = {
    "vocab_size", "n_positions", "n_ctx", "resid_pdrop", "embd_pdrop", "attn_pdrop",
    "initializer_range", "summary_type", "summary_use_proj", "summary_activation",
    "summary_proj_to_labels", "summary_first_dropout", "use_cache", "bos_token_id",
    "eos_token_id", "pad_token_id", "reorder_and_upcast_attn", "architectures", "model_type",
    "task_specific_params", "transformers_version", "torch_dtype", "dtype", "_name_or_path",
    "tie_word_embeddings", "n_special", "predict_special_tokens", "id2label", "label2id",
    "output_hidden_states", "output_attentions", "return_dict", "torchscript",
    "use_bfloat16", "tokenizer_class", "prefix", "bad_words_ids", "max_length",
    "do_sample", "num_beams", "gradient_checkpointing", "_attn_implementation_autoset",
}
# config.json keys refused unless they have the given value
HF_NEUTRAL = {
    "scale_attn_by_inverse_layer_idx": (False, "it divides block l's logits by l + 1"),
    "add_cross_attention": (False, "cross-attention blocks are not a decoder-only GPT-2"),
    "is_encoder_decoder": (False, "an encoder-decoder is not a decoder-only GPT-2"),
}


def hf_config(hc):
    """HookedTransformerConfig fields for a HF GPT2Config dict (TransformerLens's own
    mapping for GPT-2), refusing what has no exact counterpart."""
    mt = hc.get("model_type", "gpt2")
    if mt != "gpt2":
        fail(f"config.json: model_type '{mt}' is not gpt2 (this importer reads GPT-2's layout)")
    for k in ("n_embd", "n_layer", "n_head"):
        if not isinstance(hc.get(k), int) or isinstance(hc.get(k), bool) or hc[k] < 1:
            fail(f"config.json: {k} is missing or not an integer >= 1")
    d, heads = hc["n_embd"], hc["n_head"]
    if d % heads:
        fail(f"config.json: n_embd {d} is not a multiple of n_head {heads}")
    for k, (ok, why) in HF_NEUTRAL.items():
        if k in hc and hc[k] not in (ok, None):
            fail(f"config.json: {k} is {json.dumps(hc[k])}: {why}, which is not modelled")
    act = hc.get("activation_function", "gelu_new")
    if act not in HF_ACTS:
        fail(f"config.json: activation_function '{act}' has no TransformerLens act_fn attncheck "
             f"reads (one of {', '.join(sorted(HF_ACTS))})")
    inner = hc.get("n_inner")
    if inner is not None and (not isinstance(inner, int) or isinstance(inner, bool) or inner < 1):
        fail("config.json: n_inner is not null or an integer >= 1")
    eps = hc.get("layer_norm_epsilon", 1e-5)
    if not isinstance(eps, (int, float)) or isinstance(eps, bool) or not eps > 0:
        fail("config.json: layer_norm_epsilon is not a number > 0")
    scale = hc.get("scale_attn_weights", True)
    if not isinstance(scale, bool):
        fail("config.json: scale_attn_weights is not true or false")
    known = set(HF_ACTS) | HF_HARMLESS | set(HF_NEUTRAL) | {
        "n_embd", "n_layer", "n_head", "n_inner", "activation_function", "layer_norm_epsilon",
        "scale_attn_weights"}
    for k in hc:
        if k not in known and not k.startswith("_"):
            fail(f"config.json: key '{k}' is not a GPT2Config field this importer maps")
    cfg = {"d_model": d, "n_layers": hc["n_layer"], "n_heads": heads, "d_head": d // heads,
           "d_mlp": inner if inner is not None else 4 * d, "act_fn": HF_ACTS[act],
           "normalization_type": "LN", "eps": float(eps),
           # HF divides the logits by value.size(-1) ** 0.5 = sqrt(d_head): TL's default
           "use_attn_scale": scale, "attention_dir": "causal",
           "positional_embedding_type": "standard", "original_architecture": "GPT2LMHeadModel"}
    for src, dst in (("n_positions", "n_ctx"), ("vocab_size", "d_vocab")):
        if isinstance(hc.get(src), int):
            cfg[dst] = hc[src]
    return cfg


def hf_paths(checkpoint, config):
    if os.path.isdir(checkpoint):
        for name in ("model.safetensors", "pytorch_model.bin"):
            p = os.path.join(checkpoint, name)
            if os.path.isfile(p):
                weights = p
                break
        else:
            fail(f"{checkpoint}: holds neither model.safetensors nor pytorch_model.bin",
                 EX_NOINPUT)
        folder = checkpoint
    elif os.path.isfile(checkpoint):
        weights, folder = checkpoint, os.path.dirname(os.path.abspath(checkpoint))
    else:
        fail(f"{checkpoint}: no such file or directory", EX_NOINPUT)
    return weights, config or os.path.join(folder, "config.json")


def hf_tensors(t, cfg, mutate=None):
    """TransformerLens-named tensors from HF GPT-2 names (TL's convert_gpt2_weights)."""
    prefixes = {k.split("h.", 1)[0] for k in t if re.match(r"^(transformer\.)?h\.\d+\.", k)}
    prefix = "transformer." if "transformer.wte.weight" in t else ""
    if prefixes - {prefix}:
        fail("the checkpoint mixes names with and without the 'transformer.' prefix")
    d, L, H, E, M = (cfg[k] for k in ("d_model", "n_layers", "n_heads", "d_head", "d_mlp"))
    used = set()

    def get(name, shape):
        used.add(prefix + name)
        return want(t, prefix + name, shape)

    def rows(name, key):  # vocab_size and n_positions from config.json, else the tensor's
        a = t.get(prefix + name)
        return cfg.get(key, a.shape[0] if a is not None and a.ndim == 2 else 0)

    W_E = get("wte.weight", (rows("wte.weight", "d_vocab"), d))
    V = W_E.shape[0]
    out = {"embed.W_E": W_E, "pos_embed.W_pos": get("wpe.weight", (rows("wpe.weight", "n_ctx"), d))}
    for layer in range(L):
        h, b = f"h.{layer}.", f"blocks.{layer}."
        out[b + "ln1.w"] = get(h + "ln_1.weight", (d,))
        out[b + "ln1.b"] = get(h + "ln_1.bias", (d,))
        W = get(h + "attn.c_attn.weight", (d, 3 * d))
        bias = get(h + "attn.c_attn.bias", (3 * d,))
        for k, name in enumerate(("Q", "K", "V")):
            flat = W[:, k * d:(k + 1) * d]  # [d_model, (head d_head)]
            if mutate == "c_attn-transposed":
                flat = flat.T  # a Linear's [out, in] read as Conv1D's [in, out]
            if mutate == "heads-interleaved":  # columns (d_head head) instead of (head d_head)
                w = flat.reshape(d, E, H).transpose(2, 0, 1)
            else:
                w = flat.reshape(d, H, E).transpose(1, 0, 2)  # [head, d_model, d_head]
            out[b + "attn.W_" + name] = np.ascontiguousarray(w)
            out[b + "attn.b_" + name] = bias[k * d:(k + 1) * d].reshape(H, E)
        out[b + "attn.W_O"] = get(h + "attn.c_proj.weight", (d, d)).reshape(H, E, d)
        out[b + "attn.b_O"] = get(h + "attn.c_proj.bias", (d,))
        out[b + "ln2.w"] = get(h + "ln_2.weight", (d,))
        out[b + "ln2.b"] = get(h + "ln_2.bias", (d,))
        out[b + "mlp.W_in"] = get(h + "mlp.c_fc.weight", (d, M))
        out[b + "mlp.b_in"] = get(h + "mlp.c_fc.bias", (M,))
        out[b + "mlp.W_out"] = get(h + "mlp.c_proj.weight", (M, d))
        out[b + "mlp.b_out"] = get(h + "mlp.c_proj.bias", (d,))
        # GPT-2's causal-mask buffers, not weights
        used.update({prefix + h + "attn.bias", prefix + h + "attn.masked_bias"})
    out["ln_final.w"] = get("ln_f.weight", (d,))
    out["ln_final.b"] = get("ln_f.bias", (d,))
    if "lm_head.weight" in t:
        used.add("lm_head.weight")
        out["unembed.W_U"] = np.ascontiguousarray(want(t, "lm_head.weight", (V, d)).T)
    else:
        out["unembed.W_U"] = np.ascontiguousarray(W_E.T)  # tied, as GPT2LMHeadModel
    out["unembed.b_U"] = np.zeros(V, dtype=W_E.dtype)  # GPT-2's lm_head has no bias
    extra = sorted(k for k in t if k not in used)
    if extra:
        m = re.match(r"^(transformer\.)?h\.(\d+)\.", extra[0])
        if m and int(m.group(2)) >= L:
            fail(f"tensor '{extra[0]}' exists but config.json says n_layer {L}")
        fail(f"tensor '{extra[0]}' is not part of GPT-2's layout (refused, not dropped)")
    return out


# ---------------------------------------------------------------- TransformerLens

TL_BLOCK = re.compile(r"^blocks\.(\d+)\.(ln1\.[wb]|ln2\.[wb]|attn\.[Wb]_[QKVO]|"
                      r"mlp\.(W_in|b_in|W_gate|W_out|b_out))$")
TL_TOP = {"embed.W_E", "pos_embed.W_pos", "unembed.W_U", "unembed.b_U", "ln_final.w",
          "ln_final.b"}


def tl_tensors(t, cfg):
    """The tensors attncheck reads and the embeddings; buffers (masks, IGNORE) and hook
    state are left out, any other parameter is refused."""
    for k in ("d_model", "n_layers"):
        if not isinstance(cfg.get(k), int) or cfg[k] < 1:
            fail(f"config: {k} is missing or not an integer >= 1")
    out = {}
    for name, a in t.items():
        m = TL_BLOCK.match(name)
        if name in TL_TOP or m:
            if a is None:
                fail(f"tensor '{name}' is not a float tensor")
            if m and int(m.group(1)) >= cfg["n_layers"]:
                fail(f"tensor '{name}' exists but the config says n_layers {cfg['n_layers']}")
            if not np.all(np.isfinite(a)):
                fail(f"tensor '{name}' holds NaN or Inf")
            out[name] = a
        elif a is not None and not re.search(r"(^|\.)(mask|IGNORE)$", name):
            fail(f"tensor '{name}' is not a TransformerLens parameter attncheck reads "
                 "(refused, not dropped)")
    if "embed.W_E" not in out:
        fail("missing tensor 'embed.W_E' (token ids cannot be embedded without it)")
    return out


# ---------------------------------------------------------------- main

class Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"import_model: {message}\n")
        sys.exit(EX_USAGE)


def main(argv=None):
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("layout", choices=("hf", "tl"))
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--config")
    ap.add_argument("--mutate", choices=MUTATIONS)
    args = ap.parse_args(argv)
    try:
        if os.path.realpath(args.out) == os.path.realpath(args.source):
            fail(f"{args.out}: is the input; refusing to replace it", EX_CANTCREAT)
        if args.layout == "hf":
            weights, cpath = hf_paths(args.source, args.config)
            cfg = hf_config(read_json(cpath, "GPT2Config"))
            tensors = hf_tensors(read_tensors(weights), cfg, args.mutate)
            source = f"HuggingFace GPT-2 {os.path.basename(weights)}"
        else:
            if not args.config:
                fail("tl needs --config CFG.json (HookedTransformerConfig fields)", EX_USAGE)
            if args.mutate:
                fail("--mutate applies to hf", EX_USAGE)
            cfg = read_json(args.config, "HookedTransformerConfig fields")
            tensors = tl_tensors(read_tensors(args.source), cfg)
            source = f"TransformerLens state dict {os.path.basename(args.source)}"
        if args.mutate:
            source += f" (broken twin: --mutate {args.mutate})"
        meta = {"config": json.dumps(cfg, sort_keys=True), "source": source}
        tensors = {k: (v.astype(np.float32) if v.dtype not in (np.float64, np.float32, np.float16)
                       else v) for k, v in tensors.items()}
        try:
            tlmodel.save_file(tensors, args.out, meta)
        except OSError as e:
            fail(f"{args.out}: cannot create: {e.strerror}", EX_CANTCREAT)
    except Refused as e:
        sys.stderr.write(f"import_model: {' '.join(str(e).split())}\n")
        return e.code
    n = sum(a.size for a in tensors.values())
    print(f"import_model: wrote {args.out} ({len(tensors)} tensors, {n} parameters, "
          f"{cfg['n_layers']} blocks, d_model {cfg['d_model']}, from {source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
