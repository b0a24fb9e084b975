import logging

from config.logging import RedactTokensFilter, redact


def test_tokens_in_log_lines_are_shortened():
    token = "SbAZTIvV5FhbUy8gc5bWu_f6aOXaemdqS1F51sYCEK4"
    line = f'"GET /invitations/{token}/ HTTP/1.1" 302 0'
    assert token not in redact(line)
    assert "/invitations/SbAZTI…/" in redact(line)


def test_filter_rewrites_the_record():
    token = "x" * 43
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, '"GET /invitations/%s/"', (token,), None)
    assert RedactTokensFilter().filter(record)
    assert token not in record.getMessage()


def test_ordinary_words_are_left_alone():
    line = "mail to person@example.test: You are invited to Riverside Police Department"
    assert redact(line) == line
