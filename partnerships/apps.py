from django.apps import AppConfig

from config.plugins import optional_module


class PartnershipsConfig(AppConfig):
    name = "partnerships"

    def ready(self):
        optional_module("partnerships.selectors")  # registers this app's access scopes
