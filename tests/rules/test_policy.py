"""Monitoring policies: the seeds' rules as presets, their schedules, and bad policy files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rules.policy import (
    PRESET_DIR,
    PRESETS,
    Facts,
    Plan,
    PolicyError,
    Schedule,
    ScheduledPhase,
    highest_risk,
    load_policy,
    parse_policy,
)


def arrival(**changes: Any) -> Facts:
    """An arrival from a place that is no listed risk area, green code, feeling fine."""
    fields: dict[str, Any] = {
        "abroad": False,
        "origin_risk": None,
        "history_risk": None,
        "health_code": "green",
        "symptoms": False,
    }
    fields.update(changes)
    return Facts(**fields)


def shape(plan: Plan) -> tuple[tuple[tuple[str, int], ...], tuple[int, ...], int, bool, bool]:
    """What a user checks of a plan: phases with days, test days, negatives, clinic, alert."""
    phases = tuple((phase.kind, phase.days) for phase in plan.phases)
    return phases, plan.tests, plan.negatives_to_release, plan.refer_to_clinic, plan.alert


C, HI, HM, SM = "centralised", "home_isolation", "home_monitoring", "self_monitoring"

REFER_CLINIC = (((C, 14),), (1, 7, 14), 3, True, True)

# ---------------------------------------------------------------- the seeds' examples

SEED_EXAMPLES: list[tuple[str, dict[str, Any], tuple[Any, ...]]] = [
    # Jiayuguan (seed 000): high → 集中医学观察; medium → 居家隔离; low / 隔离期满 → back to work.
    ("jiayuguan", {"origin_risk": "high"}, (((C, 14),), (1,), 1, False, True)),
    ("jiayuguan", {"origin_risk": "medium"}, (((HI, 14),), (), 0, False, False)),
    ("jiayuguan", {"origin_risk": "low"}, (((SM, 14),), (), 0, False, False)),
    ("jiayuguan", {}, (((SM, 14),), (), 0, False, False)),
    ("jiayuguan", {"abroad": True}, (((C, 14),), (1,), 1, False, True)),
    ("jiayuguan", {"abroad": True, "released_elsewhere": True}, (((SM, 14),), (), 0, False, False)),
    ("jiayuguan", {"close_contact": True}, (((C, 14),), (1,), 1, False, True)),
    ("jiayuguan", {"symptoms": True}, REFER_CLINIC),
    ("jiayuguan", {"health_code": "red", "origin_risk": "low"}, REFER_CLINIC),
    (
        "jiayuguan",
        {"health_code": "yellow", "origin_risk": "low"},
        (((HI, 14),), (), 0, False, False),
    ),
    # Qilin (seed 003): abroad, high risk, 密接, 次密接 → 14 days centralised, three negatives;
    # medium risk or released elsewhere → personal protection and one test.
    ("qilin", {"abroad": True}, (((C, 14),), (1, 7, 14), 3, False, True)),
    ("qilin", {"origin_risk": "high"}, (((C, 14),), (1, 7, 14), 3, False, True)),
    ("qilin", {"close_contact": True}, (((C, 14),), (1, 7, 14), 3, False, True)),
    ("qilin", {"contact_of_contact": True}, (((C, 14),), (1, 7, 14), 3, False, True)),
    ("qilin", {"origin_risk": "medium"}, (((SM, 14),), (1,), 1, False, False)),
    ("qilin", {"released_elsewhere": True}, (((SM, 14),), (1,), 1, False, False)),
    ("qilin", {"abroad": True, "released_elsewhere": True}, (((SM, 14),), (1,), 1, False, False)),
    (
        "qilin",
        {"released_elsewhere": True, "origin_risk": "high"},
        (((C, 14),), (1, 7, 14), 3, False, True),
    ),
    ("qilin", {"origin_risk": "low"}, (((SM, 14),), (), 0, False, False)),
    ("qilin", {"health_code": "yellow"}, (((SM, 14),), (1,), 1, False, False)),
    ("qilin", {"abroad": True, "symptoms": True}, REFER_CLINIC),
    ("qilin", {"health_code": "red"}, REFER_CLINIC),
    # Lanzhou (seed 002): released from centralised quarantine → 7 days home health monitoring,
    # tests on day 1 and 7, two negatives; no fit home → 7 days centralised, same tests.
    (
        "lanzhou",
        {"abroad": True, "released_elsewhere": True},
        (((HM, 7),), (1, 7), 2, False, False),
    ),
    ("lanzhou", {"released_elsewhere": True}, (((HM, 7),), (1, 7), 2, False, False)),
    (
        "lanzhou",
        {"abroad": True, "released_elsewhere": True, "can_stay_home": False},
        (((C, 7),), (1, 7), 2, False, True),
    ),
    ("lanzhou", {"origin_risk": "medium"}, (((HM, 7),), (1, 7), 2, False, False)),
    ("lanzhou", {"health_code": "yellow"}, (((HM, 7),), (1, 7), 2, False, False)),
    ("lanzhou", {"abroad": True}, (((C, 14), (HM, 7)), (1, 7, 14, 15, 21), 5, False, True)),
    ("lanzhou", {"close_contact": True}, (((C, 14), (HM, 7)), (1, 7, 14, 15, 21), 5, False, True)),
    (
        "lanzhou",
        {"origin_risk": "high", "can_stay_home": False},
        (((C, 14), (C, 7)), (1, 7, 14, 15, 21), 5, False, True),
    ),
    ("lanzhou", {"origin_risk": "low"}, (((SM, 14),), (), 0, False, False)),
    ("lanzhou", {"released_elsewhere": True, "symptoms": True}, REFER_CLINIC),
    # "14+7", "7+7", "14+2", "14+14+2+1" (seed 004 and the entry rule of 2021).
    ("14+7", {"abroad": True}, (((C, 14), (HM, 7)), (1, 7, 14, 21), 4, False, True)),
    ("14+7", {"origin_risk": "high"}, (((C, 14), (HM, 7)), (1, 7, 14, 21), 4, False, True)),
    ("14+7", {"abroad": True, "released_elsewhere": True}, (((HM, 7),), (1, 7), 2, False, False)),
    ("14+7", {"origin_risk": "medium"}, (((HI, 14),), (1, 7, 14), 3, False, False)),
    ("14+7", {"origin_risk": "low"}, (((SM, 14),), (), 0, False, False)),
    ("7+7", {"abroad": True}, (((C, 7), (HM, 7)), (1, 7, 14), 3, False, True)),
    ("7+7", {"contact_of_contact": True}, (((C, 7), (HM, 7)), (1, 7, 14), 3, False, True)),
    ("7+7", {"abroad": True, "released_elsewhere": True}, (((HM, 7),), (1, 7), 2, False, False)),
    ("14+2", {"abroad": True}, (((C, 14),), (1, 14), 2, False, True)),
    ("14+2", {"abroad": True, "released_elsewhere": True}, (((SM, 14),), (), 0, False, False)),
    ("14+2", {"origin_risk": "medium"}, (((HI, 14),), (1, 14), 2, False, False)),
    ("14+14+2+1", {"abroad": True}, (((C, 14), (HI, 14)), (1, 14), 2, False, True)),
    ("14+14+2+1", {"released_elsewhere": True}, (((HI, 14),), (1, 14), 2, False, False)),
]


def row_id(preset: str, changes: dict[str, Any]) -> str:
    return " ".join([preset, *(f"{key}={value}" for key, value in changes.items())])


@pytest.mark.parametrize(
    ("preset", "changes", "expected"),
    SEED_EXAMPLES,
    ids=[row_id(preset, changes) for preset, changes, _ in SEED_EXAMPLES],
)
def test_seed_examples(preset: str, changes: dict[str, Any], expected: tuple[Any, ...]) -> None:
    decision = load_policy(preset).plan_for(arrival(**changes))
    assert shape(decision.plan) == expected


def test_old_inner_mongolia_rule_has_one_antibody_test() -> None:
    plan = load_policy("14+14+2+1").plan_for(arrival(abroad=True)).plan
    assert (plan.total_days, len(plan.tests), plan.antibody_tests) == (28, 2, 1)
    assert load_policy("14+2").plan_for(arrival(abroad=True)).plan.antibody_tests == 0


# ---------------------------------------------------------------- which rule, and why


@pytest.mark.parametrize(
    ("preset", "changes", "plan", "rule", "reason"),
    [
        ("qilin", {"symptoms": True}, "refer_clinic", 0, "symptoms=true"),
        ("qilin", {"health_code": "red"}, "refer_clinic", 0, "health_code=red"),
        ("qilin", {"abroad": True}, "centralised_14", 1, "abroad=true,released_elsewhere=false"),
        ("qilin", {"history_risk": "high"}, "centralised_14", 1, "risk=high"),
        ("qilin", {"contact_of_contact": True}, "centralised_14", 1, "contact_of_contact=true"),
        ("qilin", {"origin_risk": "medium"}, "protection_one_test", 2, "risk=medium"),
        ("qilin", {"health_code": "yellow"}, "protection_one_test", 2, "health_code=yellow"),
        ("qilin", {"origin_risk": "low"}, "self_monitoring_14", 3, "otherwise"),
        (
            "lanzhou",
            {"released_elsewhere": True, "can_stay_home": False},
            "centralised_7",
            3,
            "released_elsewhere=true,can_stay_home=false",
        ),
        (
            "lanzhou",
            {"released_elsewhere": True},
            "home_monitoring_7",
            4,
            "released_elsewhere=true",
        ),
        ("jiayuguan", {"released_elsewhere": True}, "back_to_work", 3, "released_elsewhere=true"),
    ],
)
def test_decision_names_rule_and_reason(
    preset: str, changes: dict[str, Any], plan: str, rule: int, reason: str
) -> None:
    policy = load_policy(preset)
    decision = policy.plan_for(arrival(**changes))
    assert (decision.plan.key, decision.rule, decision.reason) == (plan, rule, reason)
    assert policy.rules[decision.rule].plan is decision.plan


# ---------------------------------------------------------------- highest risk wins


@pytest.mark.parametrize(
    ("origin", "history", "plan", "reason"),
    [
        ("low", "high", "centralised_14", "risk=high"),
        ("high", None, "centralised_14", "risk=high"),
        (None, "high", "centralised_14", "risk=high"),
        ("high", "low", "centralised_14", "risk=high"),
        ("medium", "high", "centralised_14", "risk=high"),
        (None, "medium", "protection_one_test", "risk=medium"),
        ("medium", "low", "protection_one_test", "risk=medium"),
        ("low", "medium", "protection_one_test", "risk=medium"),
        ("low", None, "self_monitoring_14", "otherwise"),
        (None, None, "self_monitoring_14", "otherwise"),
    ],
)
def test_highest_risk_of_origin_and_history_wins(
    origin: str | None, history: str | None, plan: str, reason: str
) -> None:
    decision = load_policy("qilin").plan_for(arrival(origin_risk=origin, history_risk=history))
    assert (decision.plan.key, decision.reason) == (plan, reason)


@pytest.mark.parametrize(
    ("levels", "highest"),
    [((), None), ((None, None), None), (("low", None), "low"), (("low", "high", "medium"), "high")],
)
def test_highest_risk(levels: tuple[str | None, ...], highest: str | None) -> None:
    assert highest_risk(*levels) == highest


@pytest.mark.parametrize(
    "changes",
    [{"origin_risk": "severe"}, {"history_risk": "High"}, {"health_code": "blue"}],
)
def test_facts_refuse_unknown_levels(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be one of"):
        arrival(**changes)


# ---------------------------------------------------------------- every preset


def test_presets_are_the_files_in_the_presets_directory() -> None:
    assert sorted(PRESETS) == sorted(path.stem for path in PRESET_DIR.glob("*.yaml"))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_loads_and_refers_to_its_own_plans(preset: str) -> None:
    policy = load_policy(preset)
    assert policy.name == preset
    assert policy.description
    assert policy.window_days == 14
    assert policy.rules[-1].otherwise
    assert not any(rule.otherwise for rule in policy.rules[:-1])
    for rule in policy.rules:
        assert policy.plans[rule.plan.key] is rule.plan
    for plan in policy.plans.values():
        assert plan.negatives_to_release <= len(plan.tests)
        assert all(1 <= day <= plan.total_days for day in plan.tests)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(
    "changes",
    [
        {"symptoms": True},
        {"health_code": "red"},
        {"symptoms": True, "abroad": True, "origin_risk": "high", "close_contact": True},
        {"health_code": "red", "released_elsewhere": True, "can_stay_home": False},
    ],
)
def test_every_preset_sends_symptoms_and_red_codes_to_the_clinic(
    preset: str, changes: dict[str, Any]
) -> None:
    decision = load_policy(preset).plan_for(arrival(**changes))
    assert decision.plan.key == "refer_clinic"
    assert decision.plan.refer_to_clinic and decision.plan.alert
    assert decision.rule == 0


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(
    ("risk", "as_if"),
    [("low", "medium"), (None, "medium"), ("medium", "medium"), ("high", "high")],
)
def test_every_preset_treats_a_yellow_code_at_least_as_medium_risk(
    preset: str, risk: str | None, as_if: str
) -> None:
    policy = load_policy(preset)
    yellow = policy.plan_for(arrival(origin_risk=risk, health_code="yellow"))
    assert yellow.plan is policy.plan_for(arrival(origin_risk=as_if)).plan


@pytest.mark.parametrize("preset", PRESETS)
def test_no_health_code_is_not_a_reason_for_the_clinic(preset: str) -> None:
    policy = load_policy(preset)
    assert policy.plan_for(arrival(health_code=None)).plan is policy.plan_for(arrival()).plan


def test_a_preset_is_also_found_by_its_path() -> None:
    policy = load_policy(str(PRESET_DIR / "lanzhou.yaml"))
    assert policy.name == "lanzhou"
    assert policy.source.endswith("lanzhou.yaml")


# ---------------------------------------------------------------- schedules

D = date


@pytest.mark.parametrize(
    ("preset", "changes", "start", "expected"),
    [
        (
            "lanzhou",
            {"abroad": True, "released_elsewhere": True},
            D(2021, 7, 1),
            Schedule(
                start=D(2021, 7, 1),
                phases=(ScheduledPhase(HM, D(2021, 7, 1), D(2021, 7, 7)),),
                tests=(D(2021, 7, 1), D(2021, 7, 7)),
                last=D(2021, 7, 7),
            ),
        ),
        (
            "lanzhou",
            {"released_elsewhere": True, "can_stay_home": False},
            D(2021, 7, 1),
            Schedule(
                start=D(2021, 7, 1),
                phases=(ScheduledPhase(C, D(2021, 7, 1), D(2021, 7, 7)),),
                tests=(D(2021, 7, 1), D(2021, 7, 7)),
                last=D(2021, 7, 7),
            ),
        ),
        (
            "14+7",
            {"abroad": True},
            D(2021, 3, 1),
            Schedule(
                start=D(2021, 3, 1),
                phases=(
                    ScheduledPhase(C, D(2021, 3, 1), D(2021, 3, 14)),
                    ScheduledPhase(HM, D(2021, 3, 15), D(2021, 3, 21)),
                ),
                tests=(D(2021, 3, 1), D(2021, 3, 7), D(2021, 3, 14), D(2021, 3, 21)),
                last=D(2021, 3, 21),
            ),
        ),
        (
            # Across the new year.
            "qilin",
            {"abroad": True},
            D(2020, 12, 25),
            Schedule(
                start=D(2020, 12, 25),
                phases=(ScheduledPhase(C, D(2020, 12, 25), D(2021, 1, 7)),),
                tests=(D(2020, 12, 25), D(2020, 12, 31), D(2021, 1, 7)),
                last=D(2021, 1, 7),
            ),
        ),
        (
            # Across the end of February (2021: 28 days).
            "7+7",
            {"abroad": True},
            D(2021, 2, 25),
            Schedule(
                start=D(2021, 2, 25),
                phases=(
                    ScheduledPhase(C, D(2021, 2, 25), D(2021, 3, 3)),
                    ScheduledPhase(HM, D(2021, 3, 4), D(2021, 3, 10)),
                ),
                tests=(D(2021, 2, 25), D(2021, 3, 3), D(2021, 3, 10)),
                last=D(2021, 3, 10),
            ),
        ),
        (
            "14+14+2+1",
            {"abroad": True},
            D(2020, 10, 14),
            Schedule(
                start=D(2020, 10, 14),
                phases=(
                    ScheduledPhase(C, D(2020, 10, 14), D(2020, 10, 27)),
                    ScheduledPhase(HI, D(2020, 10, 28), D(2020, 11, 10)),
                ),
                tests=(D(2020, 10, 14), D(2020, 10, 27)),
                last=D(2020, 11, 10),
            ),
        ),
    ],
)
def test_schedules(preset: str, changes: dict[str, Any], start: date, expected: Schedule) -> None:
    assert load_policy(preset).plan_for(arrival(**changes)).plan.schedule(start) == expected


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (D(2021, 2, 28), None),
        (D(2021, 3, 1), C),
        (D(2021, 3, 14), C),
        (D(2021, 3, 15), HM),
        (D(2021, 3, 21), HM),
        (D(2021, 3, 22), None),
    ],
)
def test_phase_on_a_day(day: date, kind: str | None) -> None:
    schedule = load_policy("14+7").plan_for(arrival(abroad=True)).plan.schedule(D(2021, 3, 1))
    phase = schedule.phase_on(day)
    assert (phase.kind if phase else None) == kind


# ---------------------------------------------------------------- bad files

# A valid file; each error row below changes one piece of it.  Its lines:
GOOD = """\
name: test
window_days: 14
plans:
  home_7:
    phases:
      - {kind: home_monitoring, days: 7}
    tests: [1, 7]
    negatives_to_release: 2
  centralised_14:
    phases: [{kind: centralised, days: 14}]
    tests: [1, 7, 14]
    negatives_to_release: 3
    alert: true
rules:
  - when: {risk: [high]}
    plan: centralised_14
  - when: [{abroad: true, released_elsewhere: true}, {health_code: [yellow]}]
    plan: home_7
  - otherwise: home_7
"""


def test_the_good_file_is_good(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    policy = load_policy(str(path))
    assert [rule.line for rule in policy.rules] == [15, 17, 19]
    facts = arrival(abroad=True, released_elsewhere=True)
    assert policy.plan_for(facts).reason == "abroad=true,released_elsewhere=true"
    assert policy.plans["home_7"].alert is False


BAD_FILES = [
    # unknown keys, at every level
    ("window_days: 14", "window_days: 14\ncolour: red", 3, "unknown key 'colour' in the policy"),
    ("    tests: [1, 7]\n", "    test: [1, 7]\n", 7, "unknown key 'test' in plan 'home_7'"),
    ("days: 7}", "days: 7, hours: 2}", 6, "unknown key 'hours' in a phase"),
    ("{risk: [high]}", "{risk: [high], age: [old]}", 15, "unknown condition key 'age'"),
    ("    plan: centralised_14", "    then: centralised_14", 16, "unknown key 'then' in rule 1"),
    ("  - otherwise: home_7", "  - otherwise: home_7\n    when: {}", 20, "unknown key 'when'"),
    # wrong types
    ("days: 7}", "days: seven}", 6, "days must be a whole number, not 'seven'"),
    ("days: 7}", "days: 7.5}", 6, "days must be a whole number"),
    ("days: 7}", "days: '7'}", 6, "days must be a whole number"),
    ("tests: [1, 7]", "tests: 7", 7, "tests of plan 'home_7' must be a list"),
    ("abroad: true", "abroad: maybe", 17, "abroad must be true or false, not 'maybe'"),
    ("{risk: [high]}", "{risk: high}", 15, "risk must be a list"),
    ("    alert: true", "    alert: [yes]", 13, "alert must be true or false, not a list"),
    ("window_days: 14", "window_days: two weeks", 2, "window_days must be a whole number"),
    ("window_days: 14", "window_days: 0", 2, "window_days must be at least 1"),
    ("name: test", "name: [a, b]", 1, "name must be text"),
    ("  home_7:\n", "  home_7: 7\n  home_8:\n", 4, "plan 'home_7' must be a mapping"),
    # missing pieces
    ("name: test\n", "", 1, "the policy has no 'name'"),
    # an empty value is reported on its key's line
    ("      - {kind: home_monitoring, days: 7}\n", "", 5, "phases of plan 'home_7' must be a list"),
    (
        "    phases:\n      - {kind: home_monitoring, days: 7}\n",
        "",
        4,
        "plan 'home_7' has no 'phases'",
    ),
    ("phases: [{kind: centralised, days: 14}]", "phases: []", 10, "has no phases"),
    (
        "{kind: centralised, days: 14}",
        "{kind: centralised}",
        10,
        "a phase of plan 'centralised_14' has no 'days'",
    ),
    ("  - when: {risk: [high]}\n    plan:", "  - plan:", 15, "rule 1 has no 'when'"),
    ("{risk: [high]}", "[]", 15, "`when` of rule 1 is an empty list"),
    ("{risk: [high]}", "{}", 15, "a condition of rule 1 is empty"),
    ("{risk: [high]}", "{risk: []}", 15, "risk is an empty list"),
    # references and values
    ("    plan: home_7", "    plan: home_8", 18, "rule 2 refers to unknown plan 'home_8'"),
    ("otherwise: home_7", "otherwise: nowhere", 19, "rule 3 refers to unknown plan 'nowhere'"),
    ("kind: centralised", "kind: hotel", 10, "phase kind 'hotel' is not one of centralised"),
    ("days: 14}", "days: 0}", 10, "days of a phase must be at least 1, not 0"),
    ("days: 14}", "days: -3}", 10, "days of a phase must be at least 1, not -3"),
    (
        "tests: [1, 7, 14]",
        "tests: [1, 7, 15]",
        11,
        "test day 15 of plan 'centralised_14' is outside its days 1-14",
    ),
    ("tests: [1, 7, 14]", "tests: [0, 7]", 11, "test day 0 of plan 'centralised_14' is outside"),
    ("tests: [1, 7, 14]", "tests: [7, 1, 14]", 11, "must increase (1 after 7)"),
    ("tests: [1, 7, 14]", "tests: [1, 7, 7]", 11, "must increase (7 after 7)"),
    (
        "negatives_to_release: 3",
        "negatives_to_release: 4",
        12,
        "negatives_to_release of plan 'centralised_14' is 4 but the plan has 3 tests",
    ),
    ("negatives_to_release: 3", "negatives_to_release: -1", 12, "is -1 but"),
    ("    alert: true", "    antibody_tests: -1", 13, "antibody_tests must be 0 or more"),
    (
        "    alert: true",
        "    refer_to_clinic: true\n    alert: false",
        14,
        "refers to the clinic, so alert must be true",
    ),
    (
        "risk: [high]",
        "risk: [high, severe]",
        15,
        "unknown risk level 'severe' (known: high, medium, low, none)",
    ),
    ("risk: [high]", "risk: [null]", 15, "unknown risk level 'null'"),
    ("health_code: [yellow]", "health_code: [purple]", 17, "unknown health code 'purple'"),
    # the order of rules
    (
        "  - otherwise: home_7\n",
        "  - when: {symptoms: true}\n    plan: home_7\n",
        19,
        "the last rule must be `otherwise: PLAN`",
    ),
    (
        "  - otherwise: home_7\n",
        "  - otherwise: home_7\n  - when: {symptoms: true}\n    plan: home_7\n",
        20,
        "rule 4 comes after `otherwise`",
    ),
    (
        "  - otherwise: home_7\n",
        "  - otherwise: home_7\n  - otherwise: home_7\n",
        20,
        "rule 4 comes after `otherwise`",
    ),
    # duplicates
    (
        "    negatives_to_release: 2\n",
        "    negatives_to_release: 2\n    tests: [1]\n",
        9,
        "duplicate key 'tests' in plan 'home_7'",
    ),
    ("  centralised_14:\n", "  home_7:\n", 9, "duplicate key 'home_7' in plans"),
    # YAML syntax, reported where PyYAML notices it
    ("days: 7}", "days: 7", 7, "YAML syntax error: expected ',' or '}'"),
    ("tests: [1, 7]", "tests: [1, 7]]", 7, "YAML syntax error"),
    ("    tests: [1, 7]", "\ttests: [1, 7]", 7, "YAML syntax error: found character '\\t'"),
    (
        "name: test",
        "name: test\n  indented: x",
        2,
        "YAML syntax error: mapping values are not allowed",
    ),
    ("otherwise: home_7\n", "otherwise: home_7\n---\nname: again\n", 20, "YAML syntax error"),
    ("name: test", "name: *anchor", 1, "found undefined alias 'anchor'"),
    ("name: test", "name: test\x07", 1, "character #x0007 is not allowed"),
]


@pytest.mark.parametrize(
    ("old", "new", "line", "problem"),
    BAD_FILES,
    ids=[f"line {row[2]}: {row[3]}" for row in BAD_FILES],
)
def test_bad_files(tmp_path: Path, old: str, new: str, line: int, problem: str) -> None:
    assert GOOD.count(old) == 1, "the row must change exactly one place"
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: line {line}: "), message
    assert problem in message, message
    assert "\n" not in message
    assert (caught.value.source, caught.value.line) == (str(path), line)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", 1, "the file is empty"),
        ("# nothing but a comment\n", 1, "the file is empty"),
        ("- a\n- b\n", 1, "the policy must be a mapping"),
        ("just words\n", 1, "the policy must be a mapping"),
        ("name: x\nplans: {}\nrules: []\n", 2, "plans must be a mapping of plan names to plans"),
        (
            "name: x\nplans:\n  p:\n    phases: [{kind: centralised, days: 1}]\nrules: []\n",
            5,
            "rules is empty",
        ),
        (
            "name: x\nplans:\n  p:\n    phases: [{kind: centralised, days: 1}]\nrules: {a: b}\n",
            5,
            "rules must be a list",
        ),
        (
            "name: x\nplans:\n  p:\n    phases: [{kind: centralised, days: 1}]\nrules:\n  - p\n",
            6,
            "rule 1 must be a mapping",
        ),
    ],
)
def test_bad_whole_files(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=f"^{path}: line {line}: .*{problem}"):
        load_policy(str(path))


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"name: x\n# \xb0\xb2\xc8\xab\n")  # GB2312, not UTF-8
    with pytest.raises(PolicyError, match=f"^{path}: line 2: not UTF-8 text$"):
        load_policy(str(path))


def test_a_missing_file_or_unknown_preset(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"cannot read the file .* presets: jiayuguan, qilin"):
        load_policy(str(tmp_path / "nowhere.yaml"))
    with pytest.raises(PolicyError, match=r"^shanghai: cannot read the file"):
        load_policy("shanghai")


def test_nesting_too_deep_is_an_error_not_a_crash() -> None:
    with pytest.raises(PolicyError, match="nested too deeply"):
        parse_policy("a: " + "[" * 5000, "deep.yaml")


def test_optional_keys_take_their_defaults() -> None:
    policy = parse_policy(
        "name: minimal\n"
        "plans:\n"
        "  watch:\n"
        "    phases: [{kind: self_monitoring, days: 3}]\n"
        "    tests: [1, 3]\n"
        "  clinic:\n"
        "    phases: [{kind: centralised, days: 1}]\n"
        "    refer_to_clinic: true\n"
        "rules:\n"
        "  - when: {symptoms: true}\n"
        "    plan: clinic\n"
        "  - otherwise: watch\n",
        "minimal.yaml",
    )
    assert (policy.description, policy.window_days, policy.source) == ("", 14, "minimal.yaml")
    watch, clinic = policy.plans["watch"], policy.plans["clinic"]
    assert (watch.negatives_to_release, watch.refer_to_clinic, watch.alert) == (2, False, False)
    assert (clinic.tests, clinic.negatives_to_release, clinic.alert) == ((), 0, True)
    assert watch.antibody_tests == 0


def test_names_and_plan_keys_are_read_as_written() -> None:
    policy = parse_policy(
        "name: 14+7\nplans:\n  14:\n    phases: [{kind: centralised, days: 14}]\n"
        "rules:\n  - otherwise: 14\n"
    )
    assert policy.name == "14+7"
    assert policy.plan_for(arrival()).plan.key == "14"
