from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("", views.studio_settings, name="studio_settings"),
]
