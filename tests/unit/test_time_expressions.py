"""Clinical time expressions: what the finder takes, what it leaves (PHI dates, ages, frequencies), its
span rules and speed, and the DetectEntitiesV2 TIME_EXPRESSION types."""

from __future__ import annotations

import time

import pytest

from healthchat.adapters.local import medical_context as ctx
from healthchat.adapters.local.time_expressions import (
    TIME_RELATIONSHIP,
    find_time_expressions,
    relationship_type,
)


def _found(text: str) -> list[str]:
    return [text[b:e] for b, e in find_time_expressions(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Chest pain started 3 days ago.", ["3 days ago"]),
        ("Cough for 2 weeks, worse for the past 3 days.", ["for 2 weeks", "for the past 3 days"]),
        ("atorvastatin 40mg daily x 3 months", ["x 3 months"]),
        ("amoxicillin 500 mg TID x7d", ["x7d"]),
        ("Type 2 diabetes since 2019.", ["since 2019"]),
        ("Took ibuprofen last night and again this morning.", ["last night", "this morning"]),
        ("Fever yesterday, better today, recheck tonight.", ["yesterday", "today", "tonight"]),
        (
            "Return in 6 weeks; repeat A1c in 3 months; colonoscopy next year.",
            ["in 6 weeks", "in 3 months", "next year"],
        ),
        ("Appendectomy two years ago.", ["two years ago"]),
        ("Weight loss over the last month.", ["over the last month"]),
        ("Febrile on postoperative day 2; POD #3 afebrile.", ["postoperative day 2", "POD #3"]),
        ("Hypotensive on admission, normotensive at discharge.", ["on admission", "at discharge"]),
        ("Rash began 1 week prior.", ["1 week prior"]),
        ("Headache a few days ago; syncope a week ago.", ["a few days ago", "a week ago"]),
        ("A 3-day history of fever and 2-3 weeks of cough.", ["3-day", "2-3 weeks"]),
        ("Diagnosed in March 2019, stable since childhood.", ["in March 2019", "since childhood"]),
        (
            "Symptoms 2 days prior to admission; none on the day of admission.",
            ["2 days prior to admission", "on the day of admission"],
        ),
        ("Given at 8 pm and within 24 hours.", ["at 8 pm", "within 24 hours"]),
    ],
)
def test_finds_clinical_time_expressions(text: str, expected: list[str]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Seen 03/14/2024 and on March 14, 2024; DOB 1961-03-14.",  # PHI DATE, not ours
        "63-year-old woman, 45 years old, 50 years of age.",  # PHI AGE
        "Take every 6 hours, q 4 hours, twice a day, once a day, 2 times per day.",  # FREQUENCY
        "Results in 10 patients may improve in may.",  # "may" is not the month
        "metformin 500 mg PO BID",
    ],
)
def test_leaves_dates_ages_and_frequencies_alone(text: str) -> None:
    assert _found(text) == []


def test_never_overlaps_a_phi_date_or_age() -> None:
    text = (
        "Admitted 03/14/2024 with pain since 2019-03-14, seen on March 14, 2024 and 2 weeks later; "
        "a 60-year-old, over 60 years old, since 2019."
    )
    phi = [m.span() for kind, p in ctx.PHI_PATTERNS if kind in ("DATE", "AGE") for m in p.finditer(text)]
    spans = find_time_expressions(text)
    assert [text[b:e] for b, e in spans] == ["2 weeks later", "since 2019"]
    assert not [(s, p) for s in spans for p in phi if s[0] < p[1] and p[0] < s[1]]


def test_spans_are_sorted_non_overlapping_and_trimmed() -> None:
    text = "x 3 months. For the past 2 weeks, 3 days ago; in 6 weeks and\nyesterday evening. " * 50
    spans = find_time_expressions(text)
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert all(text[b:e] == text[b:e].strip() and e > b for b, e in spans)
    assert _found(text)[:5] == [
        "x 3 months",
        "For the past 2 weeks",
        "3 days ago",
        "in 6 weeks",
        "yesterday evening",
    ]


def test_runs_above_a_million_characters_a_second_over_prose() -> None:
    prose = (
        "The patient is a pleasant woman who presents with intermittent chest pain radiating to the left "
        "arm. She reports shortness of breath on exertion and denies nausea, vomiting or diaphoresis. Her "
        "medications include metformin 500 mg twice daily and lisinopril 10 mg daily, started 3 days ago. "
        "Physical examination shows a regular rhythm without murmurs; the abdomen is soft and non-tender. "
    ) * 2500
    find_time_expressions(prose[:1000])  # warm the compiled pattern
    started = time.perf_counter()
    spans = find_time_expressions(prose)
    rate = len(prose) / (time.perf_counter() - started)
    assert len(spans) == 2500
    assert rate > 1_000_000, f"{rate:,.0f} chars/s"


@pytest.mark.parametrize(
    ("category", "kind", "expected"),
    [
        ("MEDICATION", "GENERIC_NAME", "TIME_TO_MEDICATION_NAME"),
        ("MEDICATION", "BRAND_NAME", "TIME_TO_MEDICATION_NAME"),
        ("MEDICAL_CONDITION", "DX_NAME", "TIME_TO_DX_NAME"),
        ("TEST_TREATMENT_PROCEDURE", "TEST_NAME", "TIME_TO_TEST_NAME"),
        ("TEST_TREATMENT_PROCEDURE", "PROCEDURE_NAME", "TIME_TO_PROCEDURE_NAME"),
        ("TEST_TREATMENT_PROCEDURE", "TREATMENT_NAME", "TIME_TO_TREATMENT_NAME"),
    ],
)
def test_relationship_type_names_the_time_expression_type(category: str, kind: str, expected: str) -> None:
    assert relationship_type(category, kind) == expected
    assert TIME_RELATIONSHIP == "OVERLAP"


@pytest.mark.parametrize(
    ("category", "kind"),
    [("ANATOMY", "SYSTEM_ORGAN_SITE"), ("PROTECTED_HEALTH_INFORMATION", "DATE"), ("MEDICATION", "DOSAGE")],
)
def test_relationship_type_rejects_entities_without_a_time_relation(category: str, kind: str) -> None:
    with pytest.raises(ValueError, match=kind):
        relationship_type(category, kind)
