"""Shipping labels: ``data`` builds what a label says from a parcel (the database side),
``render`` draws labels as PDF pages (no database)."""

from shipping.labels.data import (
    COLD_MARKS,
    LabelData,
    LabelItem,
    label_data,
    labels_data,
    mask_address,
    mask_name,
    privacy_service,
    trace_url,
)
from shipping.labels.render import PAGE_SIZES, render_labels

__all__ = [
    "COLD_MARKS",
    "PAGE_SIZES",
    "LabelData",
    "LabelItem",
    "label_data",
    "labels_data",
    "mask_address",
    "mask_name",
    "privacy_service",
    "render_labels",
    "trace_url",
]
