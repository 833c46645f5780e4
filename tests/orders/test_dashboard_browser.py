"""A creator watches the dashboard on a phone during a live session: the charts draw, and a
new order shows up without reloading the page.

Chromium runs in a thread of its own: the browser tests in tests/browser keep Playwright's
sync API running in the main thread for the whole session, and a second one cannot start
there."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.drafts import LineDraft, OrderDraft
from orders.models import Channel, LiveSession
from orders.services import orders_create
from tests.browser.conftest import ARTIFACTS, CHROMIUM_ARGS, chromium_path
from tests.factories import PASSWORD, SkuFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def order(session, sku, number: str, province: str, minutes_ago: int) -> None:
    orders_create(
        channel=session.channel,
        drafts=[
            OrderDraft(
                external_no=number,
                recipient_name="王秀英",
                phone="13812345678",
                province=province,
                address_detail="人民路1号",
                paid_at=timezone.now() - timedelta(minutes=minutes_ago),
                live_session=session,
                lines=[LineDraft(sku=sku, quantity=1, unit_price=sku.price)],
            )
        ],
    )


def watch(url: str, executable: str, new_order_in: threading.Event, new_order_saved):
    """The creator's phone (in this thread): log in, look, let the test add an order, ask the
    API again as the page's 30 s timer would, look again."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        page.goto(f"{url}/accounts/login/?next={reverse('orders:dashboard')}")
        page.fill("#id_username", "axiu")
        page.fill("#id_password", PASSWORD)
        page.press("#id_password", "Enter")

        expect(page.locator("[data-live-badge]")).to_be_visible()
        expect(page.locator("[data-figure=orders]")).to_have_text("2")
        for chart in ("#chart-timeline", "#chart-provinces", "#chart-funnel"):
            expect(page.locator(f"{chart} canvas")).to_have_count(1)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "dashboard-live-phone.png", full_page=True)

        new_order_in.set()
        assert new_order_saved.wait(15)
        with page.expect_response(lambda r: "/api/dashboard/" in r.url) as response:
            page.evaluate("window.shanhuoDashboard.refresh()")
        status = response.value.status
        expect(page.locator("[data-figure=orders]")).to_have_text("3")
        expect(page.locator("[data-figure=gross_sales]")).to_have_text("¥149.70")
        expect(page.locator('table[data-table="provinces"] tbody tr').first).to_contain_text(
            "浙江省"
        )
        browser.close()
    return scroll_width, status, errors


def test_the_live_dashboard_draws_and_refreshes_itself(live_server):
    executable = chromium_path()
    if executable is None:
        message = "Chromium is not installed (Debian package 'chromium'; ./test installs it)"
        if os.environ.get("SHANHUO_REQUIRE_BROWSER", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    UserFactory(username="axiu", roles=["creator"])
    sku = SkuFactory(name="蜜桃 5斤装", price=Decimal("49.90"))
    now = timezone.now()
    session = LiveSession.objects.create(
        channel=Channel.objects.get(code="kuaishou"),
        title="蜜桃开园直播",
        host="阿秀",
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(hours=2),
    )
    order(session, sku, "L1", "浙江省", 20)
    order(session, sku, "L2", "广东省", 5)
    new_order_in, new_order_saved = threading.Event(), threading.Event()

    with ThreadPoolExecutor(max_workers=1) as pool:
        phone = pool.submit(watch, live_server.url, executable, new_order_in, new_order_saved)
        assert new_order_in.wait(60) or phone.result()
        order(session, sku, "L3", "浙江省", 0)  # an order comes in during the stream
        new_order_saved.set()
        scroll_width, status, errors = phone.result(timeout=90)

    assert scroll_width <= 390
    assert status == 200
    assert errors == []
