from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and access"

    def ready(self):
        from config import tablecache  # noqa: PLC0415 -- needs the app registry

        # Every connection renews the generations of the tables it writes (home panels, reports).
        tablecache.install()
