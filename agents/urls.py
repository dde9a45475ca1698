"""The agent protocol's paths, at the root as the quickstart names them (a trailing slash is accepted)."""

from django.urls import path

from agents import views

urlpatterns = [
    path("register", views.register, name="agent-register"),
    path("register/", views.register),
    path("heartbeat", views.heartbeat, name="agent-heartbeat"),
    path("heartbeat/", views.heartbeat),
]
