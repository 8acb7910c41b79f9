#!/usr/bin/env python3
"""Compares Tapwire's Sigma -> Lucene export with pySigma's Elasticsearch backend on the same rules.

    python3 -m venv ~/.cache/tapwire/sigma-compare/venv
    ~/.cache/tapwire/sigma-compare/venv/bin/pip install -r scripts/sigma-compare/requirements.txt
    node dist/cli/tapwire.js rules export --format kibana --out /tmp/tapwire.ndjson
    ~/.cache/tapwire/sigma-compare/venv/bin/python scripts/sigma-compare/compare.py rules /tmp/tapwire.ndjson

For every rule it prints pySigma's Lucene and ES|QL queries beside Tapwire's, and tags each pySigma query with the
reasons its verdicts can differ from the Sigma semantics Tapwire's engine implements (rules/EXPORT.md explains
each tag). Tapwire's field names are already the index's (ECS and mcp.*), so no field mapping is needed; the
`mcp` product is unknown to pySigma, so the log source filter is left out of its queries (Tapwire's carry it).
"""
import glob
import json
import re
import sys
from collections import Counter

from sigma.backends.elasticsearch import ESQLBackend, LuceneBackend
from sigma.collection import SigmaCollection


def tags(query: str) -> list[str]:
    """Why a pySigma Lucene query does not match what the Sigma rule matches, when run by query_string."""
    found = []
    regexes = re.findall(r"/((?:\\.|[^/\\])*)/", query)
    if any(r.startswith("(?i)") or "(?" in r for r in regexes):
        found.append("regex-inline-flags")  # Lucene RegExp has no (?i) / (?:...) groups: parse error or literal
    if any(re.search(r"\\[bBsSdDwWAz]", r) for r in regexes):
        found.append("regex-escape-classes")  # \b \s \w ... are RE2/PCRE; Lucene knows only \d \s \w (ASCII), no \b
    if any(not (r.startswith(".*") or r.startswith("^")) for r in regexes):
        found.append("regex-anchored")  # Lucene matches the whole value; Sigma's re searches anywhere in it
    if re.search(r":\(?\*?[^\s/()\"]*\*", query) or re.search(r":\"?[A-Za-z]", query):
        found.append("case-sensitive-values")  # keyword values compare exactly; Sigma folds case by default
    return found


def main() -> None:
    rule_dir, tapwire_ndjson = sys.argv[1], sys.argv[2]
    ours = {}
    with open(tapwire_ndjson, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rule = json.loads(line)
                ours[rule["rule_id"]] = rule["query"]
    lucene, esql = LuceneBackend(), ESQLBackend()
    counts: Counter[str] = Counter()
    total = 0
    for path in sorted(glob.glob(f"{rule_dir}/**/*.yml", recursive=True)):
        if path.endswith(".tests.yml") or path.endswith("README.md"):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            collection = SigmaCollection.from_yaml(text)
            rules = collection.rules
        except Exception as error:  # pySigma rejects RE2 syntax it does not know (\x{FF0E}, \p{Latin})
            total += 1
            counts["pysigma-rejects-rule"] += 1
            print(f"## {path}\npySigma rejects the rule: {str(error)[:300]}\n")
            continue
        for rule in rules:
            total += 1
            rule_id = str(rule.id)
            try:
                py_lucene = " OR ".join(lucene.convert_rule(rule))
            except Exception as error:  # pySigma refuses some rules; that is a difference too
                py_lucene = f"(pySigma error: {error})"
                counts["pysigma-error"] += 1
            try:
                py_esql = " | ".join(esql.convert_rule(rule))
            except Exception as error:
                py_esql = f"(pySigma error: {error})"
            found = tags(py_lucene)
            counts.update(found)
            print(f"## {path}: {rule.title}")
            print(f"pySigma Lucene : {py_lucene[:400]}")
            print(f"pySigma ES|QL  : {py_esql[:400]}")
            print(f"Tapwire Lucene : {ours.get(rule_id, '(not exported: see tapwire rules export stderr)')[:400]}")
            print(f"differences    : {', '.join(found) or 'none found'}\n")
    print(f"{total} rules; Tapwire exported {len(ours)}; pySigma query tags: {dict(counts)}")


if __name__ == "__main__":
    main()
