"""Shipping pages (being built)."""

urlpatterns = []
