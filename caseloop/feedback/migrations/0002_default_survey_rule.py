"""One survey rule out of the box: every solved case, an hour later, at most one survey per customer a month.

Measuring the experience is the point of caseloop (principle 6), so surveys
are on from the start; an administrator switches the rule off or changes it on
/feedback/rules/.
"""

from django.db import migrations


def add_default_rule(apps, schema_editor):
    SurveyRule = apps.get_model("feedback", "SurveyRule")
    if not SurveyRule.objects.exists():
        SurveyRule.objects.create(
            name="After a case is solved",
            is_active=True,
            trigger="case.solved",
            questions=["expectations", "ces", "csat", "nps", "comment"],
            delay_minutes=60,
            fatigue_days=30,
            channels=[],
        )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]

    operations = [migrations.RunPython(add_default_rule, migrations.RunPython.noop)]
