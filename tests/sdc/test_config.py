"""A haven's output-checking parameters: ACRO's defaults; stricter accepted, looser refused."""

import json

import pandas as pd
import pytest

from havenkit import sdc
from havenkit.sdc import ConfigError, SdcConfig, load_config
from havenkit.sdc.config import JOB_CONFIG_VARIABLE, default_config


def test_defaults_are_acros():
    config = SdcConfig()
    assert (config.safe_threshold, config.zeros_are_disclosive, config.safe_dof_threshold) == (
        10,
        True,
        10,
    )
    assert (config.safe_nk_n, config.safe_nk_k, config.safe_pratio_p) == (2, 0.9, 0.1)
    assert (config.safe_round_base, config.max_file_bytes, config.max_csv_rows) == (
        5,
        16 * 1024 * 1024,
        5000,
    )
    assert "pseudonym" in config.identifier_column_names


def test_a_haven_file_can_make_rules_stricter(tmp_path):
    path = tmp_path / "haven.toml"
    path.write_text(
        "[sdc]\nsafe_threshold = 20\nsafe_nk_k = 0.8\nallowed_file_types = ['csv', 'png']\n"
        "identifier_column_names = ['pseudonym', 'patient_id', 'chi', 'chi_number', "
        "'nhs_number', 'name', 'postcode', 'study_id']\n"
    )
    config = load_config(path)
    assert (config.safe_threshold, config.safe_nk_k) == (20, 0.8)
    assert config.allowed_file_types == ("csv", "png")
    assert "study_id" in config.identifier_column_names
    assert config.safe_pratio_p == 0.1  # untouched settings keep their defaults


def test_variable_aliases_are_read_and_any_is_accepted(tmp_path):
    # More aliases only make differencing compare more tables, so none is looser.
    path = tmp_path / "haven.toml"
    path.write_text(
        '[sdc.variable_aliases]\nhb = "health_board"\n"health board" = "health_board"\n'
    )
    config = load_config(path)
    assert config.variable_aliases == {"hb": "health_board", "health board": "health_board"}
    assert SdcConfig().variable_aliases == {}
    assert config.as_dict()["variable_aliases"] == {
        "hb": "health_board",
        "health board": "health_board",
    }


def test_yaml_is_read_too(tmp_path):
    path = tmp_path / "haven.yaml"
    path.write_text("sdc:\n  safe_dof_threshold: 15\n")
    assert load_config(path).safe_dof_threshold == 15


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("safe_threshold = 5", "sdc.safe_threshold must be at least 10, not 5"),
        ("zeros_are_disclosive = false", "sdc.zeros_are_disclosive cannot be turned off"),
        ("safe_nk_k = 0.95", "sdc.safe_nk_k must be at most 0.9, not 0.95"),
        ("allowed_file_types = ['csv', 'exe']", "may only remove types, not add exe"),
        ("identifier_column_names = ['chi']", "may only add names, not drop"),
        ("max_csv_rows = 100000", "sdc.max_csv_rows must be at most 5000"),
    ],
)
def test_a_looser_value_is_refused_with_what_to_change(tmp_path, line, message):
    path = tmp_path / "haven.toml"
    path.write_text(f"[sdc]\n{line}\n")
    with pytest.raises(ConfigError, match="stricter, never looser") as refused:
        load_config(path)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sdc]\nthreshold = 20\n", "Unknown sdc setting threshold"),
        ("[sdc]\nsafe_threshold = 12.5\n", "must be a whole number"),
        ("[sdc]\nsafe_threshold = 'ten'\n", "must be a number"),
        ("[sdc\n", "is not valid TOML"),
        ("[sdc]\nvariable_aliases = ['hb']\n", "sdc.variable_aliases must be a table of names"),
    ],
)
def test_a_malformed_file_is_refused_clearly(tmp_path, text, message):
    path = tmp_path / "haven.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_an_unreadable_or_unknown_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="Cannot read"):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "haven.ini").write_text("")
    with pytest.raises(ConfigError, match=r"must be a \.toml, \.yaml or \.yml file"):
        load_config(tmp_path / "haven.ini")


def test_inside_a_job_calls_and_sessions_use_the_havens_rules(tmp_path, monkeypatch):
    monkeypatch.delenv(JOB_CONFIG_VARIABLE, raising=False)
    assert default_config() == SdcConfig()
    rules = tmp_path / "haven-sdc.json"
    rules.write_text(json.dumps(SdcConfig(safe_threshold=25).as_dict()))
    monkeypatch.setenv(JOB_CONFIG_VARIABLE, str(rules))

    assert sdc.Session().config.safe_threshold == 25
    twenty = pd.Series(["a"] * 20)
    assert sdc.crosstab(twenty, twenty).status == "fail"
    assert sdc.crosstab(twenty, twenty, config=SdcConfig()).status == "pass"


def test_inside_a_job_unreadable_or_looser_rules_stop_the_job(tmp_path, monkeypatch):
    monkeypatch.setenv(JOB_CONFIG_VARIABLE, str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="cannot be read"):
        default_config()
    loose = tmp_path / "loose.json"
    loose.write_text('{"safe_threshold": 3}')
    monkeypatch.setenv(JOB_CONFIG_VARIABLE, str(loose))
    with pytest.raises(ConfigError, match="must be at least 10, not 3"):
        default_config()
