#!/usr/bin/python3
"""Parse every report attncheck wrote into a directory, the way a program
reading them would, and cross-check the formats against each other:

- each .csv with Python's csv module (strict): RFC 4180 with CRLF record
  ends, unique header names, every record as long as the header, and cell by
  cell equal to the .json beside it (sweep, every parameter column, seed,
  prec, the E enclosure, the verdict);
- each .json: a document whose summary counts its rows' verdicts, that
  records the run (command, version, libraries) and holds no timing;
- each .svg as XML with an <svg> root;
- each .md: every table (GitHub-flavoured: a cell ends at an unescaped |)
  has one cell count in all its lines and a valid delimiter row; a claim's
  rows table matches its .json row for row.

Usage: parse_reports.py DIR [--expect-claims N].  Prints one summary line;
exits 1 with the problems found."""
import csv
import glob
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

problems = []


def problem(path, msg):
    problems.append("%s: %s" % (os.path.basename(path), msg))


def md_cells(line):
    """The cells of a markdown table line (GFM: \\ escapes the next char)."""
    cells, cur, k = [], "", 0
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    while k < len(s):
        c = s[k]
        if c == "\\" and k + 1 < len(s):
            cur += s[k:k + 2]
            k += 2
            continue
        if c == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += c
        k += 1
    if cur.strip():
        cells.append(cur.strip())
    return cells


def md_unescape(cell):
    """The text of a cell (the writer's escapes undone)."""
    out, k = "", 0
    while k < len(cell):
        if cell[k] == "\\" and k + 1 < len(cell):
            out += cell[k + 1]
            k += 2
        elif cell.startswith("<br>", k):
            out += "\n"
            k += 4
        elif cell.startswith("&lt;", k):
            out += "<"
            k += 4
        else:
            out += cell[k]
            k += 1
    return out


def md_tables(text):
    """Lists of lines of each table, with the heading above it."""
    tables, cur, heading, last_heading = [], [], None, None
    for line in text.split("\n"):
        if line.startswith("#"):
            last_heading = line.lstrip("#").strip()
        if line.startswith("|"):
            if not cur:
                heading = last_heading
            cur.append(line)
        elif cur:
            tables.append((heading, cur))
            cur = []
    if cur:
        tables.append((heading, cur))
    return tables


def find_key(obj, key):
    if isinstance(obj, dict):
        return key in obj or any(find_key(v, key) for v in obj.values())
    if isinstance(obj, list):
        return any(find_key(v, key) for v in obj)
    return False


def check_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        problem(path, "does not parse: %s" % e)
        return None
    for key in ("claim", "kind", "statement", "run", "rows", "fits", "summary"):
        if key not in doc:
            problem(path, "has no '%s'" % key)
            return None
    run = doc["run"]
    if not isinstance(run.get("command"), str) or not run["command"].startswith("attncheck "):
        problem(path, "run.command is missing")
    if not run.get("attncheck") or not run.get("libraries"):
        problem(path, "run has no version or libraries")
    if find_key(doc, "seconds"):
        problem(path, "holds a timing ('seconds')")
    counts = {"holds": 0, "violated": 0, "inconclusive": 0, "vacuous": 0}
    # a mutated run writes the rows that hold as "not detected ..."
    plain = {"not detected at this resolution": "holds", "not detected": "holds",
             "not detected (vacuous bound)": "vacuous"}
    for r in doc["rows"]:
        v = plain.get(r["verdict"], r["verdict"]) if doc.get("mutation") else r["verdict"]
        if v not in counts:
            problem(path, "row verdict %r is not a verdict" % r["verdict"])
        counts[v] = counts.get(v, 0) + 1
        for end in ("lo", "hi"):
            float(r["error"][end])  # a decimal string
    s = doc["summary"]
    if s["rows"] != len(doc["rows"]) or any(s[k] != v for k, v in counts.items()):
        problem(path, "summary %s does not count its rows %s" % (s, counts))
    return doc


def crlf_records(raw):
    """Every line break outside a quoted field is CRLF, and the last ends one."""
    quoted = False
    for k, c in enumerate(raw):
        if c == ord('"'):
            quoted = not quoted  # "" inside a field toggles twice
        elif c == ord("\n") and not quoted and (k == 0 or raw[k - 1] != ord("\r")):
            return False
    return not raw or raw.endswith(b"\r\n")


def check_csv(path, doc):
    raw = open(path, "rb").read()
    if not crlf_records(raw):
        problem(path, "records do not all end in CRLF")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, strict=True))
    if not rows:
        problem(path, "is empty")
        return 0
    head = rows[0]
    if len(set(head)) != len(head):
        problem(path, "repeats a header name")
    for k, r in enumerate(rows[1:], 2):
        if len(r) != len(head):
            problem(path, "record %d has %d fields, the header %d" % (k, len(r), len(head)))
            return len(rows) - 1
    if doc is None:
        return len(rows) - 1
    if len(rows) - 1 != len(doc["rows"]):
        problem(path, "%d records, the json %d rows" % (len(rows) - 1, len(doc["rows"])))
        return len(rows) - 1
    col = {name: k for k, name in enumerate(head)}
    params = head[1:col["seed"]]
    for k, (r, j) in enumerate(zip(rows[1:], doc["rows"]), 2):
        want = {"sweep": j["sweep"], "seed": str(j["seed"]), "prec": str(j["prec"]),
                "error_lo": j["error"]["lo"], "error_hi": j["error"]["hi"],
                "verdict": j["verdict"]}
        for p in params:
            want[p] = j["params"].get(p, "")
        for name, value in want.items():
            if r[col[name]] != value:
                problem(path, "record %d: %s = %r, the json %r" % (k, name, r[col[name]], value))
                return len(rows) - 1
        if set(j["params"]) - set(params):
            problem(path, "record %d: parameters %s have no column" %
                    (k, set(j["params"]) - set(params)))
    return len(rows) - 1


def check_md(path, doc):
    text = open(path, encoding="utf-8").read()
    tables = md_tables(text)
    lines = 0
    for heading, tab in tables:
        lines += len(tab)
        n = [len(md_cells(line)) for line in tab]
        if len(set(n)) != 1:
            problem(path, "a table under '%s' has lines of %s cells" % (heading, sorted(set(n))))
            continue
        if len(tab) < 2 or not all(re.fullmatch(r":?-+:?", c) for c in md_cells(tab[1])):
            problem(path, "a table under '%s' has no delimiter row" % heading)
    if doc is not None:
        rows_tables = [t for h, t in tables if h == "Rows"]
        if len(rows_tables) != 1:
            problem(path, "has %d tables under '## Rows'" % len(rows_tables))
        else:
            tab = rows_tables[0]
            head = md_cells(tab[0])
            body = [md_cells(line) for line in tab[2:]]
            if len(body) != len(doc["rows"]):
                problem(path, "%d table rows, the json %d" % (len(body), len(doc["rows"])))
            else:
                v = head.index("verdict")
                for k, (cells, j) in enumerate(zip(body, doc["rows"])):
                    for name, value in [("verdict", j["verdict"])] + list(j["params"].items()):
                        if md_unescape(cells[head.index(name)]) != value:
                            problem(path, "row %d: %s differs from the json" % (k + 1, name))
                            break
                    else:
                        continue
                    break
        if "`" + doc["run"]["command"] + "`" not in text:
            problem(path, "does not record the command %r" % doc["run"]["command"])
    return len(tables), lines


def main():
    args = sys.argv[1:]
    expect = None
    if "--expect-claims" in args:
        k = args.index("--expect-claims")
        expect = int(args[k + 1])
        del args[k:k + 2]
    if len(args) != 1 or not os.path.isdir(args[0]):
        print(__doc__.split("\n\n")[-1])
        return 64
    d = args[0]
    docs = {}
    for path in sorted(glob.glob(os.path.join(d, "*.json"))):
        if path.endswith(".safetensors.json"):
            continue  # a converted network's exact entries (attncheck model), not a report
        if os.path.basename(path) == "index.json":
            continue  # the directory's list of reports, not a report
        docs[path[:-5]] = check_json(path)
    csv_rows = 0
    for path in sorted(glob.glob(os.path.join(d, "*.csv"))):
        csv_rows += check_csv(path, docs.get(path[:-4]))
    n_tables = n_lines = 0
    mds = sorted(glob.glob(os.path.join(d, "*.md")))
    for path in mds:
        stem = path[:-3]
        t, l = check_md(path, docs.get(stem) if stem in docs else None)
        n_tables += t
        n_lines += l
        if os.path.basename(path) not in ("index.md", "README.md") and stem not in docs:
            problem(path, "has no .json beside it")
    svgs = sorted(glob.glob(os.path.join(d, "*.svg")))
    for path in svgs:
        try:
            root = ET.parse(path).getroot()
            if not root.tag.endswith("svg"):
                problem(path, "root element is %s" % root.tag)
        except ET.ParseError as e:
            problem(path, "is not XML: %s" % e)
    csvs = glob.glob(os.path.join(d, "*.csv"))
    if expect is not None and (len(docs) != expect or len(csvs) != expect):
        problem(d, "%d json and %d csv reports, expected %d" % (len(docs), len(csvs), expect))
    print("parse_reports: %d csv (%d rows), %d json, %d svg, %d md (%d tables, %d table lines)%s"
          % (len(csvs), csv_rows, len(docs), len(svgs), len(mds), n_tables, n_lines,
             ": all parse and agree" if not problems else ": %d problems" % len(problems)))
    for p in problems[:40]:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
