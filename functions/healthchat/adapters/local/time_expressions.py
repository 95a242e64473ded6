"""Clinical time expressions ("3 days ago", "for 2 weeks", "on admission") for the local extractor's
TIME_EXPRESSION entities, and the DetectEntitiesV2 type each one takes from the entity it relates to.

Why hand-written: no maintained library finds clinical time expressions offline in Python. HeidelTime
and SUTime (the reference temporal taggers) run on a JVM; ``ctparse``/``parsedatetime`` parse a string
that is already a time expression instead of finding one in running text; ``dateparser.search_dates``
does search prose, but (measured, dateparser 1.2.0) it finds "3 days ago" as "3 days ago and", turns
"2 weeks" into a calendar date, misses "last night", "on admission" and "postoperative day 2", and
reads about 24,000 characters a second - forty times under what this finder must do. One compiled
regular expression over a small clinical grammar reads about two million characters a second
(1.8-2.6 M/s on MTS-Dialog notes and BC5CDR abstracts, one core of this 2-core machine).

Dates ("03/14/2024", "March 14, 2024") are left out: they are PHI DATE entities (``medical_context``)
and a year or month is taken here only after a word that makes it a time ("since 2019", "in March").
"""

from __future__ import annotations

import re

# ---- grammar pieces ---------------------------------------------------------------------------------

_NUM_WORD = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|eighteen|"
    r"twenty|thirty|forty|fifty|sixty"
)
_DIGITS = r"\d{1,3}(?:\.\d)?(?:\s?(?:-|–|to|or)\s?\d{1,3}(?:\.\d)?)?"
# a count that makes "N days" a time on its own ("3 days of cough"); "a day" does not ("once a day")
_COUNT = (
    rf"(?:{_DIGITS}|(?:{_NUM_WORD})(?:\s?(?:-|to|or)\s?(?:{_NUM_WORD}))?|several|a few|few|"
    r"a couple of|couple of|a couple|multiple|many)"
)
# after a preposition or before "ago" an article counts too ("for a week", "a month ago")
_COUNT_A = rf"(?:{_COUNT}|an?|one and a half|a half)"
_UNIT = r"(?:seconds?|minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|wks?|months?|mos?|years?|yrs?|decades?)"
_PART = r"(?:night|evening|morning|afternoon|weekend|week|month|year|summer|winter|spring|fall|autumn)"
_MONTH = (
    r"(?-i:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)"
)
_YEAR = r"(?:19|20)\d{2}(?![/\-.]\d)"  # not the year of a numeric date (PHI DATE)
_EVENT = r"(?:admission|discharge|presentation|arrival|transfer|delivery|birth|diagnosis)"
_APPROX = r"(?:about|approximately|approx\.?|around|nearly|almost|over|more than|less than|at least|~)\s*"

_ALTERNATIVES = (
    # "for the past 3 days", "over the last month", "last night", "in the next 2 weeks", "next year"
    rf"(?:(?:for|over|during|within|in|since|throughout|until)\s+)?(?:the\s+)?"
    rf"(?:past|last|previous|preceding|prior|next|coming|following|this past)\s+"
    rf"(?:{_COUNT_A}\s+)?(?:{_UNIT}|{_PART})",
    # "3 days ago", "two years ago", "1 week prior", "2 days prior to admission", "6 hours postoperatively"
    rf"{_COUNT_A}\s*-?\s*{_UNIT}\s+(?:ago|prior(?:\s+to\s+{_EVENT})?|before(?:\s+{_EVENT})?|earlier|later|"
    r"previously|post-?operatively|post-?op|post-?partum)",
    # "for 2 weeks", "in 6 weeks", "within 24 hours", "for about a month"
    rf"(?:for|over|within|in|during|after|lasting)\s+(?:{_APPROX})?{_COUNT_A}\s*-?\s*{_UNIT}",
    # "x 3 months", "x3d", "times 5 days": a course length written after a drug
    rf"(?:[x×]\s?\d{{1,3}}\s?(?:{_UNIT}|d|h|wk|w|mo)|times\s+\d{{1,3}}\s+{_UNIT})",
    # "since 2019", "since March", "since childhood", "in 2019", "in early 2020", "in March 2019"
    rf"since\s+(?:(?:{_MONTH}\s+)?{_YEAR}|{_MONTH}(?!\.?\s*\d)|childhood|infancy|birth|adolescence|{_EVENT}|yesterday)",
    rf"(?:in|during|until|from|by)\s+(?:early\s+|mid-?\s*|late\s+)?(?:(?:{_MONTH}\s+)?{_YEAR}|{_MONTH}(?!\.?\s*\d))",
    # "on admission", "at discharge", "prior to admission", "day of admission", "at the time of discharge"
    rf"(?:on|at|upon|before|after|prior\s+to|until|following|on\s+the\s+day\s+of|(?:the\s+)?day\s+of|"
    rf"at\s+the\s+time\s+of)\s+{_EVENT}",
    # "postoperative day 2", "post-op day #3", "hospital day 4", "POD 2", "day 3 of admission"
    r"(?:post-?operative|post-?op|hospital|illness)\s+day\s*#?\s*\d{1,3}|(?-i:POD|HD)\s*#?\s*\d{1,3}",
    r"day\s*#?\s*\d{1,3}\s+(?:of\s+(?:admission|hospitalization|illness|life)|post-?op(?:eratively)?)",
    # single words and fixed phrases
    r"(?:earlier|later)\s+(?:today|this\s+(?:morning|afternoon|evening|week|month|year))",
    r"yesterday(?:\s+(?:morning|afternoon|evening))?|tomorrow(?:\s+(?:morning|afternoon|evening))?",
    r"today|tonight|overnight|currently|recently|this\s+(?:morning|afternoon|evening|week|weekend|month|year|am|pm)",
    r"(?:the\s+)?(?:day|night|morning|evening)\s+(?:before|prior)(?:\s+(?:to\s+)?(?:admission|presentation))?",
    r"post-?operatively|pre-?operatively|intra-?operatively|peri-?operatively|in\s+childhood|as\s+a\s+child",
    # clock times: "at 3 pm", "8:30 a.m."
    r"(?:at\s+)?\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)|at\s+(?:noon|midnight)",
    # "3-day", "two-week" (history, course); "45-year-old" is an AGE
    rf"(?:{_DIGITS}|{_NUM_WORD})-(?:minute|hour|day|week|month|year)(?!-?olds?\b|\s+olds?\b)",
    # "3 days", "2-3 weeks", "several months": a bare length, not "every 6 hours" or "q 4 hours"
    rf"(?<!every )(?<!q)(?<!q )(?<!per )(?<!each ){_COUNT}\s*{_UNIT}",
)

TIME_EXPRESSION_RE = re.compile(
    # never an age ("60 years old", "50 years of age": PHI AGE) and never a trailing space
    r"(?<![\w/.:-])(?:" + "|".join(_ALTERNATIVES) + r")(?!\w)(?![\s-]+olds?\b|\s+of\s+age\b)(?<!\s)",
    re.IGNORECASE,
)


def find_time_expressions(text: str) -> list[tuple[int, int]]:
    """Character spans of clinical time expressions in ``text``, sorted and non-overlapping.

    Parameters
    ----------
    text
        Any document text; offsets index into it.

    Returns
    -------
    list of (begin, end)
        ``text[begin:end]`` is one expression. Where two readings start at the same place the
        grammar's first (the longer, more specific one) wins; PHI dates are not included.
    """
    return [m.span() for m in TIME_EXPRESSION_RE.finditer(text)]


# ---- DetectEntitiesV2 types ---------------------------------------------------------------------------

# (Category, Type) of the related entity -> Type of the TIME_EXPRESSION entity (Comprehend Medical
# developer guide, "Detect entities (version 2)", Time Expression category)
TIME_TO_TYPES: dict[tuple[str, str], str] = {
    ("MEDICATION", "GENERIC_NAME"): "TIME_TO_MEDICATION_NAME",
    ("MEDICATION", "BRAND_NAME"): "TIME_TO_MEDICATION_NAME",
    ("MEDICAL_CONDITION", "DX_NAME"): "TIME_TO_DX_NAME",
    ("TEST_TREATMENT_PROCEDURE", "TEST_NAME"): "TIME_TO_TEST_NAME",
    ("TEST_TREATMENT_PROCEDURE", "PROCEDURE_NAME"): "TIME_TO_PROCEDURE_NAME",
    ("TEST_TREATMENT_PROCEDURE", "TREATMENT_NAME"): "TIME_TO_TREATMENT_NAME",
}
# the RelationshipType of the related entity when it is listed as an attribute of the time expression
TIME_RELATIONSHIP = "OVERLAP"


def relationship_type(category: str, type: str) -> str:  # "type" as in the DetectEntitiesV2 field
    """The TIME_EXPRESSION ``Type`` (``TIME_TO_DX_NAME`` ...) for a time tied to an entity of
    ``category``/``type``.

    Raises
    ------
    ValueError
        For an entity no time expression relates to in DetectEntitiesV2 (ANATOMY, PHI, attributes).
    """
    try:
        return TIME_TO_TYPES[(category, type)]
    except KeyError:
        raise ValueError(f"no TIME_EXPRESSION type relates to {category}/{type}") from None
