"""How well and how fast ``core.regions`` reads addresses, over every county of the national
table:

    .venv/bin/python bench/addresses.py [--repeat 5]

Each of the 2,846 county-level divisions is written four ways, with a street after it:
full names (浙江省杭州市西湖区人民路1号), short names run together (浙江杭州西湖区…), short
names with spaces (浙江 杭州 西湖 …), and as the platform's three columns in short form. Each
must come back as that county's code, read in full — except where its short name is also
another county's of the same city (井陉 is 井陉矿区 and 井陉县): that one must be flagged
(partial), not guessed. Then the time per address (the best of
``--repeat`` passes over all of them) and what loading the table costs in time and memory.

Prints one line of figures (and the first few misreadings, if any).
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from core import regions

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    table = regions.divisions()
    load_ms = (time.perf_counter() - started) * 1000
    table_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024

    street = "人民路1号"
    counties = [r for r in table.by_code.values() if r.level == regions.COUNTY]
    shared = {}
    for county in counties:
        shared[(county.parent, county.short)] = shared.get((county.parent, county.short), 0) + 1
    cases = []  # (form, text or columns, expected code: "" for a short name to flag)
    for county in counties:
        flag = shared[(county.parent, county.short)] > 1
        path = regions.region_path(county.code)
        province, city = path[0], (path[1] if len(path) == 3 else None)
        full = "".join(part.name for part in path)
        cases.append(("full", full + street, county.code))
        short_city = city.short if city else ""
        cases.append(("short", province.short + short_city + county.name + street, county.code))
        spaced = " ".join(part for part in (province.short, short_city, county.short) if part)
        cases.append(("spaced", f"{spaced} {street}", "" if flag else county.code))
        columns = {"province": province.short, "city": short_city, "district": county.short}
        cases.append(("columns", columns, "" if flag else county.code))

    def read(case):
        _form, given, _code = case
        if isinstance(given, dict):
            return regions.normalise(**given, detail=street)
        return regions.parse_address(given)

    wrong: dict[str, list] = {}
    for case in cases:
        place = read(case)
        if case[2]:
            right = place.adcode == case[2] and place.status == "matched"
            right = right and place.detail == street
        else:
            right = place.status == "partial"
        if not right:
            wrong.setdefault(case[0], []).append((case[1], case[2], place))
    best = float("inf")
    for _pass in range(args.repeat):
        started = time.perf_counter()
        for case in cases:
            read(case)
        best = min(best, time.perf_counter() - started)
    forms = ("full", "short", "spaced", "columns")
    right = {
        form: sum(1 for case in cases if case[0] == form) - len(wrong.get(form, []))
        for form in forms
    }
    per_form = len(cases) // len(forms)
    print(
        f"addresses counties={per_form} | read right: "
        + ", ".join(f"{form} {right[form]}/{per_form}" for form in forms)
        + f" | {best / len(cases) * 1e6:.1f} µs per address (best of {args.repeat})"
        + f" | table load {load_ms:.0f} ms, +{table_mb:.1f} MB"
    )
    for form in forms:
        for given, code, place in wrong.get(form, [])[:5]:
            want = code or "flagged"
            print(f"  {form}: {given} → {place.adcode or '—'} {place.status} (want {want})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
