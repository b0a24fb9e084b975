"""How the domain apps plug into the shared frame: optional modules found by name."""

from importlib import import_module
from types import ModuleType

# In dependency order: an app comes after every app it uses.
DOMAIN_APPS = ("partnerships", "programs", "internships", "evaluations")


def optional_module(name: str) -> ModuleType | None:
    """Import ``name`` if it exists; an import error inside it is still an error."""
    try:
        return import_module(name)
    except ModuleNotFoundError as error:
        if error.name and name.startswith(error.name):
            return None
        raise


def app_modules(suffix: str, apps=DOMAIN_APPS) -> list[ModuleType]:
    """``<app>.<suffix>`` of every app that has one, in dependency order."""
    return [m for app in apps if (m := optional_module(f"{app}.{suffix}")) is not None]
