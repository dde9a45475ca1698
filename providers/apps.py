"""App config: connects the config-version signals."""

from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Providers and models"

    def ready(self) -> None:
        from governance import config_version
        from providers.models import Model, Provider

        config_version.watch(Provider, Model)
