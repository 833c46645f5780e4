"""Addresses read onto the national divisions (core.regions): real-world forms of every
province-level name, one-column addresses, municipalities, county-level cities, 省直辖县 and
新疆兵团 cities, and the ones that must be flagged for a person instead of guessed."""

import pytest
from django.core.exceptions import ValidationError

from core.regions import (
    AddressMatch,
    canonical_province,
    normalise,
    parse_address,
    provinces,
    region_name,
    validate_adcode,
)

# full name, short name, the rest of an address there, its area code
PROVINCES = [
    ("北京市", "北京", "朝阳区建国路88号", "110105"),
    ("天津市", "天津", "和平区南京路1号", "120101"),
    ("上海市", "上海", "黄浦区南京东路1号", "310101"),
    ("重庆市", "重庆", "渝中区解放碑1号", "500103"),
    ("河北省", "河北", "石家庄市长安区中山东路1号", "130102"),
    ("山西省", "山西", "太原市小店区长风街1号", "140105"),
    ("辽宁省", "辽宁", "沈阳市和平区中华路1号", "210102"),
    ("吉林省", "吉林", "长春市朝阳区人民大街1号", "220104"),
    ("黑龙江省", "黑龙江", "哈尔滨市南岗区西大直街1号", "230103"),
    ("江苏省", "江苏", "南京市鼓楼区中山北路1号", "320106"),
    ("浙江省", "浙江", "杭州市西湖区文三路1号", "330106"),
    ("安徽省", "安徽", "合肥市蜀山区长江西路1号", "340104"),
    ("福建省", "福建", "福州市鼓楼区五四路1号", "350102"),
    ("江西省", "江西", "南昌市东湖区八一大道1号", "360102"),
    ("山东省", "山东", "济南市历下区泉城路1号", "370102"),
    ("河南省", "河南", "郑州市金水区花园路1号", "410105"),
    ("湖北省", "湖北", "武汉市洪山区珞喻路1号", "420111"),
    ("湖南省", "湖南", "长沙市岳麓区麓山南路1号", "430104"),
    ("广东省", "广东", "广州市天河区天河路1号", "440106"),
    ("海南省", "海南", "海口市美兰区海甸岛1号", "460108"),
    ("四川省", "四川", "成都市武侯区人民南路1号", "510107"),
    ("贵州省", "贵州", "贵阳市南明区中华南路1号", "520102"),
    ("云南省", "云南", "昆明市五华区东风西路1号", "530102"),
    ("陕西省", "陕西", "西安市雁塔区小寨东路1号", "610113"),
    ("甘肃省", "甘肃", "兰州市城关区东岗西路1号", "620102"),
    ("青海省", "青海", "西宁市城西区五四大街1号", "630104"),
    ("台湾省", "台湾", "台北市信义路1号", "710000"),
    ("内蒙古自治区", "内蒙古", "呼和浩特市赛罕区大学东街1号", "150105"),
    ("广西壮族自治区", "广西", "南宁市青秀区民族大道100号", "450103"),
    ("西藏自治区", "西藏", "拉萨市城关区北京中路1号", "540102"),
    ("宁夏回族自治区", "宁夏", "银川市兴庆区解放西街1号", "640104"),
    ("新疆维吾尔自治区", "新疆", "乌鲁木齐市天山区解放南路1号", "650102"),
    ("香港特别行政区", "香港", "九龙弥敦道1号", "810000"),
    ("澳门特别行政区", "澳门", "新马路1号", "820000"),
]


def test_the_table_has_the_34_province_level_divisions():
    assert sorted(province.name for province in provinces()) == sorted(
        full for full, _short, _rest, _code in PROVINCES
    )


@pytest.mark.parametrize(("full", "short", "rest", "code"), PROVINCES)
def test_every_province_level_name_in_full_and_short_form(full, short, rest, code):
    assert canonical_province(short) == full
    assert canonical_province(full) == full
    for written in (f"{full}{rest}", f"{short} {rest}"):
        place = parse_address(written)
        assert (place.province, place.adcode, place.status) == (full, code, "matched"), written
        assert place.detail and rest.endswith(place.detail), place


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # abbreviated provinces run together with the city, as buyers type them
        ("浙江杭州西湖区文三路478号", ("浙江省", "杭州市", "西湖区", "330106", "文三路478号")),
        (
            "广西南宁市青秀区民族大道100号",
            ("广西壮族自治区", "南宁市", "青秀区", "450103", "民族大道100号"),
        ),
        (
            "内蒙古呼和浩特市新城区中山路2号",
            ("内蒙古自治区", "呼和浩特市", "新城区", "150102", "中山路2号"),
        ),
        (
            "宁夏银川市兴庆区解放西街1号",
            ("宁夏回族自治区", "银川市", "兴庆区", "640104", "解放西街1号"),
        ),
        (
            "新疆喀什地区喀什市人民东路1号",
            ("新疆维吾尔自治区", "喀什地区", "喀什市", "653101", "人民东路1号"),
        ),
        ("广西省南宁市青秀区", ("广西壮族自治区", "南宁市", "青秀区", "450103", "")),
        # municipalities, written every way exports write them
        ("北京市北京市朝阳区建国路88号", ("北京市", "北京市", "朝阳区", "110105", "建国路88号")),
        ("北京市市辖区东城区东长安街1号", ("北京市", "北京市", "东城区", "110101", "东长安街1号")),
        ("上海浦东新区世纪大道1号", ("上海市", "上海市", "浦东新区", "310115", "世纪大道1号")),
        ("重庆市市辖区渝中区解放碑1号", ("重庆市", "重庆市", "渝中区", "500103", "解放碑1号")),
        ("重庆市县巫山县巫峡镇1号", ("重庆市", "重庆市", "巫山县", "500237", "巫峡镇1号")),
        ("天津滨海新区塘沽1号", ("天津市", "天津市", "滨海新区", "120116", "塘沽1号")),
        # county-level cities, with or without their prefecture
        ("江苏省苏州市昆山市花桥镇1号", ("江苏省", "苏州市", "昆山市", "320583", "花桥镇1号")),
        ("江苏江阴市澄江街道1号", ("江苏省", "无锡市", "江阴市", "320281", "澄江街道1号")),
        ("浙江义乌市稠城街道1号", ("浙江省", "金华市", "义乌市", "330782", "稠城街道1号")),
        ("河北保定市涿州市范阳路1号", ("河北省", "保定市", "涿州市", "130681", "范阳路1号")),
        (
            "宁夏回族自治区吴忠市青铜峡市1号",
            ("宁夏回族自治区", "吴忠市", "青铜峡市", "640381", "1号"),
        ),
        ("黑龙江省大兴安岭地区漠河市1号", ("黑龙江省", "大兴安岭地区", "漠河市", "232701", "1号")),
        ("湖南省长沙县黄花镇1号", ("湖南省", "长沙市", "长沙县", "430121", "黄花镇1号")),
        # 省直辖县 and 新疆兵团 cities: no prefecture
        ("河南省济源市沁园路1号", ("河南省", "", "济源市", "419001", "沁园路1号")),
        ("湖北省仙桃市郑场镇1号", ("湖北省", "", "仙桃市", "429004", "郑场镇1号")),
        (
            "湖北省省直辖县级行政区划潜江市园林街道1号",
            ("湖北省", "", "潜江市", "429005", "园林街道1号"),
        ),
        ("湖北省神农架林区松柏镇1号", ("湖北省", "", "神农架林区", "429021", "松柏镇1号")),
        ("海南省琼海市嘉积镇1号", ("海南省", "", "琼海市", "469002", "嘉积镇1号")),
        ("新疆石河子市北四路2号", ("新疆维吾尔自治区", "", "石河子市", "659001", "北四路2号")),
        (
            "新疆生产建设兵团第一师阿拉尔市1号",
            ("新疆维吾尔自治区", "", "阿拉尔市", "659002", "1号"),
        ),
        ("新疆维吾尔自治区五家渠市1号", ("新疆维吾尔自治区", "", "五家渠市", "659004", "1号")),
        # prefectures without districts, autonomous prefectures by their short names
        ("广东省东莞市长安镇振安路1号", ("广东省", "东莞市", "", "441900", "长安镇振安路1号")),
        ("广东中山市石岐街道1号", ("广东省", "中山市", "", "442000", "石岐街道1号")),
        ("海南儋州市那大镇1号", ("海南省", "儋州市", "", "460400", "那大镇1号")),
        ("云南大理州大理市1号", ("云南省", "大理白族自治州", "大理市", "532901", "1号")),
        (
            "湖北恩施州恩施市舞阳大道1号",
            ("湖北省", "恩施土家族苗族自治州", "恩施市", "422801", "舞阳大道1号"),
        ),
        ("青海海南州共和县1号", ("青海省", "海南藏族自治州", "共和县", "632521", "1号")),
        (
            "内蒙古自治区鄂尔多斯市准格尔旗1号",
            ("内蒙古自治区", "鄂尔多斯市", "准格尔旗", "150622", "1号"),
        ),
        # a province left out: a city or county that no other division is called
        ("杭州市西湖区文三路1号", ("浙江省", "杭州市", "西湖区", "330106", "文三路1号")),
        ("吉林市船营区1号", ("吉林省", "吉林市", "船营区", "220204", "1号")),
        ("中国浙江省杭州市余杭区1号", ("浙江省", "杭州市", "余杭区", "330110", "1号")),
        ("河北雄安新区容城县1号", ("河北省", "保定市", "容城县", "130629", "1号")),
        # divisions made since 2018
        ("山西大同市云冈区1号", ("山西省", "大同市", "云冈区", "140214", "1号")),
        ("山东省济南市莱芜区1号", ("山东省", "济南市", "莱芜区", "370116", "1号")),
        ("江西省南昌市红谷滩区1号", ("江西省", "南昌市", "红谷滩区", "360113", "1号")),
        ("陕西 汉中市 留坝县 朱家坪村", ("陕西省", "汉中市", "留坝县", "610729", "朱家坪村")),
        ("山东省济南市市中区经十路", ("山东省", "济南市", "市中区", "370103", "经十路")),
    ],
)
def test_one_column_addresses(text, expected):
    place = parse_address(text)

    assert (place.province, place.city, place.district, place.adcode, place.detail) == expected
    assert place.status == AddressMatch.MATCHED


@pytest.mark.parametrize(
    ("text", "status", "province", "adcode"),
    [
        ("朝阳区建国路88号", "unmatched", "", ""),  # 北京 and 长春 both have one
        ("鼓楼区中山路1号", "unmatched", "", ""),  # 南京, 徐州, 福州, 开封
        ("人民路123号", "unmatched", "", ""),
        ("北京路123号", "unmatched", "", ""),  # a street, not 北京
        ("江西路8号", "unmatched", "", ""),
        ("中山路1号", "unmatched", "", ""),  # a street, not 中山市
        ("火星市人民路1号", "unmatched", "", ""),
        ("江苏鼓楼区中山北路1号", "partial", "江苏省", "320000"),  # 南京 or 徐州
        ("浙江省鼓楼区中山路1号", "partial", "浙江省", "330000"),  # no 鼓楼区 in 浙江
        ("江苏省苏州市苏州工业园区星湖街328号", "partial", "江苏省", "320500"),
        ("四川省成都市天府新区1号", "partial", "四川省", "510100"),
    ],
)
def test_what_cannot_be_read_is_flagged_not_guessed(text, status, province, adcode):
    place = parse_address(text)

    assert (place.status, place.province, place.adcode) == (status, province, adcode)
    assert text.endswith(place.detail) and place.detail  # nothing lost


def test_columns_are_read_in_any_form_and_a_repeated_region_leaves_the_street():
    assert normalise(province="浙江", city="杭州", district="西湖", detail="文三路1号") == (
        normalise(province="浙江省", city="杭州市", district="西湖区", detail="文三路1号")
    )
    repeated = normalise(
        province="浙江省", city="杭州市", district="西湖区", detail="浙江省杭州市西湖区文三路1号"
    )
    assert (repeated.adcode, repeated.detail) == ("330106", "文三路1号")
    on_from_street = normalise(province="浙江省", city="杭州市", detail="西湖区文三路1号")
    assert (on_from_street.district, on_from_street.detail) == ("西湖区", "文三路1号")


def test_a_district_the_table_does_not_know_stays_in_the_street():
    place = normalise(province="江苏省", city="苏州市", district="苏州工业园区", detail="星湖街1号")

    assert (place.province, place.city, place.district, place.adcode) == (
        "江苏省",
        "苏州市",
        "",
        "320500",
    )
    assert (place.status, place.detail) == ("partial", "苏州工业园区 星湖街1号")


def test_a_town_in_the_district_column_of_a_county_without_districts_stays_in_the_street():
    place = normalise(province="湖北省", city="仙桃市", district="郑场镇", detail="人民路1号")

    assert (place.city, place.district, place.adcode, place.status) == (
        "",
        "仙桃市",
        "429004",
        "matched",
    )
    assert place.detail == "郑场镇 人民路1号"


def test_columns_that_disagree_with_the_street_are_believed():
    place = normalise(province="江苏省", city="南京市", detail="浙江省杭州市西湖区文三路")

    assert (place.province, place.city, place.adcode, place.status) == (
        "江苏省",
        "南京市",
        "320100",
        "partial",
    )
    assert place.detail == "浙江省杭州市西湖区文三路"


def test_area_codes_are_checked_against_the_table():
    validate_adcode("371321")
    validate_adcode("")
    for bad in ("37132", "3713210", "abcdef", "999999", "371399"):
        with pytest.raises(ValidationError):
            validate_adcode(bad)
    assert region_name("371321") == "山东省临沂市沂南县"
    assert region_name("659001") == "新疆维吾尔自治区石河子市"
    assert region_name("110105") == "北京市朝阳区"
    assert region_name("000000") == ""


def test_canonical_province_leaves_other_text_alone():
    assert canonical_province(" 广西 ") == "广西壮族自治区"
    assert canonical_province("内蒙古") == "内蒙古自治区"
    assert canonical_province("火星") == "火星"
    assert canonical_province("") == ""
