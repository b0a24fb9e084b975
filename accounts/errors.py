class DomainError(Exception):
    """A business rule refused a change. The message is written for the person who asked.

    Pages show it next to the form; the API answers it as JSON with ``status_code``.
    """

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class ConflictError(DomainError):
    """The change collides with the current state (a duplicate, a race already lost)."""

    status_code = 409
