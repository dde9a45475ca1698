"""URL table of the governance API: each module contributes its own urlpatterns."""

from governance.api import callers, preferences, profiles, rules

urlpatterns = [*profiles.urlpatterns, *rules.urlpatterns, *callers.urlpatterns, *preferences.urlpatterns]
