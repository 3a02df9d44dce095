#!/usr/bin/python3
"""Compare two attncheck report directories row by row from their JSON.

  /usr/bin/python3 tests/compare_reports.py OLD_DIR NEW_DIR [--show N]

For every claim present in both, rows are matched in order (the grid order
is deterministic) and must agree on sweep, params and seed.  A field or
column only one side has (the report format moved) is listed, not failed.
Checked: the same verdict on every row, and every enclosure (error,
error_abs, bound, ratio, interval extras) of the new row overlapping the old
one.  Point values read off enclosure ends by the arithmetic itself (the
scale S, "S*2^-p", estimates marked "(est.)") are not enclosures of one real
number; they are compared by relative difference and counted apart.
Exit 0 when every verdict is equal and every enclosure overlaps, else 1.
Standard library only (decimal with an unbounded exponent range)."""
import decimal
import json
import os
import sys

CTX = decimal.Context(prec=80, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
D = CTX.create_decimal
ENDS_DERIVED = ("S*2^-p",)
# Fields that are points computed from another enclosure's ends (so they
# move with the arithmetic), per (claim, sweep): activation-class's formula
# rows are exact identities whose bound column is the tolerance S 2^(kappa-p).
FIELDS_DERIVED = {("activation-class", "formula", "bound"), ("activation-class", "formula", "ratio")}


def num(s):
    try:
        return D(s)
    except (decimal.InvalidOperation, TypeError, ValueError):
        return D("NaN")


def is_ival(v):
    return isinstance(v, dict) and set(v) == {"lo", "hi"}


def derived(name):
    return name in ENDS_DERIVED or "(est" in name


def rel_diff(a, b):
    if a.is_nan() or b.is_nan():
        return D("Infinity")
    if a == b:
        return D(0)
    if a.is_infinite() or b.is_infinite():
        return D("Infinity")
    m = max(abs(a), abs(b))
    return CTX.divide(abs(CTX.subtract(a, b)), m)


def key(row):
    # parameter values as text: reports before the jansson writers held numbers
    params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in row.get("params", {}).items()}
    return (row.get("sweep"), json.dumps(params, sort_keys=True), str(row.get("seed")))


class Tally:
    def __init__(self):
        self.rows = self.verdicts_equal = 0
        self.encl = self.encl_overlap = 0
        self.points = 0
        self.point_max_rel = D(0)
        self.point_where = ""
        self.width_max = D(0)
        self.width_where = ""
        self.prec_moved = 0
        self.text_changed = []
        self.one_side = []  # fields or columns only one report format has
        self.problems = []

    def enclosure(self, where, old, new):
        self.encl += 1
        olo, ohi, nlo, nhi = num(old["lo"]), num(old["hi"]), num(new["lo"]), num(new["hi"])
        if any(x.is_nan() for x in (olo, ohi, nlo, nhi)):
            if all(x.is_nan() for x in (olo, ohi)) and all(x.is_nan() for x in (nlo, nhi)):
                self.encl_overlap += 1  # both say "nothing known"
            else:
                self.problems.append(f"{where}: NaN end: old {old} new {new}")
            return
        if nlo <= ohi and olo <= nhi:
            self.encl_overlap += 1
        else:
            self.problems.append(f"{where}: disjoint: old [{old['lo']}, {old['hi']}] "
                                 f"new [{new['lo']}, {new['hi']}]")
        if any(x.is_infinite() for x in (olo, ohi, nlo, nhi)):
            return  # unbounded: no width to compare
        ow, nw = CTX.subtract(ohi, olo), CTX.subtract(nhi, nlo)
        if ow == 0 and nw == 0:
            return
        ratio = D("Infinity") if ow == 0 else CTX.divide(nw, ow)
        if ratio > self.width_max:
            self.width_max, self.width_where = ratio, where

    def point(self, where, old, new):
        self.points += 1
        r = rel_diff(num(old), num(new))
        if r > self.point_max_rel:
            self.point_max_rel, self.point_where = r, where


def compare_claim(t, name, old, new):
    old_rows, new_rows = old.get("rows", []), new.get("rows", [])
    if len(old_rows) != len(new_rows):
        t.problems.append(f"{name}: {len(old_rows)} rows old, {len(new_rows)} new")
    for i, (o, n) in enumerate(zip(old_rows, new_rows)):
        where = (f"{name} row {i} {o.get('sweep')} {json.dumps(o.get('params'), sort_keys=True)}"
                 f" seed {o.get('seed')} prec {o.get('prec')}")
        if key(o) != key(n):
            t.problems.append(f"{where}: new row {i} is {key(n)}")
            continue
        t.rows += 1
        if o.get("verdict") == n.get("verdict"):
            t.verdicts_equal += 1
        else:
            t.problems.append(f"{where}: verdict {o.get('verdict')} -> {n.get('verdict')}")
        if o.get("prec") != n.get("prec"):
            t.prec_moved += 1
        for field in ("error", "error_abs", "bound", "ratio"):
            if field in o and field in n and (name, o.get("sweep"), field) in FIELDS_DERIVED:
                t.point(f"{where} {field}", o[field]["hi"], n[field]["hi"])
            elif field in o and field in n:
                t.enclosure(f"{where} {field}", o[field], n[field])
            elif (field in o) != (field in n):
                t.one_side.append(f"{where}: {field} only in {'old' if field in o else 'new'}")
        if "scale" in o and "scale" in n:
            t.point(f"{where} scale", o["scale"], n["scale"])
        oe, ne = o.get("extra", {}), n.get("extra", {})
        for col, ov in oe.items():
            if col not in ne:
                t.one_side.append(f"{where}: extra '{col}' only in old")
                continue
            nv = ne[col]
            if is_ival(ov) and is_ival(nv):
                if derived(col):
                    t.point(f"{where} {col}", ov["hi"], nv["hi"])
                else:
                    t.enclosure(f"{where} {col}", ov, nv)
            elif is_ival(ov) != is_ival(nv):
                t.problems.append(f"{where}: extra '{col}' {ov!r} -> {nv!r}")
            elif ov != nv and not derived(col):
                # text columns (box counts, estimates in doubles): informational
                t.text_changed.append(f"{where}: extra '{col}' {ov!r} -> {nv!r}")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 64
    old_dir, new_dir = argv[1], argv[2]
    show = int(argv[4]) if len(argv) > 4 and argv[3] == "--show" else 20
    t = Tally()
    # index.json lists the reports (attncheck's index), it is not one
    claims = sorted(f for f in os.listdir(old_dir) if f.endswith(".json") and f != "index.json")
    for f in claims:
        path = os.path.join(new_dir, f)
        if not os.path.exists(path):
            t.problems.append(f"{f}: missing in {new_dir}")
            continue
        with open(os.path.join(old_dir, f)) as a, open(path) as b:
            compare_claim(t, f[:-5], json.load(a), json.load(b))
    print(f"claims compared:       {len(claims)}")
    print(f"rows compared:         {t.rows}")
    print(f"verdicts equal:        {t.verdicts_equal} / {t.rows}")
    print(f"enclosures overlapping: {t.encl_overlap} / {t.encl}")
    print(f"largest width ratio new/old: {float(t.width_max):.4g}  ({t.width_where})")
    print(f"rows whose precision moved (Ziv loop): {t.prec_moved}")
    print(f"points read off enclosure ends: {t.points}, largest relative difference "
          f"{float(t.point_max_rel):.3g}  ({t.point_where})")
    print(f"fields or columns in one report only (format changes; informational): {len(t.one_side)}")
    for p in t.one_side[:min(show, 4)]:
        print("  " + p)
    print(f"text columns changed (counts, double estimates; informational): {len(t.text_changed)}")
    for p in t.text_changed[:min(show, 8)]:
        print("  " + p)
    for p in t.problems[:show]:
        print("  " + p)
    if len(t.problems) > show:
        print(f"  ... {len(t.problems) - show} more")
    ok = t.verdicts_equal == t.rows and t.encl_overlap == t.encl and not t.problems
    print("RESULT: " + ("same verdicts, every enclosure overlaps" if ok else "DIFFERENCES"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
