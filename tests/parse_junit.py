#!/usr/bin/python3
"""Parse a JUnit XML report with xml.etree (an independent reader) and
print it back as JSON lines: first the <testsuites> counts, then per
testsuite its name and counts, then per testcase its name, outcome
(pass, failure, error, skipped), message and text.  Exit 1 when it is not
well-formed XML or its counts disagree with its testcases."""
import json
import sys
import xml.etree.ElementTree as ET


def counts(el):
    return {k: int(el.get(k)) for k in ("tests", "failures", "errors", "skipped")}


def main(path):
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites", root.tag
    print(json.dumps({"testsuites": counts(root)}, ensure_ascii=False))
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        print(json.dumps({"testsuite": suite.get("name"), "counts": counts(suite)},
                         ensure_ascii=False))
        seen = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        names = set()
        for case in suite.findall("testcase"):
            name = case.get("name")
            assert name not in names, "two testcases named %r" % name
            names.add(name)
            outcome, message, text = "pass", None, None
            for tag, key in (("failure", "failures"), ("error", "errors"),
                             ("skipped", "skipped")):
                el = case.find(tag)
                if el is not None:
                    assert outcome == "pass", "%r has two outcomes" % name
                    outcome, message, text = tag, el.get("message"), el.text
                    seen[key] += 1
            if outcome == "pass":
                out = case.find("system-out")
                text = out.text if out is not None else None
            seen["tests"] += 1
            print(json.dumps({"testcase": name, "classname": case.get("classname"),
                              "outcome": outcome, "message": message, "text": text},
                             ensure_ascii=False))
        assert seen == counts(suite), "suite %r counts %r, testcases %r" % (
            suite.get("name"), counts(suite), seen)
        for k in total:
            total[k] += seen[k]
    assert total == counts(root), "testsuites counts %r, testcases %r" % (counts(root), total)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except (ET.ParseError, AssertionError) as e:
        print("parse_junit: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        sys.exit(1)
