from django.urls import path

from orders import platform_views

app_name = "platforms"

urlpatterns = [
    path("", platform_views.platform_list, name="list"),
    path("calls/", platform_views.call_list, name="calls"),
    path(
        "address-changes/<int:pk>/done/",
        platform_views.address_change_done,
        name="address_change_done",
    ),
    path("<slug:code>/sync/", platform_views.sync_now, name="sync_now"),
    path("<slug:code>/", platform_views.platform_account, name="account"),
]
