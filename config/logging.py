"""Logging helpers: keep credentials out of log lines."""

import logging
import re

# Token links (invitations, surveys, consents) carry 43-character url-safe secrets.
_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])([A-Za-z0-9_-]{6})[A-Za-z0-9_-]{26,}")


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1…", text)


class RedactTokensFilter(logging.Filter):
    """Shorten anything that looks like a secret token to its first six characters."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
