"""Straightforward Python timeline aggregation: the benchmark baseline for `auditor timeline`.

Standard library only. Reads the period's reports (plus the one before it, for the starting
state) from a folder in key order, hashes each and checks its link to the previous one, then
applies the same rules as the auditor: the last report of a UTC day gives that day's state, an
incomplete rule neither opens nor resolves findings, a day without a report carries the state.
It does not validate against the JSON Schema (the standard library has no validator), so it does
less work than the auditor.

Prints JSON: per-day per-rule open counts, and per finding the days non-compliant and the number
of reopenings, which the benchmark compares with the auditor's `--format json` output.
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import sys

KEY = re.compile(r"(\d{4})/(\d{2})/(\d{2})/(\d{8,})-[0-9a-f-]{36}\.json$")


def list_reports(root):
    keys = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".json"):
                path = os.path.join(folder, name)
                keys.append(os.path.relpath(path, root).replace(os.sep, "/"))
    keys.sort()
    return keys


def key_date(key):
    m = KEY.search(key)
    return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root")
    ap.add_argument("--from", dest="start", required=True)
    ap.add_argument("--to", dest="end", required=True)
    a = ap.parse_args()
    start, end = dt.date.fromisoformat(a.start), dt.date.fromisoformat(a.end)

    selected, baseline = [], None
    for key in list_reports(a.root):
        d = key_date(key)
        if d is None:
            continue
        if d < start:
            baseline = key
        elif d <= end:
            selected.append(key)
    if baseline:
        selected.insert(0, baseline)

    open_since = {}  # (rule, type, id) -> window start
    windows = {}  # (rule, type, id) -> list of [opened, resolved or None, before]
    rules = []
    days = {}
    broken_links = 0
    prev_sha = None
    pending = None
    next_day = start

    def snapshot(day):
        counts = {r: 0 for r in rules}
        for r, _t, _i in open_since:
            counts[r] += 1
        days[day.isoformat()] = counts

    def apply(report, day, before):
        for rule in report["rules"]:
            name = rule["name"]
            if name not in rules:
                rules.append(name)
            if not rule["complete"]:
                continue
            now = {(name, f["resourceType"], f["resourceId"]) for f in rule["nonCompliant"]}
            for k in now:
                if k not in open_since:
                    open_since[k] = day
                    windows.setdefault(k, []).append([day, None, before])
            for k in [k for k in open_since if k[0] == name and k not in now]:
                del open_since[k]
                if before:
                    windows[k].pop()
                else:
                    windows[k][-1][1] = day

    for key in selected:
        with open(os.path.join(a.root, key), "rb") as fh:
            raw = fh.read()
        try:
            report = json.loads(raw)
        except ValueError:
            prev_sha = hashlib.sha256(raw).hexdigest()
            continue
        link = report["chain"]["previousSha256"]
        if prev_sha is not None and link != prev_sha:
            broken_links += 1
        prev_sha = hashlib.sha256(raw).hexdigest()
        day = dt.datetime.strptime(report["generatedAt"][:10], "%Y-%m-%d").date()
        if day < start:
            apply(report, start, True)
            continue
        if pending and pending[0] == day:
            pending = (day, report)
            continue
        if pending:
            pday, prep = pending
            while next_day < pday:
                snapshot(next_day)
                next_day += dt.timedelta(days=1)
            apply(prep, pday, False)
            snapshot(pday)
            next_day = pday + dt.timedelta(days=1)
        pending = (day, report)
    if pending:
        pday, prep = pending
        while next_day < pday:
            snapshot(next_day)
            next_day += dt.timedelta(days=1)
        apply(prep, pday, False)
        snapshot(pday)
        next_day = pday + dt.timedelta(days=1)
    while next_day <= end:
        snapshot(next_day)
        next_day += dt.timedelta(days=1)

    stop = end + dt.timedelta(days=1)
    exposures = {
        "|".join(k): [sum(((w[1] or stop) - w[0]).days for w in ws), len(ws) - 1]
        for k, ws in windows.items()
        if ws
    }
    json.dump({"days": days, "exposures": exposures, "brokenLinks": broken_links}, sys.stdout)


if __name__ == "__main__":
    main()
