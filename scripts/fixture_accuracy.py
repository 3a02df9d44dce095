#!/usr/bin/python3
"""Accuracy of the trained GELU fixture and of its attention-only conversions.

    /usr/bin/python3 scripts/fixture_accuracy.py MODEL.safetensors [--attncheck BIN]
                     [--tol T] [--out FILE.md]

Runs `attncheck model MODEL --input STEM-input.npy` with --heads-per-neuron 1, 2
and 3 and with --tol T (the heads chosen per block), reads each JSON report's
top1 rows (the real model's certified top-1 token per position and the converted
network's) and compares both with STEM-answers.npy.  Every number in the table
is read from attncheck's reports; the accuracy columns count positions whose
answer is known (1 .. n-1).  Writes a markdown table to --out (or stdout)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def run(bin_, model, inp, extra, tmp):
    out = os.path.join(tmp, "r%d" % len(os.listdir(tmp)))
    cmd = [bin_, "model", model, "--input", inp, "--no-export", "--format", "json",
           "--out", out] + extra
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 1, 2):
        sys.exit("fixture_accuracy: %s exited %d: %s" % (" ".join(cmd), p.returncode,
                                                          p.stderr.strip()))
    name = [f for f in os.listdir(out) if f.startswith("model-") and f.endswith(".json")]
    with open(os.path.join(out, name[0])) as f:
        rep = json.load(f)
    return p.returncode, rep


def summarise(rep, ans):
    top = {}
    real = None
    for r in rep["rows"]:
        c = r["params"]["check"]
        if c == "top1":
            top[int(r["params"]["pos"])] = r
        elif c == "real":
            real = r
    known = [i for i in range(len(ans)) if ans[i] >= 0]
    ok_model = sum(1 for i in known if top[i]["extra"].get("top-1 model") == str(ans[i]))
    ok_conv = sum(1 for i in known if top[i]["extra"].get("top-1 converted") == str(ans[i]))
    changed = [i for i in sorted(top) if top[i]["verdict"] != "holds"]
    heads = rep["details"].get("heads_per_neuron", [])
    return {"known": len(known), "model": ok_model, "conv": ok_conv, "changed": changed,
            "m": ",".join(str(h["m"]) for h in heads) or "1 (SiLU_a)",
            "E": real["error"]["hi"] if real else "-",
            "tol": real["bound"]["hi"] if real else "-",
            "real": real["verdict"] if real else "-",
            "heads": rep["details"]["heads"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--attncheck", default="build/attncheck")
    ap.add_argument("--tol", default="0.05")
    ap.add_argument("--out")
    args = ap.parse_args()
    stem = args.model[:-len(".safetensors")] if args.model.endswith(".safetensors") else args.model
    inp, ans = stem + "-input.npy", np.load(stem + "-answers.npy")
    lines = ["| conversion | heads per neuron | heads | exit | original correct | converted "
             "correct | top-1 changed (positions) | real: E (upper) vs tol |",
             "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("--heads-per-neuron %d" % m, ["--heads-per-neuron", str(m)]) for m in (1, 2, 3)]
        runs.append(("--tol %s" % args.tol, ["--tol", args.tol]))
        for label, extra in runs:
            rc, rep = run(args.attncheck, args.model, inp, extra, tmp)
            s = summarise(rep, ans)
            ch = ", ".join(str(i) for i in s["changed"]) or "none"
            lines.append("| `%s` | %s | %d | %d | %d/%d | %d/%d | %s | %s vs %s (%s) |" % (
                label, s["m"], s["heads"], rc, s["model"], s["known"], s["conv"], s["known"],
                ch, "%.4g" % float(s["E"]), "%.4g" % float(s["tol"]), s["real"]))
    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
