"""Intake staff at the weighing table, on a phone: log in, weigh a two-grade delivery, print
the lot tags."""

from decimal import Decimal

import pytest

from inventory.models import Delivery
from tests.factories import (
    PASSWORD,
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
)
from tests.pdf_tools import decode_barcodes, page_texts, render_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def weighing_table():
    LocationFactory()
    FarmerFactory(name="朱大山", village="朱家坪村", phone="13800001234")
    FarmerFactory(name="王秀英", village="火烧店村", phone="13900005678")
    ProductFactory(name="蜜桃")
    GradeFactory(name="特级", rank=0)
    GradeFactory(name="一级", rank=1)
    return UserFactory(username="xiaozhou", first_name="小周", roles=["intake"])


def test_intake_staff_records_a_two_grade_delivery_on_a_phone(
    live_server, phone, weighing_table, artifacts
):
    page = phone
    page.goto(f"{live_server.url}/accounts/login/?next=/inventory/intake/")
    page.fill("#id_username", "xiaozhou")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url("**/inventory/intake/")
    assert page.locator("h1").inner_text() == "收货台"

    page.fill("#farmer-filter", "火烧店")
    assert page.locator("#id_farmer").input_value() != ""  # the one match is chosen
    page.select_option("#id_product", label="蜜桃")
    page.select_option("#id_rows-0-grade", label="特级")
    page.fill("#id_rows-0-gross_kg", "180.5")
    page.fill("#id_rows-0-crates", "6")
    page.fill("#id_rows-0-tare_per_crate_kg", "1.2")
    page.fill("#id_rows-0-price_per_kg", "7.50")
    assert "173.3" in page.locator("[data-row] [data-net]").first.inner_text()

    assert page.locator("[data-row]").nth(1).is_hidden()
    page.click("#add-row")
    page.select_option("#id_rows-1-grade", label="一级")
    page.fill("#id_rows-1-gross_kg", "90")
    page.fill("#id_rows-1-price_per_kg", "5")
    assert "263.3" in page.locator("[data-totals]").inner_text()
    page.screenshot(path=artifacts / "intake-desk-filled.png", full_page=True)

    page.click("button.primary.wide")
    page.wait_for_url("**/inventory/deliveries/*/")
    delivery = Delivery.objects.get()
    lots = list(delivery.lots.order_by("grade__rank"))
    assert [lot.received_kg for lot in lots] == [Decimal("173.300"), Decimal("90.000")]
    assert lots[0].farmer.name == "王秀英"
    for lot in lots:
        assert lot.code in page.content()
    page.screenshot(path=artifacts / "intake-delivery-recorded.png", full_page=True)

    with page.context.expect_page() as opened:
        page.click("#print-tags")
    tags_page = opened.value
    tags_url = tags_page.url
    assert tags_url.endswith(f"/inventory/deliveries/{delivery.pk}/tags.pdf")
    response = page.request.get(tags_url)
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    texts = page_texts(pdf)
    assert len(texts) == 2
    assert "蜜桃" in texts[0] and lots[0].code in texts[0]
    (artifacts / "intake-lot-tags.pdf").write_bytes(pdf)
    png = render_page(pdf, page=1, dpi=300)
    assert ("QRCode", lots[0].code) in decode_barcodes(png)
