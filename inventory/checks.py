"""Checks that other apps add to ``manage.py check_stock``.

Inventory knows lots and kilograms, not who reserved them, so it cannot prove that a lot's
``reserved_kg`` is what the documents above it hold. An app that reserves stock registers a
function here (from its ``AppConfig.ready``) that does; ``check_stock`` runs each one after
its own ledger check.
"""

from collections.abc import Callable

StockCheck = Callable[[], list[str]]

_checks: list[StockCheck] = []


def register_stock_check(check: StockCheck) -> StockCheck:
    """Have ``check_stock`` run ``check``: a function without arguments that returns one line
    of text per problem it finds (an empty list when all is well). Registering the same
    function again changes nothing."""
    if check not in _checks:
        _checks.append(check)
    return check


def registered_stock_checks() -> list[StockCheck]:
    return list(_checks)


def run_stock_checks() -> list[str]:
    """The problems every registered check reports, in registration order."""
    problems: list[str] = []
    for check in _checks:
        problems.extend(check())
    return problems
