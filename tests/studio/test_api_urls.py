"""The API's apps are included in an order chosen for speed (``studio.urls``): that is only
safe while no path could be matched by two of them. The first segments of their patterns
never overlap."""

import importlib
import re

from studio.urls import api_patterns


def _first_segments(module: str) -> set[str]:
    patterns = importlib.import_module(module).urlpatterns
    return {re.split(r"[/\\(<]", str(p.pattern).lstrip("^"))[0] for p in patterns} - {""}


def test_no_two_api_apps_share_a_first_path_segment():
    modules = [p.urlconf_name.__name__ for p in api_patterns if hasattr(p, "url_patterns")]
    assert "shipping.api_urls" in modules and len(modules) == 5
    owner: dict[str, str] = {}
    for module in modules:
        for segment in _first_segments(module):
            assert segment not in owner, f"{segment!r} is in {owner.get(segment)} and {module}"
            owner[segment] = module
    assert {"parcels", "orders", "lots"} <= owner.keys()
