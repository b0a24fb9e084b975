"""Ship the built-in computed metrics and the default survey templates (evaluations/defaults.py)."""

from django.db import migrations

from evaluations import defaults


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0001_surveys_metrics_targets")]

    operations = [migrations.RunPython(defaults.install, defaults.remove)]
