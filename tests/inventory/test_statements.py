"""Farmers' statements and balances: a small studio whose every figure is known in advance
(see ``statement_builders``), read through the reports, the pages, the API, the downloads
and the PDF."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from inventory.reports import Period, balance_totals, farmer_balances, farmer_statement
from inventory.reports import farmer_statements as statements_of
from inventory.services import farmer_payment_record, lot_adjust, lot_write_off
from inventory.statements import render_statements
from tests.factories import (
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    receive,
)
from tests.inventory.statement_builders import MARCH, at, build_small_studio
from tests.pdf_tools import page_sizes, page_texts, render_page

pytestmark = pytest.mark.django_db

D = Decimal
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
MONTH = "?month=2026-03"
NUMBER = re.compile(r"-?\d+(\.\d+)?")  # a negative balance is a number, not a formula


@pytest.fixture
def studio():
    return build_small_studio()


def figures(balance) -> tuple:
    return (
        balance.farmer_name,
        balance.opening_balance,
        balance.delivered_lots,
        balance.delivered_kg,
        balance.delivered_amount,
        balance.shipped_kg,
        balance.written_off_kg,
        balance.paid,
        balance.closing_balance,
    )


# name, opening, lots, kg, amount, shipped, written off, paid, closing
MARCH_FIGURES = [
    (
        "朱大山",
        D("400.00"),
        2,
        D("70.625"),
        D("485.15"),
        D("28.000"),
        D("3.500"),
        D("500.00"),
        D("385.15"),
    ),  # noqa: E501
    (
        "李建国",
        D("400.00"),
        0,
        D("0.000"),
        D("0.00"),
        D("0.000"),
        D("0.000"),
        D("0.00"),
        D("400.00"),
    ),  # noqa: E501
    (
        "王秀英",
        D("0.00"),
        1,
        D("12.345"),
        D("61.73"),
        D("0.000"),
        D("0.000"),
        D("100.00"),
        D("-38.27"),
    ),  # noqa: E501
]


# --- the figures -----------------------------------------------------------------------------


def test_every_line_and_balance_of_march_is_the_hand_computed_one(studio):
    statements = statements_of(**MARCH)

    assert [figures(statement) for statement in statements] == MARCH_FIGURES
    zhu, li, wang = statements
    assert [(lot.lot_code, lot.received_on, lot.product, lot.grade) for lot in zhu.lots] == [
        (studio.zhu_top_march.code, date(2026, 3, 3), "蜜桃", "特级"),
        (studio.zhu_first_march.code, date(2026, 3, 3), "蜜桃", "一级"),
    ]
    assert [(lot.kg, lot.price_per_kg, lot.amount) for lot in zhu.lots] == [
        (D("50.500"), D("6.10"), D("308.05")),
        (D("20.125"), D("8.80"), D("177.10")),
    ]
    assert [(p.paid_on, p.amount, p.method, p.reference) for p in zhu.payments] == [
        (date(2026, 3, 25), D("500.00"), "bank", "TX-0325")
    ]
    assert (zhu.is_prepaid, zhu.to_pay, zhu.prepaid) == (False, D("385.15"), D("0.00"))
    # 12.345 kg × ¥5.00 = ¥61.725: half up to the fen, not to the even fen nor a float's 61.72
    assert [lot.amount for lot in wang.lots] == [D("61.73")]
    assert (wang.is_prepaid, wang.to_pay, wang.prepaid) == (True, D("0.00"), D("38.27"))
    assert (li.lots, li.payments) == ((), ())


def test_the_totals_add_up_the_farmers(studio):
    totals = balance_totals(farmer_balances(**MARCH))

    assert (totals.farmers, totals.opening_balance, totals.delivered_lots) == (3, D("800.00"), 3)
    assert (totals.delivered_kg, totals.delivered_amount) == (D("82.970"), D("546.88"))
    assert (totals.shipped_kg, totals.written_off_kg, totals.paid) == (
        D("28.000"),
        D("3.500"),
        D("600.00"),
    )
    assert (totals.closing_balance, totals.to_pay, totals.prepaid) == (
        D("746.88"),
        D("785.15"),
        D("38.27"),
    )


def test_a_write_off_or_a_count_changes_the_kilograms_never_what_the_farmer_is_owed(studio):
    # given February's balance of 朱大山 (before his March spoilage)
    before = farmer_statement(farmer=studio.zhu, **MARCH)

    # when more of his lot spoils and 王秀英's lot is counted short again
    with at(date(2026, 3, 30)):
        lot_write_off(
            lot=studio.zhu_top_march, kg=D("5"), reason="烂果", acting_user=studio.manager
        )
        lot_adjust(
            lot=studio.wang_chestnuts, counted_kg=D("11"), reason="盘点", acting_user=studio.manager
        )
    after = farmer_statement(farmer=studio.zhu, **MARCH)
    wang = farmer_statement(farmer=studio.wang, **MARCH)

    # then the kilograms written off rose, the money did not move
    assert after.written_off_kg == before.written_off_kg + 5
    assert (after.delivered_amount, after.closing_balance) == (D("485.15"), D("385.15"))
    assert wang.closing_balance == D("-38.27")


def test_a_payment_lowers_the_balance_and_the_next_period_opens_with_it(studio):
    with at(date(2026, 3, 30)):
        farmer_payment_record(
            farmer=studio.zhu,
            paid_on=date(2026, 3, 30),
            amount=D("85.15"),
            method="cash",
            acting_user=studio.manager,
        )

    march = farmer_statement(farmer=studio.zhu, **MARCH)
    april = farmer_statement(
        farmer=studio.zhu, date_from=date(2026, 4, 1), date_to=date(2026, 4, 30)
    )

    assert (march.paid, march.closing_balance) == (D("585.15"), D("300.00"))
    # April opens at March's close, adds the ¥60.00 lot of April 2
    assert (april.opening_balance, april.delivered_amount, april.closing_balance) == (
        D("300.00"),
        D("60.00"),
        D("360.00"),
    )


def test_a_farmer_with_nothing_in_the_period_still_gets_a_statement_but_is_on_no_list(studio):
    statement = farmer_statement(farmer=studio.wu, **MARCH)

    assert figures(statement) == ("吴德全", 0, 0, 0, 0, 0, 0, 0, 0)
    assert "吴德全" not in [balance.farmer_name for balance in farmer_balances(**MARCH)]


def test_a_period_that_ends_before_it_starts_is_refused():
    from core.errors import DomainError

    with pytest.raises(DomainError) as error:
        Period(date(2026, 3, 31), date(2026, 3, 1))

    assert error.value.field == "date_to"


def test_last_month_is_the_whole_calendar_month_before_today():
    assert Period.last_month(date(2026, 3, 1)) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period.last_month(date(2026, 1, 31)) == Period(date(2025, 12, 1), date(2025, 12, 31))


# --- pages -----------------------------------------------------------------------------------


def test_the_balances_page_shows_the_hand_computed_figures_to_a_manager(client_for, studio):
    page = client_for("manager").get(reverse("inventory:statements") + MONTH, **EN)

    assert page.status_code == 200
    html = page.content.decode()
    for text in ("朱大山", "李建国", "王秀英", "485.15", "385.15", "61.73", "prepaid 38.27"):
        assert text in html, text
    for total in ("546.88", "600.00", "785.15", "746.88", "82.970"):
        assert total in html, total
    assert "吴德全" not in html
    assert "139****5678" in html and "13912345678" not in html


def test_the_statement_page_shows_the_lines_and_the_balance(client_for, studio):
    url = reverse("inventory:statement", args=[studio.zhu.pk]) + MONTH

    html = client_for("manager").get(url, **EN).content.decode()

    for text in (
        studio.zhu_top_march.code,
        studio.zhu_first_march.code,
        "308.05",
        "177.10",
        "¥400.00",
        "¥485.15",
        "¥500.00",
        "¥385.15",
        "TX-0325",
        "Bank transfer",
    ):
        assert text in html, text
    assert reverse("inventory:statement_pdf", args=[studio.zhu.pk]) in html
    assert "13912345678" not in html


def test_the_period_picker_takes_a_custom_range_and_names_a_wrong_one(client_for, studio):
    client = client_for("manager")
    url = reverse("inventory:statement", args=[studio.zhu.pk])

    # 3 to 10 March: the lots of March 3, no payment yet, nothing after
    html = client.get(url + "?date_from=2026-03-03&date_to=2026-03-10", **EN).content.decode()
    assert "¥485.15" in html and "TX-0325" not in html

    wrong = client.get(url + "?date_from=2026-03-10&date_to=2026-03-01", **EN)
    assert wrong.status_code == 200
    assert "The end date is before the start date." in wrong.content.decode()

    half = client.get(url + "?date_from=2026-03-10", **EN).content.decode()
    assert "Give both dates of the range" in half


# --- downloads -------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 Chinese with the BOM
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_balances_download_agrees_with_the_page(client_for, studio):
    client = client_for("manager")
    url = reverse("inventory:statements") + MONTH

    rows = csv_rows(client.get(url + "&format=csv", **EN))
    sheet = xlsx_rows(client.get(url + "&format=xlsx", **EN))

    assert rows[0][0] == "Farmer" and rows[0][-1] == "Balance ¥"
    assert rows[1:] == [
        [
            "朱大山",
            "朱家坪村",
            "139****5678",
            "400.00",
            "2",
            "70.625",
            "485.15",
            "28.000",
            "3.500",
            "500.00",
            "385.15",
        ],  # noqa: E501
        [
            "李建国",
            "江口村",
            "137****2222",
            "400.00",
            "0",
            "0.000",
            "0.00",
            "0.000",
            "0.000",
            "0.00",
            "400.00",
        ],  # noqa: E501
        [
            "王秀英",
            "火烧店村",
            "138****1111",
            "0.00",
            "1",
            "12.345",
            "61.73",
            "0.000",
            "0.000",
            "100.00",
            "-38.27",
        ],  # noqa: E501
        [
            "Total",
            "3 farmers",
            "",
            "800.00",
            "3",
            "82.970",
            "546.88",
            "28.000",
            "3.500",
            "600.00",
            "746.88",
        ],  # noqa: E501
    ]
    assert len(sheet) == 5
    assert sheet[1][:3] == ["朱大山", "朱家坪村", "139****5678"]
    assert [D(str(value)) for value in sheet[1][3:]] == [
        D(value) for value in rows[1][3:]
    ]  # numbers stay numbers in the workbook


def test_the_statement_download_has_a_running_balance(client_for, studio):
    url = reverse("inventory:statement", args=[studio.zhu.pk]) + MONTH + "&format=csv"

    rows = csv_rows(client_for("manager").get(url, **EN))

    assert [(row[0], row[2], row[7], row[8], row[9]) for row in rows[1:]] == [
        ("2026-03-01", "", "", "", "400.00"),
        ("2026-03-03", studio.zhu_top_march.code, "308.05", "", "708.05"),
        ("2026-03-03", studio.zhu_first_march.code, "177.10", "", "885.15"),
        ("2026-03-25", "TX-0325", "", "500.00", "385.15"),
        ("2026-03-31", "", "485.15", "500.00", "385.15"),
    ]


def test_payouts_list_who_is_owed_with_masked_phones(client_for, studio):
    client = client_for("manager")
    url = reverse("inventory:payouts") + "?as_of=2026-03-31"

    rows = csv_rows(client.get(url + "&format=csv", **EN))
    page = client.get(url, **EN).content.decode()

    # largest first; 王秀英 is paid in advance: nothing to pay her
    assert rows == [
        ["Farmer", "Village", "Phone", "Amount to pay ¥"],
        ["李建国", "江口村", "137****2222", "400.00"],
        ["朱大山", "朱家坪村", "139****5678", "385.15"],
    ]
    assert "785.15" in page and "13912345678" not in page and "139****5678" in page


def test_payments_list_and_download(client_for, studio):
    client = client_for("manager")
    url = reverse("inventory:payments") + MONTH

    rows = csv_rows(client.get(url + "&format=csv", **EN))

    assert [(row[0], row[1], row[3], row[4], row[5]) for row in rows[1:]] == [
        ("2026-03-28", "王秀英", "138****1111", "WeChat", "100.00"),
        ("2026-03-25", "朱大山", "139****5678", "Bank transfer", "500.00"),
    ]
    assert "600.00" in client.get(url, **EN).content.decode()


def test_formulas_in_names_and_references_are_neutralised_in_every_download(client_for, studio):
    # given a farmer whose name is a spreadsheet formula, paid with a reference that is one
    evil = FarmerFactory(name="=cmd|' /C calc'!A0", village="@SUM(A1)", phone="13500004444")
    with at(date(2026, 3, 12)):
        receive(farmer=evil, product=ProductFactory(name="蜜桃"), kg="10", price="5.00")
    with at(date(2026, 3, 13)):
        farmer_payment_record(
            farmer=evil,
            paid_on=date(2026, 3, 13),
            amount=D("10.00"),
            method="bank",
            reference="+TX-1",
            note="-1+1",
            acting_user=studio.manager,
        )
    client = client_for("manager")
    downloads = [
        reverse("inventory:statements") + MONTH,
        reverse("inventory:payments") + MONTH,
        reverse("inventory:payouts") + "?as_of=2026-03-31",
        reverse("inventory:statement", args=[evil.pk]) + MONTH,
    ]

    for url in downloads:
        for fmt in ("csv", "xlsx"):
            response = client.get(f"{url}&format={fmt}", **EN)
            cells = [
                cell
                for row in (csv_rows(response) if fmt == "csv" else xlsx_rows(response))
                for cell in row
                if isinstance(cell, str)
            ]
            # then every text cell that a spreadsheet would run starts with an apostrophe
            dangerous = [
                c for c in cells if c[:1] in ("=", "+", "-", "@") and not NUMBER.fullmatch(c)
            ]
            assert dangerous == [], (url, fmt, dangerous)
            if url != downloads[3]:  # a statement's lines are one farmer's: no name column
                assert "'=cmd|' /C calc'!A0" in cells, (url, fmt)
            assert "13500004444" not in cells
    statement = client.get(downloads[3] + "&format=csv", **EN)
    assert "'+TX-1" in [cell for row in csv_rows(statement) for cell in row]


# --- the PDF ---------------------------------------------------------------------------------


def test_the_statement_pdf_holds_the_farmer_the_lots_and_the_balance(studio):
    (zhu,) = statements_of(farmers=[studio.zhu], **MARCH)

    pdf = render_statements([zhu], language="en")

    (text,) = page_texts(pdf)
    for expected in (
        "朱大山",
        "朱家坪村",
        "139****5678",
        studio.zhu_top_march.code,
        studio.zhu_first_march.code,
        "蜜桃",
        "50.5",
        "20.125",
        "¥6.10",
        "¥308.05",
        "¥177.10",
        "¥485.15",
        "Shipped to buyers: 28 kg",
        "Written off: 3.5 kg",
        "TX-0325",
        "¥500.00",
        "¥385.15",
        "Still owed to you at the end of the period",
        "2026-03-01 to 2026-03-31",
        "Farmer's signature",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert "13912345678" not in text
    assert page_sizes(pdf) == [pytest.approx((595.28, 841.89), abs=0.1)]


def test_a_payment_changes_the_balance_in_the_pdf(studio):
    def balance_text() -> str:
        (statement,) = statements_of(farmers=[studio.zhu], **MARCH)
        return page_texts(render_statements([statement], language="en"))[0]

    assert "¥385.15" in balance_text()

    with at(date(2026, 3, 31)):
        farmer_payment_record(
            farmer=studio.zhu,
            paid_on=date(2026, 3, 31),
            amount=D("400.00"),
            method="wechat",
            acting_user=studio.manager,
        )

    text = balance_text()
    assert "¥900.00" in text  # paid in March
    assert "¥14.85" in text and "Paid in advance at the end of the period" in text
    assert "¥385.15" not in text


def test_the_all_farmers_pdf_holds_every_farmer_on_their_own_pages(client_for, studio):
    # given a farmer with so many lots that the statement runs over a page
    many = FarmerFactory(name="郭满仓", village="闸口石村")
    with at(date(2026, 3, 20)):
        for _lot in range(30):
            receive(farmer=many, product=ProductFactory(name="地瓜"), kg="10", price="2.00")

    response = client_for("manager").get(reverse("inventory:statements_pdf") + MONTH)

    # then each farmer starts on a page of their own, in the balances' order
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    texts = page_texts(response.content)
    owners = [
        next(name for name in ("朱大山", "李建国", "王秀英", "郭满仓") if name in text)
        for text in texts
    ]
    assert owners == ["朱大山", "李建国", "王秀英", "郭满仓", "郭满仓"]
    # and the long statement carries on with the table's header and numbers its own pages
    english = page_texts(render_statements(statements_of(**MARCH), language="en"))
    assert "Page 1 of 1" in english[0]
    assert "Page 1 of 2" in english[3] and "Page 2 of 2" in english[4]
    assert "郭满仓 · statement 2026-03-01 – 2026-03-31 (continued)" in english[4]
    assert "Date" in english[4] and "¥20.00" in english[4]
    assert "¥600.00" in english[4]  # 30 lots × ¥20.00, on the page with the balance


def test_the_pdf_is_readable_at_a_glance(studio, tmp_path):
    """Rendered as a farmer sees it: large type and the balance in bigger type (a look at the
    image is part of the review; the test checks the page is not blank and is A4 portrait)."""
    (zhu,) = statements_of(farmers=[studio.zhu], **MARCH)

    image = render_page(render_statements([zhu]), dpi=60)

    width, height = image.size
    assert height > width
    dark = sum(image.convert("L").histogram()[:128])
    assert dark > 0.01 * width * height


# --- roles -----------------------------------------------------------------------------------


def money_urls(studio) -> list[str]:
    return [
        reverse("inventory:statement_pdf", args=[studio.zhu.pk]) + MONTH,
        reverse("inventory:statements_pdf") + MONTH,
        reverse("inventory:payouts"),
        reverse("inventory:payouts") + "?format=csv",
        reverse("inventory:payments"),
        reverse("inventory:payments") + "?format=xlsx",
        reverse("inventory:payment_new"),
        "/api/farmer-payments/",
    ]


def statement_urls(studio) -> list[str]:
    return [
        reverse("inventory:statements") + MONTH,
        reverse("inventory:statements") + MONTH + "&format=csv",
        reverse("inventory:statement", args=[studio.zhu.pk]) + MONTH,
        reverse("inventory:statement", args=[studio.zhu.pk]) + MONTH + "&format=xlsx",
        f"/api/farmers/{studio.zhu.pk}/statement/" + MONTH,
        "/api/farmer-balances/" + MONTH,
    ]


@pytest.mark.parametrize("role", ["packer", "intake"])
def test_packers_and_intake_staff_see_no_money(client_for, studio, role):
    client = client_for(role)

    for url in statement_urls(studio) + money_urls(studio):
        assert client.get(url, **EN).status_code == 403, url
    assert client.post(reverse("inventory:payment_new"), {}).status_code == 403


def test_a_creator_sees_kilograms_and_totals_but_no_farmers_money(client_for, studio):
    client = client_for("creator")
    per_farmer_money = ["485.15", "308.05", "177.10", "385.15", "61.73", "500.00", "6.10"]

    for url in money_urls(studio):
        assert client.get(url, **EN).status_code == 403, url
    for url in statement_urls(studio):
        response = client.get(url, **EN)
        assert response.status_code == 200, url
        body = response.content
        text = (
            "\n".join(",".join(map(str, row)) for row in xlsx_rows(response))
            if url.endswith("xlsx")
            else body.decode("utf-8-sig")
        )
        leaked = [amount for amount in per_farmer_money if amount in text]
        assert leaked == [], (url, leaked)
    # the kilograms are there, and the studio's money totals on the page and in the API
    page = client.get(reverse("inventory:statements") + MONTH, **EN).content.decode()
    assert "70.625" in page and "12.345" in page
    for total in ("546.88", "600.00", "785.15"):
        assert total in page, total
    api = client.get("/api/farmer-balances/" + MONTH).json()
    assert "closing_balance" not in api["farmers"][0]
    assert "delivered_amount" not in api["farmers"][0]
    assert api["farmers"][0]["delivered_kg"] == "70.625"
    assert api["totals"]["delivered_amount"] == "546.88"
    one = client.get(f"/api/farmers/{studio.zhu.pk}/statement/" + MONTH).json()
    assert "payments" not in one and "amount" not in one["lots"][0]
    assert one["lots"][0]["kg"] == "50.500"
    statement = client.get(reverse("inventory:statement", args=[studio.zhu.pk]) + MONTH, **EN)
    assert (
        reverse("inventory:statement_pdf", args=[studio.zhu.pk]) not in statement.content.decode()
    )


def test_the_menu_offers_statements_to_creators_and_managers_only(client_for):
    for role, sees in (("manager", True), ("creator", True), ("packer", False), ("intake", False)):
        home = client_for(role).get(reverse("home")).content.decode()
        assert (reverse("inventory:statements") in home) is sees, role


# --- the API ---------------------------------------------------------------------------------


def test_the_api_gives_a_manager_the_hand_computed_figures(client_for, studio):
    client = client_for("manager")

    balances = client.get("/api/farmer-balances/" + MONTH).json()
    statement = client.get(f"/api/farmers/{studio.wang.pk}/statement/{MONTH}").json()

    assert [
        (row["farmer"]["name"], row["opening_balance"], row["closing_balance"], row["is_prepaid"])
        for row in balances["farmers"]
    ] == [
        ("朱大山", "400.00", "385.15", False),
        ("李建国", "400.00", "400.00", False),
        ("王秀英", "0.00", "-38.27", True),
    ]
    assert balances["totals"]["to_pay"] == "785.15"
    assert balances["farmers"][0]["farmer"]["masked_phone"] == "139****5678"
    assert statement["lots"] == [
        {
            "lot_code": studio.wang_chestnuts.code,
            "received_on": "2026-03-10",
            "product": "板栗",
            "grade": "一级",
            "kg": "12.345",
            "price_per_kg": "5.00",
            "amount": "61.73",
        }
    ]
    assert [p["method"] for p in statement["payments"]] == ["wechat"]
    assert (statement["paid"], statement["closing_balance"]) == ("100.00", "-38.27")


def test_the_api_names_a_bad_period(client_for, studio):
    client = client_for("manager")

    wrong = client.get("/api/farmer-balances/?date_from=2026-03-31&date_to=2026-03-01")
    half = client.get("/api/farmer-balances/?date_from=2026-03-01")
    month = client.get(f"/api/farmers/{studio.zhu.pk}/statement/?month=2026-13")

    assert wrong.status_code == 400 and "date_to" in wrong.json()
    assert half.status_code == 400 and "date_to" in half.json()
    assert month.status_code == 400 and "month" in month.json()
    assert client.get("/api/farmers/999999/statement/").status_code == 404


# --- queries ---------------------------------------------------------------------------------


def busy_studio(farmers: int):
    """``farmers`` farmers with two lots and a payment each in March."""
    LocationFactory()
    manager = UserFactory(username="busy-manager", roles=["manager"])
    product, grade = ProductFactory(name="小米", shelf_life_days=365), GradeFactory()
    for index in range(farmers):
        farmer = FarmerFactory(name=f"农户{index}", village=f"村{index % 3}")
        with at(date(2026, 3, 2)):
            receive(farmer=farmer, product=product, grade=grade, kg="20", price="7.00")
            receive(farmer=farmer, product=product, grade=grade, kg="5.5", price="8.00")
        with at(date(2026, 3, 20)):
            farmer_payment_record(
                farmer=farmer,
                paid_on=date(2026, 3, 20),
                amount=D("50"),
                method="cash",
                acting_user=manager,
            )


def count_queries(function) -> int:
    with CaptureQueriesContext(connection) as queries:
        function()
    return len(queries.captured_queries)


def test_statements_and_the_balances_page_take_as_many_queries_for_2_or_8_farmers(client_for):
    client = client_for("manager")
    url = reverse("inventory:statements") + MONTH

    def measure():
        return (
            count_queries(lambda: statements_of(**MARCH)),
            count_queries(lambda: farmer_balances(**MARCH)),
            count_queries(lambda: client.get(url)),
            count_queries(lambda: client.get(reverse("inventory:statements_pdf") + MONTH)),
        )

    busy_studio(2)
    small = measure()
    busy_studio_more = 6
    for index in range(busy_studio_more):
        farmer = FarmerFactory(name=f"新农户{index}")
        with at(date(2026, 3, 5)):
            receive(farmer=farmer, kg="3", price="9.00")
    large = measure()

    assert len(statements_of(**MARCH)) == 8
    assert small == large
    assert small[0] <= 6 and small[1] <= 4
