"""Histograms, survival tables, regression models and files havenkit cannot check itself.

A histogram is a frequency table of bins; a Kaplan-Meier table shows how many subjects remain
at each step; a model is safe when its residual degrees of freedom are enough. Anything else
(a plot, free text, a saved model) goes to a person as "review".
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf

from havenkit.sdc import rules
from havenkit.sdc.config import SdcConfig, default_config
from havenkit.sdc.output import Check, Output


def _flagged(name: str, status: str, reason: str, table: pd.DataFrame, mask: pd.DataFrame) -> Check:
    """A Check naming every cell of ``table`` where ``mask`` is true."""
    positions = [(int(r), int(c)) for r, c in np.argwhere(mask.to_numpy())]
    return Check(
        name,
        status if positions else rules.PASS,
        reason,
        cells=[(table.index[r], table.columns[c]) for r, c in positions],
        positions=positions,
    )


def _column_mask(table: pd.DataFrame, column: str, flags: np.ndarray) -> pd.DataFrame:
    """A mask the shape of ``table`` that is true only in ``column`` where ``flags`` is."""
    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    mask[column] = flags
    return mask


def hist(
    data: pd.DataFrame,
    column: str,
    bins: int | Any = 10,
    *,
    suppress: bool = False,
    config: SdcConfig | None = None,
) -> Output:
    """A histogram's bins as a table (left edge, right edge, count), each bin checked.

    Bins are ``np.histogram``'s, whose last bin includes its right edge, so the largest value
    is counted (ACRO's ``np.digitize`` drops it). With ``suppress`` the counts of failing bins
    are blanked: plot the table, not the raw column.
    """
    config = config or default_config()
    values = pd.to_numeric(data[column], errors="raise").dropna().to_numpy(float)
    if len(values) == 0:
        raise ValueError(f"hist: column {column!r} has no values to count.")
    counts, edges = np.histogram(values, bins=bins)
    table = pd.DataFrame(
        {"bin_start": edges[:-1], "bin_end": edges[1:], "count": counts},
        index=pd.RangeIndex(len(counts), name="bin"),
    )
    low = counts < config.safe_threshold
    empty = (counts == 0) & config.zeros_are_disclosive
    if not config.zeros_are_disclosive:
        low &= counts > 0  # empty tail bins between outliers are no one when zeros are safe
    checks = [
        _flagged(
            rules.THRESHOLD,
            rules.FAIL,
            f"fewer than {config.safe_threshold} values in the bin",
            table,
            _column_mask(table, "count", low),
        ),
        _flagged(
            rules.ZEROS,
            rules.FAIL,
            "an empty bin says nobody has a value in that range",
            table,
            _column_mask(table, "count", empty),
        ),
    ]
    mitigation, exception = "none", ""
    failing = low | empty
    if suppress and failing.any():
        table["count"] = table["count"].astype(float).where(~failing)
        for check in checks:
            if check.status == rules.FAIL:
                check.status, check.reason = rules.REVIEW, f"{check.reason}; suppressed"
        mitigation, exception = "suppress", f"suppression applied: {int(failing.sum())} bins"
    return Output(
        kind="histogram",
        method="histogram",
        table=table,
        checks=checks,
        command=f"hist(column={column!r}, bins={bins!r}, suppress={suppress})",
        mitigation=mitigation,
        exception=exception,
        properties={"method": "histogram"},
    )


def survival_table(
    time: Any,
    status: Any,
    *,
    suppress: bool = False,
    config: SdcConfig | None = None,
) -> Output:
    """A Kaplan-Meier table (statsmodels' ``SurvfuncRight``), each step checked.

    A step is safe when at least ``survival_safe_threshold`` subjects are at risk behind it:
    with fewer, one event moves the curve by a share that names a person. ``suppress`` cuts
    the table at the first step with too few subjects, as a survival curve is usually cut.
    """
    config = config or default_config()
    table = sm.SurvfuncRight(np.asarray(time, float), np.asarray(status, float)).summary()
    threshold = config.survival_safe_threshold
    few = _column_mask(table, "num at risk", table["num at risk"].to_numpy() < threshold)
    check = _flagged(
        rules.THRESHOLD,
        rules.FAIL,
        f"fewer than {threshold} subjects at risk at the step",
        table,
        few,
    )
    mitigation, exception = "none", ""
    if suppress and check.status == rules.FAIL:
        first = int(np.argmax(few["num at risk"].to_numpy()))
        table = table.iloc[:first]
        check.status, check.reason = rules.REVIEW, f"{check.reason}; table cut before them"
        mitigation = "suppress"
        exception = f"survival table cut at {first} steps: {len(check.cells)} steps had too few"
    return Output(
        kind="table",
        method="survival",
        table=table,
        checks=[check],
        command=f"survival_table(suppress={suppress})",
        mitigation=mitigation,
        exception=exception,
        properties={"method": "survival"},
    )


def _model_output(method: str, results: Any, config: SdcConfig, command: str) -> Output:
    """A fitted model's coefficients, with the residual degrees of freedom checked."""
    dof = int(results.df_resid)
    threshold = config.safe_dof_threshold
    check = Check(
        rules.DEGREES_OF_FREEDOM,
        rules.FAIL if dof < threshold else rules.PASS,
        f"residual degrees of freedom {dof} {'<' if dof < threshold else '>='} {threshold}",
    )
    table = results.summary2().tables[1]
    return Output(
        kind="regression",
        method=method,
        table=table,
        checks=[check],
        command=command,
        properties={"method": method, "dof": dof, "nobs": int(results.nobs)},
    )


def _fit(method: str, model: Any, config: SdcConfig | None, command: str) -> Output:
    fitted = model.fit() if method.startswith("ols") else model.fit(disp=False)
    return _model_output(method, fitted, config or default_config(), command)


def ols(endog: Any, exog: Any, *, config: SdcConfig | None = None) -> Output:
    """Ordinary least squares on arrays, as ``sm.OLS(endog, exog).fit()``."""
    return _fit("ols", sm.OLS(endog, exog), config, "ols()")


def olsr(formula: str, data: pd.DataFrame, *, config: SdcConfig | None = None) -> Output:
    """Ordinary least squares from an R-style formula, as ``smf.ols(formula, data)``."""
    return _fit("olsr", smf.ols(formula, data), config, f"olsr({formula!r})")


def logit(endog: Any, exog: Any, *, config: SdcConfig | None = None) -> Output:
    """Logistic regression on arrays, as ``sm.Logit(endog, exog).fit()``."""
    return _fit("logit", sm.Logit(endog, exog), config, "logit()")


def logitr(formula: str, data: pd.DataFrame, *, config: SdcConfig | None = None) -> Output:
    """Logistic regression from a formula, as ``smf.logit(formula, data)``."""
    return _fit("logitr", smf.logit(formula, data), config, f"logitr({formula!r})")


def probit(endog: Any, exog: Any, *, config: SdcConfig | None = None) -> Output:
    """Probit regression on arrays, as ``sm.Probit(endog, exog).fit()``."""
    return _fit("probit", sm.Probit(endog, exog), config, "probit()")


def probitr(formula: str, data: pd.DataFrame, *, config: SdcConfig | None = None) -> Output:
    """Probit regression from a formula, as ``smf.probit(formula, data)``."""
    return _fit("probitr", smf.probit(formula, data), config, f"probitr({formula!r})")


def custom_output(path: Path | str, comment: str = "") -> Output:
    """Any other file (a plot, a saved model, free text): always reviewed by a person."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"custom_output: {path} is not a file.")
    return Output(
        kind="custom",
        method="custom",
        table=pd.DataFrame(),
        checks=[],
        command=f"custom_output({path.name!r})",
        files=[path],
        comments=[comment] if comment else [],
    )
