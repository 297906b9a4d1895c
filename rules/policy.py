"""Monitoring policy as data, and the classifier that applies it.

Which monitoring plan an arriving person gets is local policy: it differs by city and
changes with the dates, so it lives in YAML files (``rules/presets/*.yaml`` or the
operator's own file), not in code.  A file names the plans it uses and an ordered table
of rules; ``Policy.plan_for`` walks the table and the first rule whose condition holds
gives the plan.

Day numbering
-------------
Day 1 is the day the plan starts (the arrival day, or the day the plan is started).
Phases run one after another: a plan ``[centralised 14, home_monitoring 7]`` is
centralised on days 1-14 and at home on days 15-21.  Test days count from the plan's
start across all phases.  ``Plan.schedule(date(2021, 7, 1))`` of a 7-day phase runs
1 July to 7 July, and tests on day 1 and day 7 fall on 1 and 7 July.  The plan's last
day is its last day of monitoring; release comes after it, once
``negatives_to_release`` tests were negative.

File format
-----------
::

    name: lanzhou                 # required, text
    description: "兰州: ..."      # optional free text, shown to admins only
    window_days: 14               # optional (default 14): travel-history window in days
    checkin_window: ["06:00", "22:00"]  # optional (this default): the earliest and latest
                                  # daily check-in time a resident may choose with /time
    plans:                        # required, at least one
      home_monitoring_7:          # the plan's key, referred to by rules
        phases:                   # required, at least one, run one after another
          - {kind: home_monitoring, days: 7}
        tests: [1, 7]             # optional (default none): increasing days, 1..total days
        negatives_to_release: 2   # optional (default: the number of tests), 0..number of tests
        refer_to_clinic: false    # optional (default false): to the fever clinic at once
        alert: false              # optional (default: refer_to_clinic): alert the grid worker
        antibody_tests: 0         # optional (default 0): serum antibody tests, by count
        temperature_reading: false  # optional (default false): every check-in asks the
                                  # temperature (the one-tap "all well" does not replace it)
    rules:                        # required; first match wins
      - when: {symptoms: true}
        plan: refer_clinic
      - when:                     # a list: any one of the conditions is enough
          - {risk: [high]}
          - {abroad: true, released_elsewhere: false}
        plan: centralised_14
      - otherwise: self_monitoring_14   # required, and only as the last rule

Phase kinds: ``centralised`` (集中隔离 / 集中医学观察), ``home_isolation`` (居家隔离),
``home_monitoring`` (居家健康监测), ``self_monitoring`` (自我健康监测, personal protection).
``refer_to_clinic: true`` needs ``alert: true``.  Plans no rule refers to are allowed (a
file may keep alternatives at hand).

Conditions
----------
A condition is a mapping; it holds when every key in it holds.  ``when`` is one
condition, or a list of conditions of which at least one must hold.  Keys:

* ``abroad``, ``close_contact``, ``contact_of_contact``, ``released_elsewhere``,
  ``symptoms``, ``can_stay_home``: ``true`` or ``false``; holds when the fact equals it.
* ``risk``: a list of ``high``, ``medium``, ``low``, ``none``; holds when the highest
  risk of origin and travel history (``Facts.risk``) is in it (``none``: neither is a
  listed risk area).
* ``health_code``: a list of ``green``, ``yellow``, ``red``, ``none`` (``none``: no code).

The ``reason`` of a decision names the matched condition's keys in the file's order with
the person's values, e.g. ``risk=high`` or ``abroad=true,released_elsewhere=false``;
``otherwise`` for the final rule.

Errors
------
A file with any error raises ``PolicyError`` (a ``ValueError``) with a one-line message
``<file>: line <n>: <what is wrong>``; the first error found is reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Final, NoReturn

import yaml

__all__ = [
    "CONDITION_KEYS",
    "HEALTH_CODES",
    "PHASE_KINDS",
    "PRESETS",
    "PRESET_DIR",
    "RISK_LEVELS",
    "Clause",
    "Condition",
    "ConditionKey",
    "Decision",
    "Facts",
    "Phase",
    "Plan",
    "Policy",
    "PolicyError",
    "Rule",
    "Schedule",
    "ScheduledPhase",
    "highest_risk",
    "load_policy",
    "parse_policy",
]

RISK_LEVELS: Final = ("high", "medium", "low")  # highest first
HEALTH_CODES: Final = ("green", "yellow", "red")
PHASE_KINDS: Final = ("centralised", "home_isolation", "home_monitoring", "self_monitoring")
PRESETS: Final = ("jiayuguan", "qilin", "lanzhou", "14+7", "7+7", "14+2", "14+14+2+1")
PRESET_DIR: Final = Path(__file__).parent / "presets"
DEFAULT_WINDOW_DAYS: Final = 14
DEFAULT_CHECKIN_WINDOW: Final = (time(6, 0), time(22, 0))

# How a fact that is absent (no listed risk area, no health code) is written in a file.
NONE: Final = "none"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message is one line naming file and line."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        # One line, whatever PyYAML's problem text holds.
        self.problem = " ".join(problem.split())
        where = f"{source}: line {line}" if line is not None else source
        super().__init__(f"{where}: {self.problem}")


# --------------------------------------------------------------------------- facts


def highest_risk(*levels: str | None) -> str | None:
    """The highest of some risk levels (``None``: not a listed risk area)."""
    for level in RISK_LEVELS:
        if level in levels:
            return level
    return None


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What is known about an arriving person, as the rules look at it."""

    abroad: bool  # from outside the mainland, incl. HK/MO/TW arrivals through entry ports
    origin_risk: str | None  # "high" | "medium" | "low" | None (not a listed risk area)
    history_risk: str | None  # highest among places in the travel history within the window
    close_contact: bool = False  # 密接
    contact_of_contact: bool = False  # 次密接
    released_elsewhere: bool = False  # released from centralised quarantine elsewhere
    health_code: str | None  # "green" | "yellow" | "red" | None (no code)
    symptoms: bool  # symptoms, or fever ≥ 37.3 °C, at arrival
    can_stay_home: bool = True  # the home is fit for home isolation / monitoring

    def __post_init__(self) -> None:
        # Bad values here are a caller's bug, not a policy file's: fail loudly.
        for name, value in (("origin_risk", self.origin_risk), ("history_risk", self.history_risk)):
            if value is not None and value not in RISK_LEVELS:
                raise ValueError(f"{name} must be one of {RISK_LEVELS} or None, not {value!r}")
        if self.health_code is not None and self.health_code not in HEALTH_CODES:
            raise ValueError(f"health_code must be one of {HEALTH_CODES} or None")

    @property
    def risk(self) -> str | None:
        """The highest risk among origin and history: the one the rules look at."""
        return highest_risk(self.origin_risk, self.history_risk)


def _yes_no(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class ConditionKey:
    """A key a condition may use: the values it may name, and how to read it off Facts."""

    values: tuple[str, ...] | None  # None: a yes/no fact, written true/false in the file
    read: Callable[[Facts], str]  # the person's value, written as the file writes it


# The table of condition keys: parsing and matching both walk it, nothing else knows them.
CONDITION_KEYS: Final[Mapping[str, ConditionKey]] = MappingProxyType(
    {
        "abroad": ConditionKey(None, lambda facts: _yes_no(facts.abroad)),
        "risk": ConditionKey((*RISK_LEVELS, NONE), lambda facts: facts.risk or NONE),
        "close_contact": ConditionKey(None, lambda facts: _yes_no(facts.close_contact)),
        "contact_of_contact": ConditionKey(None, lambda facts: _yes_no(facts.contact_of_contact)),
        "released_elsewhere": ConditionKey(None, lambda facts: _yes_no(facts.released_elsewhere)),
        "health_code": ConditionKey((*HEALTH_CODES, NONE), lambda f: f.health_code or NONE),
        "symptoms": ConditionKey(None, lambda facts: _yes_no(facts.symptoms)),
        "can_stay_home": ConditionKey(None, lambda facts: _yes_no(facts.can_stay_home)),
    }
)


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class Phase:
    kind: str  # one of PHASE_KINDS
    days: int


@dataclass(frozen=True)
class ScheduledPhase:
    kind: str
    first: date
    last: date  # inclusive


@dataclass(frozen=True)
class Schedule:
    """A plan laid on the calendar: all dates inclusive, day 1 = ``start``."""

    start: date
    phases: tuple[ScheduledPhase, ...]
    tests: tuple[date, ...]
    last: date  # the plan's last day of monitoring, inclusive

    def phase_on(self, day: date) -> ScheduledPhase | None:
        """The phase the person is in on ``day``; None before the start or after the end."""
        for phase in self.phases:
            if phase.first <= day <= phase.last:
                return phase
        return None


@dataclass(frozen=True)
class Plan:
    """What happens to a person: phases one after another, tests, release condition."""

    key: str
    phases: tuple[Phase, ...]
    tests: tuple[int, ...]  # days from the plan's start, day 1 = the start day
    negatives_to_release: int
    refer_to_clinic: bool = False
    alert: bool = False
    antibody_tests: int = 0
    # Every check-in asks for a temperature reading (one tap "all well" is not enough).
    temperature_reading: bool = False

    @property
    def total_days(self) -> int:
        return sum(phase.days for phase in self.phases)

    def schedule(self, start: date) -> Schedule:
        """Concrete dates when the plan starts on ``start`` (day 1)."""
        phases = []
        first = start
        for phase in self.phases:
            last = first + timedelta(days=phase.days - 1)
            phases.append(ScheduledPhase(phase.kind, first, last))
            first = last + timedelta(days=1)
        return Schedule(
            start=start,
            phases=tuple(phases),
            tests=tuple(start + timedelta(days=day - 1) for day in self.tests),
            last=start + timedelta(days=self.total_days - 1),
        )


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Clause:
    """One key of a condition: the person's value for ``key`` must be in ``accepts``."""

    key: str
    accepts: frozenset[str]

    def value(self, facts: Facts) -> str:
        return CONDITION_KEYS[self.key].read(facts)


Condition = tuple[Clause, ...]  # holds when every clause holds


@dataclass(frozen=True)
class Rule:
    conditions: tuple[Condition, ...]  # any one is enough; () for the final `otherwise`
    plan: Plan
    line: int  # where the rule starts in its file, for explanations to admins

    @property
    def otherwise(self) -> bool:
        return not self.conditions

    def match(self, facts: Facts) -> str | None:
        """The reason if the rule applies to ``facts``, else None."""
        if self.otherwise:
            return "otherwise"
        for condition in self.conditions:
            values = [clause.value(facts) for clause in condition]
            if all(
                value in clause.accepts for clause, value in zip(condition, values, strict=True)
            ):
                return ",".join(
                    f"{c.key}={value}" for c, value in zip(condition, values, strict=True)
                )
        return None


@dataclass(frozen=True)
class Decision:
    plan: Plan
    rule: int  # index into Policy.rules, from 0
    reason: str  # e.g. "risk=high", "symptoms=true", "otherwise"


@dataclass(frozen=True, eq=False)
class Policy:
    name: str
    description: str
    window_days: int  # how far back the travel history counts
    plans: Mapping[str, Plan]
    rules: tuple[Rule, ...]  # the last is the `otherwise` rule
    source: str  # the file it was read from
    # The earliest and latest daily check-in time a resident may choose (/time).
    checkin_window: tuple[time, time] = (time(6, 0), time(22, 0))

    def plan_for(self, facts: Facts) -> Decision:
        """The plan of the first rule that applies to ``facts``."""
        for index, rule in enumerate(self.rules):
            reason = rule.match(facts)
            if reason is not None:
                return Decision(rule.plan, index, reason)
        # Parsing guarantees a final `otherwise`; this is only reached by a hand-built Policy.
        raise ValueError(f"{self.source}: no rule applies and there is no `otherwise`")


# --------------------------------------------------------------------------- loading


def load_policy(name_or_path: str) -> Policy:
    """A preset by name (see ``PRESETS``) or a policy file by path."""
    path = PRESET_DIR / f"{name_or_path}.yaml" if name_or_path in PRESETS else Path(name_or_path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PolicyError(
            str(path),
            None,
            f"cannot read the file ({error.strerror or error}); presets: {', '.join(PRESETS)}",
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise PolicyError(str(path), line, "not UTF-8 text") from None
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """A policy from the text of a file; ``source`` names it in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "cannot be read"
        if error.problem and error.context:
            # "while parsing a flow mapping" and where it began: often where the mistake is.
            started = error.context_mark
            problem += f" ({error.context}" + (f" at line {started.line + 1})" if started else ")")
        raise PolicyError(
            source, mark.line + 1 if mark else None, f"YAML syntax error: {problem}"
        ) from None
    except yaml.reader.ReaderError as error:  # a control character, a bad code point
        line = text[: error.position].count("\n") + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        raise PolicyError(source, line, f"character #x{code:04x} is not allowed in YAML") from None
    except yaml.YAMLError as error:
        raise PolicyError(source, None, f"YAML error: {error}") from None
    except RecursionError:
        raise PolicyError(source, None, "YAML nested too deeply") from None
    if root is None:
        raise PolicyError(source, 1, "the file is empty")
    return _Reader(source).policy(root)


_TOP_KEYS = {
    "name": True,
    "description": False,
    "window_days": False,
    "checkin_window": False,
    "plans": True,
    "rules": True,
}
_PLAN_KEYS = {
    "phases": True,
    "tests": False,
    "negatives_to_release": False,
    "refer_to_clinic": False,
    "alert": False,
    "antibody_tests": False,
    "temperature_reading": False,
}
_PHASE_KEYS = {"kind": True, "days": True}
_INT_TAG = "tag:yaml.org,2002:int"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_BOOLS: Final[Mapping[str, bool]] = yaml.SafeLoader.bool_values


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class _Reader:
    """Turns a composed YAML tree into a Policy, failing with the node's line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node, problem: str) -> NoReturn:
        raise PolicyError(self.source, _line(node), problem)

    # ---- shapes

    def mapping(
        self, node: yaml.Node, what: str, keys: Mapping[str, bool], owner: yaml.Node | None = None
    ) -> dict[str, yaml.Node]:
        """The values of a mapping by key; ``keys`` says which are allowed and required.

        A missing key is reported at ``owner`` (the key naming the mapping, e.g. a plan's
        name) if given: a block mapping itself starts at its first key, a line too late.
        """
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping with keys {', '.join(keys)}")
        values: dict[str, yaml.Node] = {}
        for key_node, key, value in self.pairs(node, what):
            if key not in keys:
                self.fail(key_node, f"unknown key {key!r} in {what} (known: {', '.join(keys)})")
            values[key] = value
        for key, required in keys.items():
            if required and key not in values:
                self.fail(owner or node, f"{what} has no {key!r}")
        return values

    def pairs(
        self, node: yaml.MappingNode, what: str
    ) -> Iterator[tuple[yaml.Node, str, yaml.Node]]:
        """A mapping's key nodes, keys and values in file order; keys appear once."""
        seen: set[str] = set()
        for key_node, value in node.value:
            # Any scalar, as written: a plan may well be called 14 or 14+7.
            if not isinstance(key_node, yaml.ScalarNode) or not str(key_node.value).strip():
                self.fail(key_node, f"keys in {what} must be names")
            key = str(key_node.value)
            if key in seen:
                self.fail(key_node, f"duplicate key {key!r} in {what}")
            seen.add(key)
            yield key_node, key, value

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list")
        return list(node.value)

    # ---- scalars

    def text(self, node: yaml.Node, what: str) -> str:
        # Free text and names: any scalar, as written (a name such as 14+7 or 7 is fine).
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            self.fail(node, f"{what} must be text")
        return str(node.value)

    def integer(self, node: yaml.Node, what: str) -> int:
        if (
            not isinstance(node, yaml.ScalarNode)
            or node.tag != _INT_TAG
            or not _DECIMAL.fullmatch(node.value)
        ):
            self.fail(node, f"{what} must be a whole number, not {self.shown(node)}")
        return int(node.value)

    def boolean(self, node: yaml.Node, what: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _BOOL_TAG:
            self.fail(node, f"{what} must be true or false, not {self.shown(node)}")
        return _BOOLS[str(node.value).lower()]

    def shown(self, node: yaml.Node) -> str:
        if isinstance(node, yaml.ScalarNode):
            return repr(node.value) if node.value else "nothing"
        return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"

    # ---- the policy

    def policy(self, root: yaml.Node) -> Policy:
        top = self.mapping(root, "the policy", _TOP_KEYS)
        window = DEFAULT_WINDOW_DAYS
        if "window_days" in top:
            window = self.integer(top["window_days"], "window_days")
            if window < 1:
                self.fail(top["window_days"], f"window_days must be at least 1, not {window}")
        description = ""
        if "description" in top and not (
            isinstance(top["description"], yaml.ScalarNode) and top["description"].value == ""
        ):
            description = self.text(top["description"], "description")
        plans = self.plans(top["plans"])
        checkin_window = DEFAULT_CHECKIN_WINDOW
        if "checkin_window" in top:
            checkin_window = self.checkin_window(top["checkin_window"])
        return Policy(
            name=self.text(top["name"], "name").strip(),
            description=description,
            window_days=window,
            checkin_window=checkin_window,
            plans=MappingProxyType(plans),
            rules=self.rules(top["rules"], plans),
            source=self.source,
        )

    def checkin_window(self, node: yaml.Node) -> tuple[time, time]:
        what = 'checkin_window must be two times of day, e.g. ["06:00", "22:00"]'
        items = self.sequence(node, "checkin_window")
        if len(items) != 2:
            self.fail(node, what)
        found: list[time] = []
        for item in items:
            if not isinstance(item, yaml.ScalarNode):
                self.fail(item, what)
            try:
                found.append(time.fromisoformat(str(item.value)))
            except ValueError:
                self.fail(item, what)
        if found[0] >= found[1]:
            self.fail(node, "checkin_window: the earliest time must come before the latest")
        return found[0], found[1]

    def plans(self, node: yaml.Node) -> dict[str, Plan]:
        if not isinstance(node, yaml.MappingNode) or not node.value:
            self.fail(node, "plans must be a mapping of plan names to plans, with at least one")
        return {
            key: self.plan(key_node, key, value)
            for key_node, key, value in self.pairs(node, "plans")
        }

    def plan(self, key_node: yaml.Node, key: str, node: yaml.Node) -> Plan:
        what = f"plan {key!r}"
        fields = self.mapping(node, what, _PLAN_KEYS, owner=key_node)
        phase_nodes = self.sequence(fields["phases"], f"phases of {what}")
        if not phase_nodes:
            self.fail(fields["phases"], f"{what} has no phases")
        phases = tuple(self.phase(phase, what) for phase in phase_nodes)
        total = sum(phase.days for phase in phases)

        tests: list[int] = []
        for test_node in (
            self.sequence(fields["tests"], f"tests of {what}") if "tests" in fields else []
        ):
            day = self.integer(test_node, f"a test day of {what}")
            if not 1 <= day <= total:
                self.fail(test_node, f"test day {day} of {what} is outside its days 1-{total}")
            if tests and day <= tests[-1]:
                self.fail(test_node, f"test days of {what} must increase ({day} after {tests[-1]})")
            tests.append(day)

        negatives = len(tests)
        if "negatives_to_release" in fields:
            negatives = self.integer(fields["negatives_to_release"], "negatives_to_release")
            if not 0 <= negatives <= len(tests):
                self.fail(
                    fields["negatives_to_release"],
                    f"negatives_to_release of {what} is {negatives}"
                    f" but the plan has {len(tests)} tests",
                )

        refer = "refer_to_clinic" in fields and self.boolean(
            fields["refer_to_clinic"], "refer_to_clinic"
        )
        alert = self.boolean(fields["alert"], "alert") if "alert" in fields else refer
        if refer and not alert:
            # Someone sent to the fever clinic must never be a silent entry in a list.
            self.fail(fields["alert"], f"{what} refers to the clinic, so alert must be true")

        antibody = 0
        if "antibody_tests" in fields:
            antibody = self.integer(fields["antibody_tests"], "antibody_tests")
            if antibody < 0:
                self.fail(fields["antibody_tests"], "antibody_tests must be 0 or more")
        reading = "temperature_reading" in fields and self.boolean(
            fields["temperature_reading"], "temperature_reading"
        )
        return Plan(key, phases, tuple(tests), negatives, refer, alert, antibody, reading)

    def phase(self, node: yaml.Node, plan: str) -> Phase:
        fields = self.mapping(node, f"a phase of {plan}", _PHASE_KEYS)
        kind = self.text(fields["kind"], "kind")
        if kind not in PHASE_KINDS:
            self.fail(fields["kind"], f"phase kind {kind!r} is not one of {', '.join(PHASE_KINDS)}")
        days = self.integer(fields["days"], "days")
        if days < 1:
            self.fail(fields["days"], f"days of a phase must be at least 1, not {days}")
        return Phase(kind, days)

    def rules(self, node: yaml.Node, plans: Mapping[str, Plan]) -> tuple[Rule, ...]:
        rule_nodes = self.sequence(node, "rules")
        if not rule_nodes:
            self.fail(node, "rules is empty; the last rule must be `otherwise: PLAN`")
        rules: list[Rule] = []
        for number, rule_node in enumerate(rule_nodes, start=1):
            if rules and rules[-1].otherwise:
                self.fail(rule_node, f"rule {number} comes after `otherwise`, which must be last")
            rules.append(self.rule(rule_node, number, plans))
        if not rules[-1].otherwise:
            self.fail(rule_nodes[-1], "the last rule must be `otherwise: PLAN`")
        return tuple(rules)

    def rule(self, node: yaml.Node, number: int, plans: Mapping[str, Plan]) -> Rule:
        what = f"rule {number}"
        if not isinstance(node, yaml.MappingNode):
            self.fail(
                node, f"{what} must be a mapping: `when: ...` and `plan: ...`, or `otherwise`"
            )
        keys = [key for _, key, _ in self.pairs(node, what)]
        if "otherwise" in keys:
            fields = self.mapping(node, what, {"otherwise": True})
            return Rule((), self.plan_ref(fields["otherwise"], what, plans), _line(node))
        fields = self.mapping(node, what, {"when": True, "plan": True})
        return Rule(
            self.conditions(fields["when"], what),
            self.plan_ref(fields["plan"], what, plans),
            _line(node),
        )

    def plan_ref(self, node: yaml.Node, what: str, plans: Mapping[str, Plan]) -> Plan:
        key = self.text(node, f"the plan of {what}")
        if key not in plans:
            self.fail(node, f"{what} refers to unknown plan {key!r} (plans: {', '.join(plans)})")
        return plans[key]

    def conditions(self, node: yaml.Node, what: str) -> tuple[Condition, ...]:
        if isinstance(node, yaml.SequenceNode):
            if not node.value:
                self.fail(node, f"`when` of {what} is an empty list")
            return tuple(self.condition(item, what) for item in node.value)
        return (self.condition(node, what),)

    def condition(self, node: yaml.Node, what: str) -> Condition:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"a condition of {what} must be a mapping such as {{risk: [high]}}")
        if not node.value:
            self.fail(node, f"a condition of {what} is empty (use `otherwise` for a catch-all)")
        clauses = []
        for key_node, key, value in self.pairs(node, f"a condition of {what}"):
            spec = CONDITION_KEYS.get(key)
            if spec is None:
                known = ", ".join(CONDITION_KEYS)
                self.fail(key_node, f"unknown condition key {key!r} (known: {known})")
            clauses.append(Clause(key, self.accepted(value, key, spec)))
        return tuple(clauses)

    def accepted(self, node: yaml.Node, key: str, spec: ConditionKey) -> frozenset[str]:
        if spec.values is None:
            return frozenset({_yes_no(self.boolean(node, key))})
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{key} must be a list such as [{spec.values[0]}]")
        if not node.value:
            self.fail(node, f"{key} is an empty list, which never holds")
        accepted: set[str] = set()
        for item in node.value:
            if not (isinstance(item, yaml.ScalarNode) and item.value in spec.values):
                label = "risk level" if key == "risk" else key.replace("_", " ")
                known = ", ".join(spec.values)
                self.fail(item, f"unknown {label} {self.shown(item)} (known: {known})")
            accepted.add(str(item.value))
        return frozenset(accepted)
