"""What kind of thing a question asks for, beyond the names it mentions: medication changes, the plan and
follow-up, the flagged results, an organ's lab group, a typical range, or something the library cannot
answer (side effects); and the answer lines each kind is built from, quoting only cited text.

Hand-written patterns: the kinds are few and fixed, and each maps to a document part HealthChat already
knows (its sentences, section headers, lab flags, the typical-range table), so no classifier is needed.
"""

from __future__ import annotations

import re
from functools import lru_cache

from healthchat.domain.labs import lookup_test
from healthchat.domain.models import DocumentResult, LabResult, Medication
from healthchat.qa.facts import Fact, _doc_citation, _own_citation, norm
from healthchat.qa.text import document_passages, tokenize

# ---- medication changes ------------------------------------------------------------------------------

_CHANGE_QUESTION_RE = re.compile(
    r"\b(?:chang\w*|adjust\w*|increas\w*|decreas\w*|rais\w*|lower\w*|switch\w*|new (?:dose|med\w*)|"
    r"different dose|stopp?\w*|start\w*|dose changes?)\b",
    re.IGNORECASE,
)
_MED_QUESTION_RE = re.compile(r"\b(?:medications?|medicines?|meds|drugs|pills|prescriptions?|doses?)\b", re.I)
# a sentence that changes a medicine: the verb as an instruction or report ("Increase metformin to ...")
CHANGE_VERB_RE = re.compile(
    r"\b(?:increas|decreas|start|stop|switch|chang|hold|held|resum|continu|discontinu|reduc|tapered?|"
    r"titrat)\w*",
    re.IGNORECASE,
)


def asks_medication_change(question: str, meds: list[Medication]) -> bool:
    """ "Did the doctor change my doses?", "Was my metformin increased?"."""
    if not _CHANGE_QUESTION_RE.search(question):
        return False
    q = norm(question)
    return bool(_MED_QUESTION_RE.search(question)) or any(f" {norm(m.name)} " in f" {q} " for m in meds)


def medication_change_facts(
    result: DocumentResult, text: str, meds: list[Medication] | None = None
) -> list[Fact]:
    """Each sentence of the document that names one of ``meds`` (default: all) with a change verb."""
    names = sorted({m.name for m in (meds if meds is not None else result.medications)}, key=len)
    patterns = {n: re.compile(rf"(?<![A-Za-z]){re.escape(n)}(?![A-Za-z])", re.IGNORECASE) for n in names}
    out: list[Fact] = []
    for span in document_passages(text):
        sentence = text[span.begin : span.end]
        named = [n for n, p in patterns.items() if p.search(sentence)]
        if not named or not CHANGE_VERB_RE.search(sentence):
            continue
        cite = _doc_citation(result, text, span.begin, span.end, f"Medication change: {', '.join(named)}")
        quoted = " ".join(sentence.split())
        line = f'Your document records a change to {", ".join(named)}: "{quoted}"'
        out.append(Fact(line, [cite], "medication_change", named[0]))
    return out


NO_CHANGE_FOUND = "I found no sentence in your document that starts, stops or changes one of these medicines."


# ---- "should I stop my medicine?" --------------------------------------------------------------------

_SELF_CHANGE_RE = re.compile(
    r"\b(?:should|can|could|may|must|do|shall) i\b.*\b(?:stop\w*|quit\w*|chang\w*|switch\w*|skip\w*|"
    r"reduc\w*|increas\w*|decreas\w*|lower\w*|rais\w*|double|halve|come off|get off|cut (?:down|back))\b",
    re.IGNORECASE,
)
DONT_CHANGE_MEDICINE_LINE = (
    "Do not stop, skip or change the dose of a medicine on your own: talk to your doctor, nurse or "
    "pharmacist first."
)


def asks_to_change_medicine(question: str, names_medicine: bool) -> bool:
    """ "Should I stop taking aspirin?": a question about the user changing a medicine themselves."""
    return bool(_SELF_CHANGE_RE.search(question)) and (
        names_medicine or bool(_MED_QUESTION_RE.search(question))
    )


# ---- plan, follow-up, next steps ---------------------------------------------------------------------

_FOLLOW_UP_QUESTION_RE = re.compile(
    r"\b(?:appointments?|follow[- ]?ups?|come back|go back|return|see (?:the|my) doctor again|next visit|"
    r"check[- ]?ups?|recheck|when (?:do|should|will) i (?:see|go|come))\b",
    re.IGNORECASE,
)
_PLAN_QUESTION_RE = re.compile(
    r"\b(?:next steps?|what (?:should|do|must|can) i do|what now|what happens next|do next|plan|"
    r"instructions?|to[- ]do|treatment plan|recommend\w*)\b",
    re.IGNORECASE,
)
_PLAN_HEADER_WORDS = frozenset(tokenize("plan recommendations instructions disposition"))
_FOLLOW_UP_HEADER_WORDS = frozenset(tokenize("follow-up followup return appointment"))


def routed_sections(question: str, sections: list[str]) -> list[str]:
    """The document's section headers a plan or follow-up question is answered by, best first:
    follow-up sections first for "when is my next appointment?", plan sections first otherwise."""
    follow = bool(_FOLLOW_UP_QUESTION_RE.search(question))
    plan = bool(_PLAN_QUESTION_RE.search(question))
    if not (follow or plan):
        return []
    headers = list(dict.fromkeys(s for s in sections if s))
    follow_ups = [h for h in headers if set(tokenize(h)) & _FOLLOW_UP_HEADER_WORDS]
    plans = [h for h in headers if set(tokenize(h)) & _PLAN_HEADER_WORDS and h not in follow_ups]
    if follow and not plan:
        return follow_ups or plans
    return plans + follow_ups


# ---- flagged results ---------------------------------------------------------------------------------

_ABNORMAL_QUESTION_RE = re.compile(
    r"\b(?:abnormal|out of (?:the )?(?:normal )?range|outside (?:the )?(?:normal )?range|not normal|flagged|"
    r"high or low|low or high|concerning)\b",
    re.IGNORECASE,
)
_RESULTS_WORD_RE = re.compile(
    r"\b(?:results?|labs?|tests?|values?|numbers?|levels?|bloodwork|blood work)\b", re.I
)
FLAGGED = ("high", "low", "abnormal")


def asks_flagged_results(question: str) -> bool:
    """ "Which of my results are abnormal?", "Are any labs out of range?"."""
    return bool(_ABNORMAL_QUESTION_RE.search(question) and _RESULTS_WORD_RE.search(question))


def flagged_lead(labs: list[LabResult]) -> str:
    flagged = [lab for lab in labs if lab.flag in FLAGGED]
    if not flagged:
        known = [lab for lab in labs if lab.flag != "unknown"]
        if not known:
            return "None of the results in this document could be compared with a range."
        return "None of the results in this document is flagged outside its range."
    # no count: the answer states no number that is not in a cited text
    return "These results are flagged outside the range in this document:"


# ---- organ and system words -> lab groups ------------------------------------------------------------

LAB_GROUPS: dict[str, tuple[str, ...]] = {
    "thyroid": ("TSH", "Free T4", "T3", "Free T3", "Total T3", "T4"),
    "kidney": ("Creatinine", "eGFR", "Blood Urea Nitrogen", "BUN/Creatinine Ratio", "Urine Microalbumin"),
    "liver": ("ALT", "AST", "Alkaline Phosphatase", "Bilirubin, Total", "Albumin", "GGT"),
    "blood sugar": ("Glucose", "Hemoglobin A1c"),
    "cholesterol": (
        "Total Cholesterol",
        "LDL Cholesterol",
        "HDL Cholesterol",
        "Triglycerides",
        "Non-HDL Cholesterol",
    ),
    "blood count": (
        "White Blood Cell Count",
        "Red Blood Cell Count",
        "Hemoglobin",
        "Hematocrit",
        "Platelets",
        "MCV",
        "MCH",
        "MCHC",
        "RDW",
    ),
}
_GROUP_WORDS: dict[str, tuple[str, ...]] = {
    "thyroid": ("thyroid",),
    "kidney": ("kidney", "kidneys", "renal"),
    "liver": ("liver", "hepatic", "liver function", "lft", "lfts"),
    "blood sugar": ("blood sugar", "sugar", "sugars", "diabetes", "glucose level"),
    "cholesterol": ("cholesterol", "lipid", "lipids", "lipid panel"),
    "blood count": ("blood count", "cbc", "blood counts", "complete blood count"),
}


@lru_cache(maxsize=1)
def _group_of_test() -> dict[str, str]:
    return {norm(name): group for group, names in LAB_GROUPS.items() for name in names}


def asked_groups(question: str) -> list[str]:
    q = f" {norm(question)} "
    return [g for g, phrases in _GROUP_WORDS.items() if any(f" {norm(p)} " in q for p in phrases)]


def group_labs(question: str, labs: list[LabResult]) -> list[LabResult]:
    """The labs of the groups the question's organ or system words name ("thyroid" -> TSH, free T4)."""
    groups = set(asked_groups(question))
    if not groups:
        return []
    table = _group_of_test()
    out = []
    for lab in labs:
        test = lookup_test(lab.name)
        names = [lab.name, *((test.name, *test.aliases) if test else ())]
        if any(table.get(norm(n)) in groups for n in names):
            out.append(lab)
    return out


# ---- typical ranges ----------------------------------------------------------------------------------

_NORMAL_RANGE_RE = re.compile(
    r"\b(?:normal|typical|healthy|good|target|goal|reference|usual|ideal)\b",
    re.IGNORECASE,
)
TYPICAL_TITLE = "HealthChat typical adult ranges"


def typical_range_facts(question: str) -> list[Fact]:
    """ "What is a normal A1c?": each lab test the question names, with its typical adult range from
    HealthChat's range table and the public source that table names."""
    if not _NORMAL_RANGE_RE.search(question):
        return []
    from healthchat.domain.lab_ranges import typical_table
    from healthchat.qa.passages import question_focus

    out: list[Fact] = []
    seen: set[str] = set()
    table = typical_table()
    for name in question_focus(question):
        test = lookup_test(name)
        if test is None or test.name in seen or test.name not in table:
            continue
        seen.add(test.name)
        for entry in table[test.name]:
            unit = f" {entry.unit}" if entry.unit else ""
            rng = "; ".join(
                f"{r}{unit}" if who == "any" else f"{who}: {r}{unit}" for who, r in entry.ranges.items()
            )
            text = f"Typical adult range for {test.name} ({rng}). Source: {entry.source}."
            if entry.note:
                text += f" {entry.note}"
            cite = _own_citation(text, f"{TYPICAL_TITLE}: {entry.source}")
            line = f"A typical adult range for {test.name} is {rng}; a lab's own printed range comes first."
            out.append(Fact(line, [cite], "typical_range", test.name))
    return out


# ---- questions the library cannot answer -------------------------------------------------------------

_UNANSWERABLE_RE = re.compile(
    r"\b(?:side[- ]effects?|adverse (?:effects?|reactions?)|interact\w*|overdose|dosage|how much .* take|"
    r"(?:safe|take) .* (?:pregnan\w*|breast ?feed\w*)|contraindicat\w*|mix .* with)\b",
    re.IGNORECASE,
)
NO_LIBRARY_ANSWER = (
    "HealthChat's health library (NIH question-and-answer pages and its glossary) has no information "
    "about that, so I cannot answer it. A pharmacist or your clinician can; the leaflet that comes with a "
    "medicine also lists its side effects."
)


def asks_beyond_library(question: str) -> bool:
    """Side effects, interactions, dosing: aspects the glossary does not cover."""
    return bool(_UNANSWERABLE_RE.search(question))


def names_drug(question: str) -> bool:
    """Whether the question names a medicine (the extractor's lexicon, or a brand name)."""
    from healthchat.adapters.local.medical_lexicon import lexicon, lexicon_matches
    from healthchat.qa.facts import _generic_names_in

    if _generic_names_in(question):
        return True
    return any(term.category == "MEDICATION" for _, _, term in lexicon_matches(question, lexicon()))
