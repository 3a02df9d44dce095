#!/usr/bin/python3
"""Checks scripts/torch_export.py's module and hook points on one export (tests/check_torch.c).

    /usr/bin/python3 tests/torch_hooks.py EXPORT.safetensors

In float64, against scripts/run_export.py's numpy run of the same network (src/aonet.h):
  - the output, unbatched and in a batch of two;
  - every block has the TransformerLens hook points, with TransformerLens's shapes;
  - hook_pattern: rows sum to 1, zero where the layer's mask forbids;
  - hook_resid_post = hook_resid_pre + hook_result summed over heads = resid_pre + hook_attn_out;
  - hooks edit: zeroing one head's hook_z gives the numpy network with that head's W_O
    zeroed (and a different output), and so does zeroing its hook_result;
  - the TransformerLens form (tl_state_dict): uniform shapes, and tl_forward with the
    attncheck_* keys is the network; without them (HookedTransformer's own forward) it is
    the network when tl_state_dict names no blocker, and differs when it names one.
Prints one line per check; exit 0 when all hold, 1 when one fails, 2 no torch.
"""
import json
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print("torch_hooks: %s is missing" % e.name)
    sys.exit(2)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import run_export  # noqa: E402
import torch_export  # noqa: E402

TOL = 1e-12


def close(a, b, scale=1.0):
    a = np.asarray(a.detach().to(torch.float64) if torch.is_tensor(a) else a, np.float64)
    b = np.asarray(b.detach().to(torch.float64) if torch.is_tensor(b) else b, np.float64)
    return a.shape == b.shape and float(np.abs(a - b).max()) <= TOL * max(scale, float(np.abs(b).max()))


def main():
    path = sys.argv[1]
    net, tensors, meta = torch_export.load(path, torch.float64)
    layout = json.loads(meta["attncheck_network"])
    x = net.stream_in
    n = x.shape[0]
    failed = []

    def check(name, ok):
        print("%s: %s" % (name, "ok" if ok else "FAILED"))
        if not ok:
            failed.append(name)

    with torch.no_grad():
        want = run_export.run_network(tensors, layout, tensors["stream_in"])
        y = net(x)
        check("output = numpy network", close(y, want))
        check("batch of two", close(net(torch.stack([x, 2 * x]))[0], y))
        y2, cache = net.run_with_cache(x)
        check("run_with_cache leaves the output", close(y2, y))
        shapes_ok, pattern_ok, resid_ok = True, True, True
        for k, b in enumerate(net.blocks):
            p = "blocks.%d." % k
            h = sum(g.n_heads for g in b.attn.groups)
            e = b.attn.d_head
            want_shape = {"hook_resid_pre": (1, n, net.D), "hook_resid_post": (1, n, net.D),
                          "hook_attn_out": (1, n, net.D), "attn.hook_pattern": (1, h, n, n),
                          "attn.hook_attn_scores": (1, h, n, n), "attn.hook_z": (1, n, h, e),
                          "attn.hook_result": (1, n, h, net.D)}
            for name, shape in want_shape.items():
                shapes_ok &= p + name in cache and tuple(cache[p + name].shape) == shape
            pat = cache[p + "attn.hook_pattern"][0]
            pattern_ok &= close(pat.sum(-1), torch.ones(h, n, dtype=torch.float64))
            for name, h0, h1 in b.attn.head_ranges():
                allowed = torch.from_numpy(run_export.mask_matrix(layout["layers"][k]["groups"][
                    [g.name for g in b.attn.groups].index(name)]["mask"], n))
                pattern_ok &= bool((pat[h0:h1][:, ~allowed] == 0).all())
            pre, post = cache[p + "hook_resid_pre"], cache[p + "hook_resid_post"]
            resid_ok &= close(post, pre + cache[p + "attn.hook_result"].sum(2))
            resid_ok &= close(post, pre + cache[p + "hook_attn_out"])
        check("hook names and TransformerLens shapes", shapes_ok)
        check("patterns: rows sum to 1, masked keys 0", pattern_ok)
        check("resid_post = resid_pre + sum of hook_result = resid_pre + hook_attn_out", resid_ok)

        # zero the first head of the last block, three ways
        k = len(net.blocks) - 1
        g0 = layout["layers"][k]["groups"][0]["name"]
        ablated = {key: v.copy() for key, v in tensors.items()}
        ablated["net.layers.%d.%s.W_O" % (k, g0)][0] = 0
        want_ablated = run_export.run_network(ablated, layout, tensors["stream_in"])

        def zero_head(t, hook):
            t = t.clone()
            t[:, :, 0] = 0
            return t

        for hook in ("attn.hook_z", "attn.hook_result"):
            ya = net.run_with_hooks(x, [("blocks.%d.%s" % (k, hook), zero_head)])
            check("zeroing head 0 of block %d through %s = W_O zeroed" % (k, hook),
                  close(ya, want_ablated) and not close(ya, y))
        check("hooks removed after run_with_hooks", close(net(x), y))

        sd, cfg, blockers = torch_export.tl_state_dict(net)
        H, e = cfg["n_heads"], cfg["d_head"]
        check("TransformerLens shapes uniform", all(
            tuple(sd["blocks.%d.attn.%s" % (k, w)].shape) == shape
            for k in range(cfg["n_layers"])
            for w, shape in (("W_Q", (H, net.D, e)), ("W_V", (H, net.D, e)),
                             ("W_O", (H, e, net.D)), ("b_Q", (H, e)), ("b_O", (net.D,)))))
        check("tl_forward with the attncheck_* keys = the network",
              close(torch_export.tl_forward(sd, cfg, x.unsqueeze(0))[0], y))
        pure = torch_export.tl_forward(sd, cfg, x.unsqueeze(0), keep=())[0]
        print("blockers: %s" % (blockers or "none"))
        check("HookedTransformer's forward = the network iff no blocker",
              close(pure, y) == (not blockers))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
