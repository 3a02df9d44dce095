#!/usr/bin/python3
"""A small trained GELU transformer and its exact test set, for `attncheck model`.

    /usr/bin/python3 scripts/train_gelu_fixture.py OUT.safetensors [--steps N] [--seed N]

Task: pairwise modular addition along a sequence of tokens 0 .. P-1 (P = 11): the
answer at position i >= 1 is (x[i-1] + x[i]) mod P (position 0 has none).  The test
set is exact: one sequence of P^2 + 1 tokens, a rotation of the de Bruijn cycle of
order 2 over P symbols closed by its first symbol, in which every pair (a, b)
occurs exactly once, so its P^2 positions hold every addition there is.  Training
draws uniform random sequences (windows of 24 tokens at random offsets, then whole
sequences); the test sequence is one the model never saw as a whole.

The rotation is chosen (choose_rotation): the one whose answers one SiLU head per
neuron (the shipped m = 1 fit) changes most while three heads change none, by a
float64 estimate; the positions it changes are recorded in the metadata
(m1_changed_estimate) for the tests to compare with the certified run.  The
training stops early (1100 steps) on purpose: a model trained to large margins
keeps every answer under m = 1, and the fixture is there to show one that does not.

Model: 1 pre-LN block (LayerNorm, eps 1e-5), d_model 32, 2 causal heads of 8,
d_mlp 24, act_fn gelu (erf), ln_final, unembedding with bias; token embeddings
and fixed sinusoidal positions (their sum is the stream entering block 0, which
is what the test set is written as).  Deterministic on the CPU: torch.manual_seed,
one thread, torch.use_deterministic_algorithms, float32: bitwise equal on one
machine; another CPU or torch version may round differently and train another
model, so the tests assert properties of the result, never its counts.

Writes OUT (F32, TransformerLens names, config in __metadata__), OUT's stem +
"-input.npy" (the test sequence's stream entering block 0, float32 [P^2 + 1,
d_model]) and stem + "-answers.npy" (int64 [P^2 + 1], -1 at position 0)."""
import argparse
import json
import os
import re
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import tlmodel  # noqa: E402

P = 11
N_CTX = P * P + 1
BATCH, WINDOW = 32, 24  # training windows at random offsets (positions are fixed sinusoids)
CFG = {"d_model": 32, "n_layers": 1, "n_heads": 2, "d_head": 8, "d_mlp": 24,
       "act_fn": "gelu", "normalization_type": "LN", "eps": 1e-5, "attn_scale": 8 ** 0.5,
       "attention_dir": "causal", "d_vocab": P, "n_ctx": N_CTX}


def de_bruijn(k, n):
    """The lexicographically least de Bruijn sequence B(k, n) (Fredricksen-Maiorana)."""
    a, seq = [0] * k * n, []

    def db(t, p):
        if t > n:
            if n % p == 0:
                seq.extend(a[1:p + 1])
        else:
            a[t] = a[t - p]
            db(t + 1, p)
            for j in range(a[t - p] + 1, k):
                a[t] = j
                db(t + 1, t)
    db(1, 1)
    return seq


def test_tokens(rot):
    """Rotation rot of the de Bruijn cycle, closed by its first symbol: every
    rotation holds every pair exactly once."""
    s = de_bruijn(P, 2)
    s = s[rot:] + s[:rot]
    return np.array(s + s[:1], dtype=np.int64)


def shipped_fit(m):
    """c_j, a_j of the shipped gelu fit with m heads (src/act/silusum_table.inc)."""
    inc = os.path.join(os.path.dirname(__file__), "..", "src", "act", "silusum_table.inc")
    with open(inc) as f:
        for line in f:
            g = re.match(r'\s*\{"gelu", (\d+), (\d+), \{([^}]*)\}, \{([^}]*)\}', line)
            if g and int(g.group(1)) == m:
                b = int(g.group(2))
                return ([int(v) / 2 ** b for v in g.group(3).split(",")],
                        [int(v) / 2 ** b for v in g.group(4).split(",")])
    raise ValueError("no shipped gelu fit with %d heads" % m)


def choose_rotation(model):
    """The test sequence: the rotation whose answers the model with one SiLU
    head per neuron (the m = 1 fit, float64 estimate) changes most, among
    those where three heads change none (ties: the first).  Returns it and
    the positions m = 1 changes."""
    t = {k: v.astype(np.float64) for k, v in model.tensors().items()}
    cfg = tlmodel.config({"config": json.dumps(CFG)})
    sig = lambda z: 0.5 * (1 + np.tanh(0.5 * z))  # noqa: E731

    def top(x, m):
        act = None
        if m:
            c, a = shipped_fit(m)
            act = lambda z: sum(cj * z * sig(aj * z) for cj, aj in zip(c, a))  # noqa: E731
        return (tlmodel.forward(t, cfg, x, act=act) @ t["unembed.W_U"] + t["unembed.b_U"]).argmax(-1)

    best, best_flips = 0, None
    for rot in range(P * P):
        x = t["embed.W_E"][test_tokens(rot)] + t["pos_embed.W_pos"]
        ref = top(x, 0)
        flips = [int(i) for i in np.nonzero(top(x, 1) != ref)[0]]
        if (best_flips is None or len(flips) > len(best_flips)) and (top(x, 3) == ref).all():
            best, best_flips = rot, flips
    return best, best_flips or []


def answers(tok):
    y = np.full(tok.shape, -1, dtype=np.int64)
    y[..., 1:] = (tok[..., :-1] + tok[..., 1:]) % P
    return y


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        d, h, e, m = CFG["d_model"], CFG["n_heads"], CFG["d_head"], CFG["d_mlp"]
        self.W_E = torch.nn.Parameter(torch.randn(P, d) * 0.5)
        # fixed sinusoidal positions (not trained): "the previous position" is then
        # one rotation per frequency, which the attention learns in few steps
        pos = torch.arange(N_CTX, dtype=torch.float32)[:, None]
        freq = torch.exp(-torch.arange(0, d, 2, dtype=torch.float32) / d * 9.2)
        W_pos = torch.zeros(N_CTX, d)
        W_pos[:, 0::2] = torch.sin(pos * freq)
        W_pos[:, 1::2] = torch.cos(pos * freq)
        self.register_buffer("W_pos", W_pos)
        self.ln1 = torch.nn.LayerNorm(d, eps=CFG["eps"])
        self.ln2 = torch.nn.LayerNorm(d, eps=CFG["eps"])
        self.lnf = torch.nn.LayerNorm(d, eps=CFG["eps"])
        self.W_Q = torch.nn.Parameter(torch.randn(h, d, e) / d ** 0.5)
        self.W_K = torch.nn.Parameter(torch.randn(h, d, e) / d ** 0.5)
        self.W_V = torch.nn.Parameter(torch.randn(h, d, e) / d ** 0.5)
        self.b_Q = torch.nn.Parameter(torch.zeros(h, e))
        self.b_K = torch.nn.Parameter(torch.zeros(h, e))
        self.b_V = torch.nn.Parameter(torch.zeros(h, e))
        self.W_O = torch.nn.Parameter(torch.randn(h, e, d) / (h * e) ** 0.5)
        self.b_O = torch.nn.Parameter(torch.zeros(d))
        self.W_in = torch.nn.Parameter(torch.randn(d, m) / d ** 0.5)
        self.b_in = torch.nn.Parameter(torch.zeros(m))
        self.W_out = torch.nn.Parameter(torch.randn(m, d) / m ** 0.5)
        self.b_out = torch.nn.Parameter(torch.zeros(d))
        self.W_U = torch.nn.Parameter(torch.randn(d, P) / d ** 0.5)
        self.b_U = torch.nn.Parameter(torch.zeros(P))
        mask = torch.tril(torch.ones(N_CTX, N_CTX, dtype=torch.bool))
        self.register_buffer("mask", mask)

    def forward(self, tok):
        return self.logits(self.W_E[tok] + self.W_pos[:tok.shape[-1]], tok.shape[-1])

    def window(self, tok, start):
        """Logits of a training window at positions start .. start + len - 1."""
        return self.logits(self.W_E[tok] + self.W_pos[start:start + tok.shape[-1]], tok.shape[-1])

    def logits(self, x, n):
        u = self.ln1(x)
        q = torch.einsum("bnd,hde->bhne", u, self.W_Q) + self.b_Q[:, None, :]
        k = torch.einsum("bnd,hde->bhne", u, self.W_K) + self.b_K[:, None, :]
        v = torch.einsum("bnd,hde->bhne", u, self.W_V) + self.b_V[:, None, :]
        s = torch.einsum("bhne,bhme->bhnm", q, k) / CFG["attn_scale"]
        s = s.masked_fill(~self.mask[:n, :n], float("-inf"))
        z = torch.einsum("bhnm,bhme->bhne", torch.softmax(s, -1), v)
        x = x + torch.einsum("bhne,hed->bnd", z, self.W_O) + self.b_O
        u = self.ln2(x)
        x = x + torch.nn.functional.gelu(u @ self.W_in + self.b_in) @ self.W_out + self.b_out
        return self.lnf(x) @ self.W_U + self.b_U

    def tensors(self):
        f = {k: v.detach().numpy().astype(np.float32) for k, v in self.named_parameters()}
        f["W_pos"] = self.W_pos.numpy().astype(np.float32)
        p = "blocks.0."
        t = {"embed.W_E": f["W_E"], "pos_embed.W_pos": f["W_pos"],
             p + "ln1.w": f["ln1.weight"], p + "ln1.b": f["ln1.bias"],
             p + "ln2.w": f["ln2.weight"], p + "ln2.b": f["ln2.bias"],
             "ln_final.w": f["lnf.weight"], "ln_final.b": f["lnf.bias"],
             "unembed.W_U": f["W_U"], "unembed.b_U": f["b_U"]}
        for w in ("W_Q", "W_K", "W_V", "b_Q", "b_K", "b_V", "W_O", "b_O"):
            t[p + "attn." + w] = f[w]
        for w in ("W_in", "b_in", "W_out", "b_out"):
            t[p + "mlp." + w] = f[w]
        return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=1100)
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    t0 = time.monotonic()
    model = Model()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.steps)
    gen = torch.Generator().manual_seed(args.seed)
    for step in range(args.steps):
        # short windows first (fast), whole sequences last (the test's length)
        full = step >= args.steps * 2 // 3
        w = N_CTX if full else WINDOW
        start = 0 if full else int(torch.randint(0, N_CTX - WINDOW + 1, (1,), generator=gen))
        tok = torch.randint(0, P, (BATCH // 4 if full else BATCH, w), generator=gen)
        y = torch.from_numpy(answers(tok.numpy()))
        logits = model.window(tok, start)
        loss = torch.nn.functional.cross_entropy(logits[:, 1:].reshape(-1, P), y[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if os.environ.get("TRAIN_VERBOSE") and step % 100 == 0:
            print(step, round(loss.item(), 4), flush=True)
    rot, flips = choose_rotation(model)
    tok = test_tokens(rot)
    y = answers(tok)
    with torch.no_grad():
        pred = model(torch.from_numpy(tok)[None])[0].argmax(-1).numpy()
        x = (model.W_E[torch.from_numpy(tok)] + model.W_pos).numpy().astype(np.float32)
    acc = int((pred[1:] == y[1:]).sum())
    t = model.tensors()
    cfg = {k: v for k, v in CFG.items()}
    meta = {"config": json.dumps(cfg, sort_keys=True),
            "source": f"scripts/train_gelu_fixture.py --steps {args.steps} --seed {args.seed}: "
                      f"(x[i-1] + x[i]) mod {P}, final loss {loss.item():.4f}, test sequence: "
                      f"rotation {rot} of the de Bruijn cycle",
            # an estimate (float64 numpy), for the tests to compare with the certified run
            "m1_changed_estimate": ",".join(str(i) for i in flips)}
    stem = args.out[:-len(".safetensors")] if args.out.endswith(".safetensors") else args.out
    tlmodel.save_file(t, args.out, meta)
    np.save(stem + "-input.npy", x)
    np.save(stem + "-answers.npy", y)
    print(f"train_gelu_fixture: wrote {args.out}, {stem}-input.npy, {stem}-answers.npy "
          f"({args.steps} steps, loss {loss.item():.4f}, test {acc}/{P * P} in float32 torch, "
          f"rotation {rot}: {len(flips)} answers changed by one SiLU head per neuron (estimate), "
          f"{time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
