"""On a phone (390 px wide): the menu folds into one button that reaches every link of the
role, and wide tables reflow as cards, so no page scrolls sideways."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, FarmerFactory, ProductFactory, UserFactory, receive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 390


def log_in(page, base: str, username: str, next_path: str = "/") -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"**{next_path}")


def scrolls_sideways(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


@pytest.mark.parametrize(("username", "roles", "links"), [
    ("jingli", ["manager"], 14),
    ("dabao", ["packer"], 9),
])  # fmt: skip
def test_every_menu_link_is_reached_through_the_menu_button(
    live_server, phone, artifacts, username, roles, links
):
    UserFactory(username=username, roles=roles, is_staff="manager" in roles)
    page = phone
    log_in(page, live_server.url, username)
    nav_links = page.locator("#main-nav a")
    toggle = page.locator(".menu-toggle")

    assert page.viewport_size["width"] == WIDTH
    assert toggle.is_visible()
    assert nav_links.count() >= links
    assert not nav_links.first.is_visible()  # folded away
    assert not scrolls_sideways(page)

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    page.screenshot(path=artifacts / f"phone-menu-{username}.png", full_page=True)
    hrefs = []
    for index in range(nav_links.count()):
        link = nav_links.nth(index)
        link.scroll_into_view_if_needed()
        assert link.is_visible(), link.inner_text()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, link.inner_text()
        hrefs.append(link.get_attribute("href"))
    assert not scrolls_sideways(page)

    # the last link, out of reach in a sideways-scrolling row before, opens its page
    nav_links.last.click()
    page.wait_for_load_state()
    assert page.url.endswith(hrefs[-1])

    # the keyboard closes the menu again
    page.goto(f"{live_server.url}/")
    page.locator(".menu-toggle").click()
    assert nav_links.first.is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#main-nav a").first.is_visible()


def test_the_delivery_page_reflows_as_cards_without_scrolling_sideways(
    live_server, phone, artifacts
):
    UserFactory(username="jingli", roles=["manager"])
    lot = receive(
        kg="180.5",
        product=ProductFactory(name="秦岭高山红心猕猴桃（特大果）"),
        farmer=FarmerFactory(name="王秀英", village="火烧店村"),
    )
    page = phone
    log_in(page, live_server.url, "jingli", reverse("inventory:delivery", args=[lot.delivery_id]))

    cell = page.locator("table.cards tbody td").nth(1)
    page.screenshot(path=artifacts / "phone-delivery-cards.png", full_page=True)

    assert not scrolls_sideways(page)
    assert not page.locator("table.cards thead").is_visible()
    assert cell.get_attribute("data-label") == "产品"
    assert "秦岭高山红心猕猴桃" in cell.inner_text()
    # the product column is no longer one character a line: its cell is wide
    assert cell.bounding_box()["width"] > WIDTH / 2
