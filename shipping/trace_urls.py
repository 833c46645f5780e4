from django.urls import path

from shipping import trace_views

app_name = "trace"

urlpatterns = [
    path("<str:token>/", trace_views.trace_parcel, name="parcel"),
]
