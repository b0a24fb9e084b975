from django.apps import AppConfig

from config.plugins import optional_module


class EvaluationsConfig(AppConfig):
    name = "evaluations"

    def ready(self):
        optional_module("evaluations.selectors")  # registers this app's access scopes
