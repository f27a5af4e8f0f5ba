"""The disclosure-control parameters a haven applies, and how a haven sets them.

Defaults are ACRO 1.0.2's (``acro/default.yaml``) and OpenSAFELY's file rules, so a table
checked here gets the decision Scottish havens get today. A haven writes its own values in an
``[sdc]`` table of a TOML (or YAML) file; it may only make a rule stricter, because a looser
rule would let through what the shared standard holds back. ``[sdc.variable_aliases]`` maps a
label column's other names to one name for differencing; any is accepted, since an alias only
makes differencing compare more tables.
"""

import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# Inside a job, the file holding the haven's rules (written read-only beside the job's code by
# the worker, and named by the sandbox's environment), so in-job results use the haven's rules.
JOB_CONFIG_VARIABLE = "HAVENKIT_SDC_CONFIG"


class ConfigError(ValueError):
    """A haven configuration that cannot be used, with the field and what to change."""


@dataclass(frozen=True)
class SdcConfig:
    """Every threshold the checks use, with ACRO's defaults."""

    safe_threshold: int = 10
    zeros_are_disclosive: bool = True
    safe_dof_threshold: int = 10
    safe_nk_n: int = 2
    safe_nk_k: float = 0.90
    safe_pratio_p: float = 0.10
    survival_safe_threshold: int = 10
    safe_round_base: int = 5
    allowed_file_types: tuple[str, ...] = (
        "csv",
        "txt",
        "md",
        "json",
        "png",
        "jpg",
        "jpeg",
        "svg",
        "html",
        "log",
    )
    max_file_bytes: int = 16 * 1024 * 1024
    max_csv_rows: int = 5_000
    identifier_column_names: tuple[str, ...] = (
        "pseudonym",
        "patient_id",
        "chi",
        "chi_number",
        "nhs_number",
        "name",
        "postcode",
    )
    # A label column's other names mapped to one name ({"hb": "health_board"}), so differencing
    # compares releases that call the same variable differently.
    variable_aliases: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The parameters as plain JSON-ready values, written beside every finalised session."""
        values = asdict(self)
        return {
            k: list(v) if isinstance(v, tuple) else dict(v) if isinstance(v, Mapping) else v
            for k, v in values.items()
        }


def _at_least(name: str, default: Any, value: Any) -> str | None:
    return None if value >= default else f"{name} must be at least {default!r}, not {value!r}"


def _at_most(name: str, default: Any, value: Any) -> str | None:
    return None if value <= default else f"{name} must be at most {default!r}, not {value!r}"


def _zeros_stay_disclosive(name: str, default: Any, value: Any) -> str | None:
    if default and not value:
        return f"{name} cannot be turned off: an empty cell says nobody has that combination"
    return None


def _subset(name: str, default: Any, value: Any) -> str | None:
    extra = sorted(set(value) - set(default))
    return None if not extra else f"{name} may only remove types, not add {', '.join(extra)}"


def _superset(name: str, default: Any, value: Any) -> str | None:
    missing = sorted(set(default) - set(value))
    return None if not missing else f"{name} may only add names, not drop {', '.join(missing)}"


def _any_aliases(name: str, default: Any, value: Any) -> str | None:
    """Every alias makes differencing compare more tables, never fewer: any is stricter."""
    return None


# For each parameter, the test that a haven's value is at least as strict as the default.
_STRICTER: dict[str, Callable[[str, Any, Any], str | None]] = {
    "safe_threshold": _at_least,
    "zeros_are_disclosive": _zeros_stay_disclosive,
    "safe_dof_threshold": _at_least,
    "safe_nk_n": _at_least,
    "safe_nk_k": _at_most,
    "safe_pratio_p": _at_least,
    "survival_safe_threshold": _at_least,
    "safe_round_base": _at_least,
    "allowed_file_types": _subset,
    "max_file_bytes": _at_most,
    "max_csv_rows": _at_most,
    "identifier_column_names": _superset,
    "variable_aliases": _any_aliases,
}
# Settings only the portal's differencing uses: a job's session neither applies nor needs them.
_PORTAL_ONLY = frozenset({"variable_aliases"})


def looser_settings(values: Mapping[str, Any], haven: SdcConfig) -> list[str]:
    """Each setting in ``values`` (a job session's recorded configuration) looser than the
    haven's, or missing from it, said plainly; empty when ``values`` is at least as strict."""
    problems = []
    for name, stricter in _STRICTER.items():
        if name in _PORTAL_ONLY:
            continue
        ours = getattr(haven, name)
        if name not in values:
            problems.append(f"{name} was not recorded")
            continue
        value = values[name]
        if isinstance(ours, tuple):
            value = tuple(value) if isinstance(value, list | tuple) else (value,)
        try:
            problem = stricter(name, ours, value)
        except TypeError:
            problem = f"{name} is {value!r}, which havenkit cannot compare"
        if problem:
            problems.append(problem)
    return problems


def _normalise(name: str, value: Any, default: Any) -> Any:
    """Coerce a value read from a file to the default's type, or say what was expected."""
    if isinstance(default, Mapping):
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()
        ):
            raise ConfigError(
                f"sdc.{name} must be a table of names, each an other name of a variable mapped "
                'to one name: hb = "health_board".'
            )
        return {k.strip(): v.strip() for k, v in value.items()}
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"sdc.{name} must be a list of strings.")
        return tuple(v.lower().lstrip(".") for v in value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"sdc.{name} must be true or false.")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"sdc.{name} must be a number.")
    if isinstance(default, int) and value != int(value):
        raise ConfigError(f"sdc.{name} must be a whole number.")
    return type(default)(value)


def config_from_mapping(values: Mapping[str, Any]) -> SdcConfig:
    """An :class:`SdcConfig` from a haven's ``sdc`` settings, refusing anything looser."""
    defaults = SdcConfig()
    known = {f.name for f in fields(SdcConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"Unknown sdc setting {', '.join(unknown)}; known settings: {', '.join(sorted(known))}."
        )
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for name, raw in values.items():
        default = getattr(defaults, name)
        value = _normalise(name, raw, default)
        problem = _STRICTER[name](f"sdc.{name}", default, value)
        if problem:
            problems.append(problem)
        changes[name] = value
    if problems:
        raise ConfigError(
            "A haven may make the output-checking rules stricter, never looser: "
            + "; ".join(problems)
            + "."
        )
    return replace(defaults, **changes)


def load_config(path: Path | str) -> SdcConfig:
    """Read the ``[sdc]`` table of a haven configuration file (.toml, .yaml or .yml)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"Cannot read the haven configuration {path}: {error.strerror}."
        ) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # optional: only havens that write YAML need PyYAML
        except ImportError:
            raise ConfigError(f"{path} is YAML; install PyYAML or write it as TOML.") from None
        document = yaml.safe_load(text) or {}
    elif path.suffix.lower() == ".toml":
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path} is not valid TOML: {error}.") from None
    else:
        raise ConfigError(f"{path}: a haven configuration must be a .toml, .yaml or .yml file.")
    section = document.get("sdc", {}) if isinstance(document, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: the sdc settings must be a table of name = value.")
    return config_from_mapping(section)


def default_config() -> SdcConfig:
    """The rules a call uses when given none: the haven's inside a job, else ACRO's defaults.

    Inside a job ``HAVENKIT_SDC_CONFIG`` names the JSON file of the haven's rules; one that
    cannot be read stops the job with the reason rather than fall back to looser defaults.
    """
    path = os.environ.get(JOB_CONFIG_VARIABLE)
    if not path:
        return SdcConfig()
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"The haven's output-checking rules ({JOB_CONFIG_VARIABLE}={path}) cannot be read: "
            f"{error}. Ask the haven's administrator."
        ) from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path} must hold the sdc settings as a JSON object.")
    return config_from_mapping(values)
