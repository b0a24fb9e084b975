import pytest

from evaluations import defaults


@pytest.fixture(autouse=True)
def _builtin_metrics_and_templates(db):
    """Migration 0002 ships them; a transactional test elsewhere may have emptied the tables."""
    defaults.install()
