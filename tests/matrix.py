"""The vocabulary of the permission matrix, shared by every app's rows (tests/<app>/matrix.py)."""

from collections.abc import Callable
from dataclasses import dataclass, field

ROLES = ["anonymous", "loner", "outsider", "student", "staff", "coordinator", "admin"]
SIGNED_IN = ROLES[1:]


def everyone(status):
    return dict.fromkeys(ROLES, status)


def signed_in(status, *, anonymous=302):
    return {"anonymous": anonymous, **dict.fromkeys(SIGNED_IN, status)}


@dataclass
class Row:
    method: str
    expected: dict[str, int]
    url: Callable = None  # world -> path
    data: Callable = None  # world -> request body
    shown: Callable = None  # world -> text visible to roles answered 200, hidden from the rest
    hidden_from: set = field(default_factory=set)


FORBIDDEN_BUT_VISIBLE = {"student": 403, "staff": 403}
HIDDEN = {"loner": 404, "outsider": 404}
