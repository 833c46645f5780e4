"""Connectors to the platforms' open APIs (抖店, 快手电商开放平台): pull orders and
after-sales, push shipments. Optional: a studio without credentials works from files.
See docs/PLATFORMS.md."""
