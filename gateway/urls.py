"""Control-plane URLs (Django): the admin. The data plane's paths are in gateway/dataplane/app.py."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
