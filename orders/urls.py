from django.urls import path

from orders import aftersale_views, dashboard_views, freshness_views, views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/allocate/", views.order_allocate_view, name="allocate"),
    path("<int:pk>/cancel/", views.order_cancel_view, name="cancel"),
    path("<int:pk>/address/", views.order_address_view, name="address"),
    path("<int:pk>/reallocate/", freshness_views.reallocate, name="reallocate"),
    path("waiting/", freshness_views.waiting, name="waiting"),
    path("transit/", freshness_views.transit, name="transit"),
    path("<int:pk>/refund/", aftersale_views.order_refund, name="refund"),
    path("live/", views.live_list, name="live_list"),
    path("live/new/", views.live_create, name="live_create"),
    path("live/<int:pk>/", views.live_detail, name="live_detail"),
    path("live/<int:pk>/edit/", views.live_edit, name="live_edit"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/compare/", dashboard_views.dashboard_compare, name="dashboard_compare"),
]
