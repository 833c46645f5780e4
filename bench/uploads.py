"""What reading an upload costs: each hostile file of tests/orders/test_hostile_uploads.py and
the largest lawful exports (a 快手 export of UPLOAD_MAX_ROWS lines as CSV and as XLSX), read
by ``read_table`` (the reader of order imports and tracking files) in a fresh process each:
seconds and memory growth (the kernel's peak RSS, reset just before the read, less the RSS
then).

    .venv/bin/python bench/uploads.py [--lines 35000]

Prints one line. No database is needed.
"""

import argparse
import csv
import io
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = """
import json, os, sys, time
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "studio.settings"
import django
django.setup()
from core.errors import DomainError
from orders.importers.reading import read_table

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

data = open(sys.argv[1], "rb").read()
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")
before = status("VmRSS")
started = time.perf_counter()
rows, refused = 0, ""
try:
    rows = len(read_table(data, sys.argv[2]).rows)
except DomainError as exc:
    refused = exc.code
print(json.dumps({{"s": time.perf_counter() - started, "mb": (status("VmHWM") - before) / 2**20,
                  "rows": rows, "refused": refused}}))
"""


def lawful_files(lines: int) -> dict[str, bytes]:
    sys.path.insert(0, str(ROOT / "bench"))
    from import_orders import export_bytes
    from openpyxl import Workbook

    data = export_bytes(lines, random.Random(610729))
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in csv.reader(io.StringIO(data.decode("gb18030"))):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return {f"export-{lines}.csv": data, f"export-{lines}.xlsx": out.getvalue()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=35_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from tests.orders.test_hostile_uploads import HOSTILE

    files = {name: make() for name, (make, _message) in HOSTILE.items()}
    files |= lawful_files(args.lines)
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files.items():
            path = Path(folder, name)
            path.write_bytes(data)
            done = subprocess.run(
                [sys.executable, "-c", CHILD.format(root=str(ROOT)), str(path), name],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "UPLOAD_MAX_ROWS": str(args.lines)},
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            outcome = f"refused:{result['refused']}" if result["refused"] else f"{result['rows']}r"
            figures.append(
                f"{name} {len(data) / 2**20:.1f}MB {outcome} "
                f"{result['s']:.2f}s +{result['mb']:.0f}MB"
            )
    print("uploads " + " | ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
