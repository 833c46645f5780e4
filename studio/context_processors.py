from core.roles import (
    FARMER_MONEY_READERS,
    FARMER_PRICE_READERS,
    ORDER_READERS,
    ORDER_WRITERS,
    PLATFORM_MANAGERS,
    RETURN_WORKERS,
    SALES_READERS,
    SHIPPING_READERS,
    SHIPPING_WORKERS,
    STATEMENT_READERS,
    STOCK_HEALTH_READERS,
    STOCK_WRITERS,
    STUDIO_SETTINGS_WRITERS,
    WEIGHT_VARIANCE_READERS,
    user_roles,
)

# What the menus and home tiles may offer, from the same role sets the views check: a link is
# shown exactly when its page would let the user in.
MENU = {
    "intake": STOCK_WRITERS,
    "orders": ORDER_READERS,
    "import_orders": ORDER_WRITERS,
    "pack": SHIPPING_WORKERS,
    "waves": SHIPPING_READERS,
    "returns": RETURN_WORKERS,
    "dashboard": SALES_READERS,
    "statements": STATEMENT_READERS,
    "stock_health": STOCK_HEALTH_READERS,
    "platforms": PLATFORM_MANAGERS,
    "studio_settings": STUDIO_SETTINGS_WRITERS,
    "weights": WEIGHT_VARIANCE_READERS,
}


def roles(request):
    """``roles``: the role names the current user holds; ``can``: which menu entries to show."""
    user = getattr(request, "user", None)
    held = user_roles(user)
    can = {entry: bool(held & allowed) for entry, allowed in MENU.items()}
    can["admin"] = bool(getattr(user, "is_staff", False))  # the admin's own rule
    # Who sees which money on a page (README, "Who sees what"): the same sets as the API.
    can["sales_money"] = bool(held & SALES_READERS)
    can["farmer_prices"] = bool(held & FARMER_PRICE_READERS)
    can["farmer_money"] = bool(held & FARMER_MONEY_READERS)
    return {"roles": held, "can": can}
