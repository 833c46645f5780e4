"""The public trace page behind the parcel's QR code, and the lot's compliance certificate."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from shipping.labels import trace_url
from tests.factories import FarmerFactory, ProductFactory, SkuFactory
from tests.pdf_tools import page_sizes, page_texts
from tests.shipping.builders_api import packed_parcel

pytestmark = pytest.mark.django_db

BUYER = {
    "recipient_name": "欧阳买家",
    "phone": "13987654321",
    "address_detail": "文三路 88 号 5 幢 1201 室",
}


def _trace(client, parcel, language="en"):
    return client.get(
        reverse("trace:parcel", args=[parcel.trace_token]), HTTP_ACCEPT_LANGUAGE=language
    )


def test_the_trace_page_shows_product_village_lot_and_studio_without_login(client):
    farmer = FarmerFactory(name="朱大山", village="朱家坪村", trace_consent=True)
    parcel = packed_parcel(farmer=farmer, **BUYER)
    lot = parcel.items.get().lot

    response = _trace(client, parcel)

    assert response.status_code == 200
    html = response.content.decode()
    assert "蜜桃" in html
    assert lot.grade.name in html
    assert "朱家坪村" in html
    assert lot.code in html
    assert lot.harvest_date.isoformat() in html
    assert "朱大山" in html
    assert "朱家坪村山货直播间" in html
    assert settings.STUDIO_PHONE in html


def test_a_farmer_without_consent_is_only_a_villager(client):
    farmer = FarmerFactory(name="王秀英", village="朱家坪村", trace_consent=False)
    parcel = packed_parcel(farmer=farmer)

    html = _trace(client, parcel).content.decode()

    assert "王秀英" not in html
    assert "朱家坪村 farmer" in html


def test_the_trace_page_never_shows_buyer_data(client):
    parcel = packed_parcel(**BUYER)
    order = parcel.order

    html = _trace(client, parcel, language="zh-hans").content.decode()

    for secret in (
        "欧阳买家",
        "13987654321",
        "139****4321",
        "文三路",
        order.external_no,
        parcel.tracking_number,
    ):
        assert secret not in html, secret


@pytest.mark.parametrize("token", ["not-a-token", "x" * 22])
def test_an_unknown_token_is_a_plain_404(client, token):
    packed_parcel()

    response = client.get(reverse("trace:parcel", args=[token]))

    assert response.status_code == 404


def test_the_labels_qr_url_leads_to_the_trace_page(client, settings):
    settings.SHANHUO_PUBLIC_URL = "http://testserver"
    parcel = packed_parcel()

    response = client.get(trace_url(parcel.trace_token), follow=True)

    assert response.status_code == 200
    assert parcel.items.get().lot.code in response.content.decode()


def test_the_trace_page_asks_search_engines_to_stay_away(client):
    response = _trace(client, packed_parcel())

    assert response["X-Robots-Tag"] == "noindex, nofollow"


# --- compliance certificate ------------------------------------------------------------------


def _certificate_url(lot, **params):
    url = reverse("inventory:lot_certificate", args=[lot.code])
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def test_the_certificate_names_product_weight_producer_origin_and_studio(client_for):
    farmer = FarmerFactory(name="朱大山", village="朱家坪村", county="留坝县", adcode="610729")
    parcel = packed_parcel(farmer=farmer)
    lot = parcel.items.get().lot
    client = client_for("intake")

    response = client.get(_certificate_url(lot, kg="12.5", basis="self_test"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    [text] = page_texts(response.content)
    for expected in (
        "承诺达标合格证",
        "蜜桃",
        "12.5 千克",
        "朱大山",
        "朱家坪村",
        "留坝县",
        "610729",
        lot.code,
        "朱家坪村山货直播间",
        settings.STUDIO_PHONE,
        "自我检测",
        "签名",
    ):
        assert expected in text, expected
    width, height = page_sizes(response.content)[0]
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (105, 148)


def test_the_certificate_defaults_to_the_lots_weight_today_and_internal_control(client_for):
    lot = packed_parcel(stock_kg="80").items.get().lot

    response = client_for("packer").get(_certificate_url(lot))

    [text] = page_texts(response.content)
    assert "80 千克" in text
    assert "内部质量控制" in text
    assert timezone.localdate().isoformat() in text


def test_a_bad_certificate_weight_shows_the_form_again(client_for):
    lot = packed_parcel().items.get().lot

    response = client_for("manager").get(_certificate_url(lot, kg="-1"))

    assert response.status_code == 400
    assert b"<form" in response.content


def test_the_certificate_form_offers_the_commitment_bases(client_for):
    lot = packed_parcel().items.get().lot

    response = client_for("intake").get(
        reverse("inventory:lot_certificate_form", args=[lot.code]), HTTP_ACCEPT_LANGUAGE="en"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="internal" selected' in html
    assert "Commissioned testing" in html
    assert reverse("inventory:lot_certificate", args=[lot.code]) in html


def test_creators_do_not_issue_certificates(client_for):
    lot = packed_parcel().items.get().lot
    client = client_for("creator")

    assert client.get(_certificate_url(lot)).status_code == 403
    assert client.get(reverse("inventory:lot_certificate_form", args=[lot.code])).status_code == 403


def test_the_certificate_prints_the_product_of_the_lot(client_for):
    product = ProductFactory(name="板栗", shelf_life_days=60)
    sku = SkuFactory(merchant_code="BL-1", name="板栗 1斤", product=product, net_kg=Decimal("0.5"))
    lot = packed_parcel(sku=sku).items.get().lot

    [text] = page_texts(client_for("manager").get(_certificate_url(lot)).content)

    assert "板栗" in text
