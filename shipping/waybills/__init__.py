"""Where a carrier's waybill numbers come from: the studio's imported pools, or a waybill
service's API (the 抖店 electronic waybill). One interface; see docs/PLATFORMS.md."""
