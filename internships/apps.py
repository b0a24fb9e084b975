from django.apps import AppConfig

from config.plugins import optional_module


class InternshipsConfig(AppConfig):
    name = "internships"

    def ready(self):
        optional_module("internships.selectors")  # registers this app's access scopes
