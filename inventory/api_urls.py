from rest_framework.routers import DefaultRouter

router = DefaultRouter()
# Inventory's viewsets register here (see inventory/api.py).

urlpatterns = router.urls
