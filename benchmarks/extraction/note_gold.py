"""Hand-made gold for the sample doctor note (scripts/make_samples.py): condition negation and medication
dose/frequency/route. Dev-side only: the extractor was written while looking at this note.

Offsets are found in the generated text by code (mention + occurrence), so no note text is copied here.
Allergy drugs carry ``negated=True``: the extractor's documented convention (not taking it).
"""

from __future__ import annotations

from scorer import Span

DOC = "doctor_note.txt"

# (mention, occurrence of that exact string in the note, negated)
CONDITIONS: list[tuple[str, int, bool]] = [
    ("type 2 diabetes", 0, False),
    ("type 2 diabetes mellitus", 0, False),
    ("hypertension", 0, False),
    ("hyperlipidemia", 0, False),
    ("fatigue", 0, False),
    ("tingling", 0, False),
    ("chest pain", 0, True),
    ("shortness of breath", 0, True),
    ("palpitations", 0, True),
    ("fainting", 0, True),
    ("polyuria", 0, True),
    ("polydipsia", 0, True),
    ("blurred vision", 0, True),
    ("low blood sugar", 0, True),
    ("Type 2 diabetes mellitus", 0, False),
    ("Essential hypertension", 0, False),
    ("Hyperlipidemia", 0, False),
    ("Iron deficiency anemia", 0, False),
    ("hives", 0, False),
    ("rash", 0, False),
    ("breast cancer", 0, False),
    ("myocardial infarction", 0, False),
    ("colon cancer", 0, True),
    ("fever", 0, True),
    ("weight loss", 0, True),
    ("cough", 0, True),
    ("abdominal pain", 0, True),
    ("dysuria", 0, True),
    ("murmurs", 0, True),
    ("ulcers", 0, True),
    ("Type 2 diabetes mellitus", 1, False),
    ("Peripheral neuropathy", 0, False),
    ("Hypertension", 0, False),
    ("Hyperlipidemia", 1, False),
    ("anemia", 1, False),
    ("fatty liver", 0, False),
    ("chest pain", 1, False),
    ("trouble breathing", 0, False),
]

# (mention, occurrence, negated, {dose, frequency, route})
MEDICATIONS: list[tuple[str, int, bool, dict[str, str]]] = [
    ("metformin", 0, False, {"dose": "500 mg", "route": "PO", "frequency": "BID"}),
    ("lisinopril", 0, False, {"dose": "10 mg", "frequency": "daily"}),
    ("atorvastatin", 0, False, {"dose": "20 mg", "route": "PO", "frequency": "nightly"}),
    ("aspirin", 0, False, {"dose": "81 mg", "route": "PO", "frequency": "daily"}),
    ("Penicillin", 0, True, {}),
    ("Sulfa drugs", 0, True, {}),
    ("metformin", 1, False, {"dose": "1000 mg", "route": "PO", "frequency": "BID"}),
    ("lisinopril", 1, False, {"dose": "20 mg", "frequency": "daily"}),
    ("atorvastatin", 1, False, {"dose": "40 mg", "route": "PO", "frequency": "nightly"}),
]


def _find(text: str, mention: str, occurrence: int) -> int:
    at = -1
    for _ in range(occurrence + 1):
        at = text.find(mention, at + 1)
        if at < 0:
            raise ValueError(f"note gold mention #{occurrence} of {mention!r} not in the sample note")
    return at


def note_gold(text: str) -> tuple[list[Span], list[Span]]:
    """(conditions, medications) as gold spans over the note ``text``."""
    conditions = [
        Span(DOC, (b := _find(text, m, k)), b + len(m), "MEDICAL_CONDITION", negated=neg)
        for m, k, neg in CONDITIONS
    ]
    meds = [
        Span(
            DOC, (b := _find(text, m, k)), b + len(m), "MEDICATION", negated=neg, attributes=tuple(a.items())
        )
        for m, k, neg, a in MEDICATIONS
    ]
    return conditions, meds
