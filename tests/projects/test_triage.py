"""Triage rules on plain data: which rule fires, and the risk score's reasons."""

from havenkit.projects.triage import Case, rules_from, triage

PRECEDENT = Case(
    reference="HK-2025-001",
    datasets=frozenset({1, 2}),
    variables=frozenset({"admissions.age", "admissions.chi"}),
    linkage_wanted=False,
    data_controller="Public Health Scotland",
    ethics_reference="REC 1",
)


def case(**changes) -> Case:
    fields = {
        "reference": "HK-2026-009",
        "datasets": frozenset({1}),
        "variables": frozenset({"admissions.age"}),
        "linkage_wanted": False,
        "data_controller": "public health scotland ",
        "ethics_reference": "REC 2",
    }
    return Case(**(fields | changes))


def test_a_subset_of_a_precedent_goes_to_the_fast_track():
    decision = triage(case(), [PRECEDENT], rules_from(None))
    assert (decision.track, decision.rule) == ("fast", "precedent HK-2025-001: fast track")
    assert decision.reasons == ["+1: 1 dataset(s) requested."]


def test_an_identifying_variable_the_precedent_also_had_is_not_new():
    decision = triage(case(variables=frozenset({"admissions.chi"})), [PRECEDENT], rules_from(None))
    assert decision.track == "fast"
    assert "+2: admissions.chi is classed as identifying." in decision.reasons


def test_another_data_controller_or_a_new_dataset_is_not_a_precedent():
    rules = rules_from(None)
    assert triage(case(data_controller="NHS England"), [PRECEDENT], rules).track == "panel"
    assert triage(case(datasets=frozenset({1, 3})), [PRECEDENT], rules).rule == (
        "no precedent: panel review"
    )


def test_the_haven_can_lower_the_risk_it_fast_tracks():
    rules = rules_from({"fast_track_max_risk": 1, "risk_points": {"no_ethics_reference": 5}})
    decision = triage(case(ethics_reference=""), [PRECEDENT], rules)
    assert decision.track == "panel"
    assert decision.rule == "precedent HK-2025-001, but risk 6 is above 1: panel review"
    assert decision.reasons[-1] == "+5: no ethics reference given."


def test_a_variable_the_catalogue_flags_is_identifying_whatever_its_name():
    flagged = case(variables=frozenset({"admissions.ward"}), flagged=frozenset({"admissions.ward"}))
    decision = triage(flagged, [PRECEDENT], rules_from(None))
    assert decision.rule == "no precedent: panel review"
    assert "+2: admissions.ward is classed as identifying." in decision.reasons


def test_a_flagged_column_the_application_does_not_choose_adds_nothing():
    decision = triage(case(flagged=frozenset({"admissions.ward"})), [PRECEDENT], rules_from(None))
    assert decision.track == "fast"
