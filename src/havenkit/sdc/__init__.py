"""Statistical disclosure control: pandas and statsmodels calls that check what they return.

A pure library (no Django), so a job imports it inside the sandbox and the portal calls the
same rules on release requests. See :mod:`havenkit.sdc.tables` for tables, :mod:`.analyses`
for histograms, survival tables and models, :mod:`.session` for writing results a checker can
open in the SACRO viewer, and :mod:`.files` for checking files that did not come from here.
"""

from havenkit.sdc.analyses import (
    custom_output,
    hist,
    logit,
    logitr,
    ols,
    olsr,
    probit,
    probitr,
    survival_table,
)
from havenkit.sdc.config import ConfigError, SdcConfig, load_config
from havenkit.sdc.files import FileCheckReport, check_file
from havenkit.sdc.output import FAIL, PASS, REVIEW, Check, Output
from havenkit.sdc.session import Session
from havenkit.sdc.tables import crosstab, pivot_table

__all__ = [
    "FAIL",
    "PASS",
    "REVIEW",
    "Check",
    "ConfigError",
    "FileCheckReport",
    "Output",
    "SdcConfig",
    "Session",
    "check_file",
    "crosstab",
    "custom_output",
    "hist",
    "load_config",
    "logit",
    "logitr",
    "ols",
    "olsr",
    "pivot_table",
    "probit",
    "probitr",
    "survival_table",
]
