"""Hooks other apps subscribe to. Inventory never imports the apps above it."""

from django.dispatch import Signal

# Sent after the transaction that received new stock commits. kwargs: lot_ids (list[int]).
# Orders listens to fill its back-orders.
stock_received = Signal()
