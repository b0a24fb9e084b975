"""The API's JSON parser (its own module: DRF reads the parser setting while rest_framework.views
is still being imported, so config.api, which imports that, cannot hold it)."""

import json
import re

from rest_framework import exceptions
from rest_framework.parsers import JSONParser as BaseJSONParser

# A NUL cannot be stored by PostgreSQL (text or jsonb), and a lone surrogate cannot be encoded
# at all; JSON can spell both ("\\u0000", "\\ud800"), so the parser refuses them.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class JSONParser(BaseJSONParser):
    """DRF's parser, plus: a 400 for nesting too deep to parse (Python's json raises
    RecursionError, which is no ValueError), and for strings a database cannot store."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(NESTED_TOO_DEEPLY) from None
        if has_unstorable_text(data):
            raise exceptions.ParseError(UNSTORABLE_TEXT)
        return data


NESTED_TOO_DEEPLY = "JSON parse error - nested too deeply."
UNSTORABLE_TEXT = "JSON parse error - a string contains a NUL or an unpaired surrogate."


def has_unstorable_text(data) -> bool:
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and UNSTORABLE.search(value):
            return True
    return False


def json_problem(body: bytes) -> str | None:
    """Why a JSON body cannot be taken (None when it can); for the middleware, which checks a
    body even when the view never reads it."""
    try:
        data = json.loads(body)
    except RecursionError:
        return NESTED_TOO_DEEPLY
    except ValueError as error:
        return f"JSON parse error - {error}"
    return UNSTORABLE_TEXT if has_unstorable_text(data) else None
