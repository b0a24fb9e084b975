from django.apps import AppConfig

from config.plugins import optional_module


class ProgramsConfig(AppConfig):
    name = "programs"

    def ready(self):
        optional_module("programs.selectors")  # registers this app's access scopes
