"""Rule tables for the local medical extractor: medication attributes and PHI patterns.

Regexes are compiled once at import. Hand-written: no maintained library extracts dose/frequency/route
attributes or PHI spans offline in Comprehend Medical's terms (medspaCy ships no such rules; scispaCy
models cannot be installed here). Assertion context (negation and the rest) is medspaCy's ConText, in
``context_medspacy``.
"""

from __future__ import annotations

import re

# ---- medication attributes (searched in the window after a drug name) --------------------------------

_MASS = (
    r"(?:mg|mcg|µg|g|gm|grams?|milligrams?|micrograms?|mEq|meq|IU|international units|mg/mL|mcg/hr|mg/kg|%)"
)
_COUNT = (
    r"(?:units?|tablets?|tabs?|capsules?|caps?|puffs?|drops?|sprays?|mL|ml|patch(?:es)?|"
    r"teaspoons?|tsp|tablespoons?|vials?|pills?|inhalations?)"
)
_FORM = (
    r"tablets?|tabs?|capsules?|caps?|inhaler|patch|solution|suspension|cream|ointment|injection|"
    r"pen|drops|spray|syrup|lotion|gel|suppository|powder|nebulizer"
)
_ROUTE_CI = (
    r"p\.o\.|by mouth|orally|oral|intravenous(?:ly)?|intramuscular(?:ly)?|subcutaneous(?:ly)?|subq|"
    r"topical(?:ly)?|inhaled|by inhalation|sublingual(?:ly)?|rectal(?:ly)?|intranasal|nasal|"
    r"ophthalmic|transdermal|per rectum|under the tongue|via (?:g-?tube|ng tube|feeding tube)|"
    r"in(?:to)? (?:each|both|the (?:left|right|affected)) (?:eyes?|ears?|nostrils?)"
)
_ROUTE_CS = r"PO|IV|IM|SC|SQ|SL|PR|po|iv|sq"
_FREQ = (
    r"once (?:a |per )?(?:day|daily|week|weekly|month)|twice (?:a |per )?(?:day|daily|week)|"
    r"(?:three|four) times (?:a|per) day|every (?:other )?(?:day|morning|evening|night|week)|"
    r"every \d+(?:\s?(?:-|to)\s?\d+)? (?:hours?|hrs?|days?|weeks?)|q\.?\s?\d+\s?(?:h|hr|hrs|hours?)\b|"
    r"b\.i\.d\.|t\.i\.d\.|q\.i\.d\.|q\.d\.|bid|tid|qid|qd|qhs|qam|qpm|qod|hs|prn|as needed|"
    r"at bedtime|before bed|nightly|daily|weekly|monthly|in the morning|in the evening|with meals|"
    r"before meals|after meals"
)
_DURATION = r"(?:x|for|times)\s?\d+\s?(?:days?|d|weeks?|wks?|months?|mos?)\b"

MED_ATTR_RE = re.compile(
    rf"(?P<STRENGTH>\b\d+(?:\.\d+)?(?:/\d+(?:\.\d+)?)?\s?{_MASS}(?:/(?:tab|tablet|cap|dose|mL|spray))?(?![A-Za-z]))"
    rf"|(?P<DOSAGE>\b(?:\d+(?:\.\d+)?|one|two|three|half a|1/2)\s?{_COUNT}\b)"
    rf"|(?P<DURATION>(?i:{_DURATION}))"
    rf"|(?P<FREQUENCY>(?i:\b(?:{_FREQ})(?![A-Za-z])))"
    rf"|(?P<ROUTE_OR_MODE>(?i:\b(?:{_ROUTE_CI})(?![A-Za-z]))|\b(?:{_ROUTE_CS})\b)"
    rf"|(?P<FORM>(?i:\b(?:{_FORM})\b))",
)
# how a drug is given, worded with a body part: the body part is not an ANATOMY finding here
# ("metformin 500 mg by mouth twice daily"; Comprehend Medical reads "by mouth" as ROUTE_OR_MODE)
ROUTE_PHRASE_RE = re.compile(
    r"(?i:\b(?:by|per|via)\s+(?:mouth|rectum|nose|vagina|g-?tube|ng\s+tube|feeding\s+tube)\b"
    r"|\b(?:in|into)\s+(?:each|both|the\s+(?:left|right|affected))\s+(?:eyes?|ears?|nostrils?)\b"
    r"|\bunder\s+the\s+tongue\b)"
)
MED_ATTR_KINDS = ("STRENGTH", "DOSAGE", "DURATION", "FREQUENCY", "ROUTE_OR_MODE", "FORM")
# attributes stop at a sentence end or a list separator that starts another item
MED_WINDOW_STOP_RE = re.compile(r"[;\n]|\.\s|,\s*(?=[A-Z])|\band\b\s+(?=[A-Za-z]+\s+\d)")
MED_WINDOW = 70

# ---- protected health information -----------------------------------------------------------------

_MONTHS = (
    r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)
PHI_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("PHONE_OR_FAX", re.compile(r"(?<!\d)(?:\+1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-.]\d{4}(?!\d)")),
    (
        "ID",
        re.compile(
            r"\b(?:MRN|Medical Record (?:Number|No\.?|#)|Patient ID|Acct(?:ount)?(?: No\.?| #)?|Member ID)"
            r"\s*[:#]?\s*(?P<v>[A-Z0-9][A-Z0-9-]{3,})",
            re.IGNORECASE,
        ),
    ),
    (
        "NAME",
        re.compile(
            r"^[ \t]*(?:Patient(?: Name)?|Name|Pt)[ \t]*:[ \t]*"
            r"(?P<v>[A-Z][A-Za-z'\-]+(?:,? [A-Z][A-Za-z'\-]*\.?){0,3})",
            re.MULTILINE,
        ),
    ),
    ("NAME", re.compile(r"\b(?:Dr\.?|Doctor)[ \t]+(?P<v>[A-Z][A-Za-z'\-]+(?:[ \t]+[A-Z][A-Za-z'\-]+)?)")),
    (
        "DATE",
        re.compile(
            rf"\b(?:\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}"
            rf"|(?:{_MONTHS})\.? \d{{1,2}},? \d{{4}}|\d{{1,2}} (?:{_MONTHS}) \d{{4}})\b"
        ),
    ),
    ("AGE", re.compile(r"\b(?P<v>\d{1,3})[- ](?:year|yr)s?[- ]old\b|\bAge[ \t]*:[ \t]*(?P<w>\d{1,3})\b")),
    (
        "ADDRESS",
        re.compile(
            r"\b\d{1,5}(?:[ \t]+[A-Z][a-z]+){1,3}[ \t]+"
            r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Court|Ct|Way|Place|Pl)\b\.?"
        ),
    ),
)
