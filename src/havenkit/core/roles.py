"""The roles of a safe haven (product brief, section 2).

A person may hold several roles; each grant is a database row checked on every request,
never cached in a token or a session.
"""

from django.db import models


class Role(models.TextChoices):
    RESEARCHER = "researcher", "Researcher"
    PI = "pi", "Principal investigator"
    DATA_STEWARD = "data_steward", "Data steward"
    OUTPUT_CHECKER = "output_checker", "Output checker"
    APPROVER = "approver", "Approver"
    ADMINISTRATOR = "administrator", "Administrator"
    AUDITOR = "auditor", "Auditor"
