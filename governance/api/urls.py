"""URL table of the governance API: each module contributes its own urlpatterns."""

from governance.api import callers, preferences, profiles, providers, routes, rules

urlpatterns = [*profiles.urlpatterns, *rules.urlpatterns, *callers.urlpatterns]
urlpatterns += providers.urlpatterns
urlpatterns += routes.urlpatterns
urlpatterns += preferences.urlpatterns
