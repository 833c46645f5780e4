"""Split a Chinese address written in one piece into province, city, district and the rest.

Province-level names are a closed list (34), so the province is found by name, with or
without its suffix (陕西 / 陕西省). The city is the next part ending in 市, 自治州, 地区 or 盟;
for the four municipalities the city is the municipality itself. The district is the next
short part ending in 区, 县, 市 or 旗. Whatever cannot be told apart stays in the detail, so
no character of the address is lost.
"""

import re
from dataclasses import dataclass

MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
# short name → full name
PROVINCES = {
    "北京": "北京市",
    "天津": "天津市",
    "上海": "上海市",
    "重庆": "重庆市",
    "河北": "河北省",
    "山西": "山西省",
    "辽宁": "辽宁省",
    "吉林": "吉林省",
    "黑龙江": "黑龙江省",
    "江苏": "江苏省",
    "浙江": "浙江省",
    "安徽": "安徽省",
    "福建": "福建省",
    "江西": "江西省",
    "山东": "山东省",
    "河南": "河南省",
    "湖北": "湖北省",
    "湖南": "湖南省",
    "广东": "广东省",
    "海南": "海南省",
    "四川": "四川省",
    "贵州": "贵州省",
    "云南": "云南省",
    "陕西": "陕西省",
    "甘肃": "甘肃省",
    "青海": "青海省",
    "台湾": "台湾省",
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
    "香港": "香港特别行政区",
    "澳门": "澳门特别行政区",
}
_SUFFIXES = "省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区"
_PROVINCE = re.compile(
    r"^\s*(?P<short>"
    + "|".join(sorted(PROVINCES, key=len, reverse=True))
    + rf")(?:{_SUFFIXES})?\s*"
)
_CITY = re.compile(r"^(?P<city>[^\s省]{1,12}?(?:自治州|地区|盟|市))\s*")
_DISTRICT = re.compile(r"^(?P<district>[^\s镇乡村路街道号弄巷]{1,10}?(?:区|县|市|旗))\s*")


@dataclass(frozen=True)
class Address:
    province: str
    city: str
    district: str
    detail: str


def split_address(text: str) -> Address | None:
    """The parts of ``text``, or None when it does not start with a province-level name."""
    match = _PROVINCE.match(text or "")
    if not match:
        return None
    short = match.group("short")
    province = PROVINCES[short]
    rest = text[match.end() :]
    city = ""
    if short in MUNICIPALITIES:
        city = province
        # Exports often repeat the municipality as the city: 北京市北京市朝阳区…
        repeated = re.match(rf"^{short}市?\s*", rest)
        if repeated:
            rest = rest[repeated.end() :]
        if rest.startswith("市辖区"):
            rest = rest[3:].lstrip()
    else:
        found = _CITY.match(rest)
        if found:
            city = found.group("city")
            rest = rest[found.end() :]
    district = ""
    found = _DISTRICT.match(rest)
    if found:
        district = found.group("district")
        rest = rest[found.end() :]
    return Address(province=province, city=city, district=district, detail=rest.strip())
