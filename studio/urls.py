from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.auth import ObtainToken
from studio import views
from studio.health import health

# The apps' first path segments never overlap, so their order decides nothing but speed: a
# path tried against an app's patterns and not found there costs Django a list of every
# pattern it tried. The packing stations' calls (shipping, then orders) come first.
api_patterns = [
    path("", include("shipping.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("inventory.api_urls")),
    path("", include("orders.import_api_urls")),
    path("", include("orders.platform_api_urls")),
    path("auth/token/", ObtainToken.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("inventory/", include("inventory.urls")),
    path("orders/", include("orders.urls")),
    path("imports/", include("orders.import_urls")),
    path("shipping/", include("shipping.urls")),
    path("platforms/", include("orders.platform_urls")),
    path("settings/", include("core.urls")),
    path("t/", include("shipping.trace_urls")),
    path("api/", include((api_patterns, "api"))),
    path("admin/", admin.site.urls),
    path("favicon.ico", RedirectView.as_view(url=settings.STATIC_URL + "img/favicon.svg")),
    path("health/", health, name="health"),
]

handler403 = "studio.views.permission_denied"
handler404 = "studio.views.page_not_found"
