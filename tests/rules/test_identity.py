"""Sex and age from an identity card number, and nothing from anything else."""

from __future__ import annotations

from datetime import date

from rules.identity import age_on, birth_and_sex


def test_birth_and_sex_from_the_number() -> None:
    assert birth_and_sex("11010519491231002X") == (date(1949, 12, 31), "female")
    assert birth_and_sex("110105201507010013") == (date(2015, 7, 1), "male")
    assert birth_and_sex("E12345678") == (None, None)
    assert birth_and_sex("110105194913310021") == (None, None)  # no 31st of the 13th month
    assert birth_and_sex(None) == (None, None)


def test_age_counts_whole_years() -> None:
    born = date(1949, 12, 31)
    assert age_on(born, date(2026, 12, 30)) == 76
    assert age_on(born, date(2026, 12, 31)) == 77
