"""Control-plane URLs (Django): admin, governance API and its schema. Data-plane paths: gateway/dataplane/app.py."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/governance/", include("governance.api.urls")),
    path("api/governance/", include("agents.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("agents.urls")),
]
