"""Questions HealthChat must not try to answer: emergencies (a fixed "call 911" response, no retrieval) and
requests that are not about health (a fixed "out of scope" response).

Hand-written rules, not a classifier: the emergency response must be predictable and testable, must fire
on a first-person description of a red-flag symptom ("I have crushing chest pain", "my son drank bleach")
and must not fire on a question about a condition ("What are the signs of a stroke?", "What is
anaphylaxis?"). A message is judged clause by clause, so a question ("Do I have a heart attack?") does not
hide the statement next to it ("my chest hurts"). Off-topic means a non-health request word ("poem",
"football") and no health word; the health vocabulary comes from HealthChat's own tables (glossary, lab
names, drug lexicon), built once on first use.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from healthchat.qa.models import Answer
from healthchat.qa.text import tokenize, words

if TYPE_CHECKING:
    from healthchat.qa.kb import KnowledgeBase

EMERGENCY_ANSWER = (
    "This may be a medical emergency. Call 911 (or your local emergency number) now, or have someone take "
    "you to the nearest emergency department. Do not wait for an online answer. If you are thinking about "
    "suicide or about hurting yourself, call or text 988 (the Suicide & Crisis Lifeline in the US) or your "
    "local crisis line now. If someone swallowed a poison or too much of a medicine, call Poison Control "
    "(1-800-222-1222 in the US). HealthChat cannot help in an emergency."
)
OUT_OF_SCOPE_ANSWER = (
    "I can only answer questions about your health documents and general health topics. "
    "Please ask a health question."
)

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)


def normalise(text: str) -> str:
    """Straight quotes and apostrophes ("can’t" -> "can't") and single spaces, so one rule fits both."""
    return " ".join(text.translate(_QUOTES).split())


_ME = (
    r"(?:i|i'm|im|i am|i've|ive|i have|i feel|i'm feeling|my|me|we|my (?:husband|wife|son|daughter|mom|"
    r"mother|dad|father|child|baby|friend|partner)|he|she|he's|she's|someone)"
)
_PERSON_RE = re.compile(
    r"\b(?:i|i'm|im|i've|ive|i'd|me|my|myself|we|our|us|he|she|he's|she's|him|his|her|they|someone|"
    r"somebody)\b",
    re.IGNORECASE,
)
_QUESTION_START_RE = re.compile(
    r"^(?:what|what's|whats|which|how|why|when|where|who|is|are|can|could|does|do|did|should|would|will)\b",
    re.IGNORECASE,
)
# a state or event that is an emergency in any clause that is not a general question
_STATE = re.compile(
    r"\b(?:kill(?:ing)? (?:myself|me)|end(?:ing)? (?:my (?:own )?life|it all)|take my (?:own )?life|"
    r"(?:want|going|gonna|ready) to die|better off dead|hurt(?:ing)? myself|cut(?:ting)? myself|"
    r"(?:don't|do not|no longer|never) want to (?:live|be alive|be here|wake up)|"
    r"no (?:point|reason) (?:in |to )?(?:living|live|go on)|"
    r"took too many (?:pills|tablets)|"
    r"can(?:no|')?t breathe|cannot breathe|can not breathe|unable to breathe|(?:is|are)n't breathing|"
    r"(?:is|are) not breathing|not breathing|stopped breathing|no pulse|turn(?:ed|ing) blue|"
    r"crushing chest|heart attack right now|having (?:a )?(?:heart attack|stroke|seizure)|"
    r"(?:going into|having|in) anaphyla\w*|anaphylactic shock|"
    r"face (?:is )?droop\w*|drooping face|slurred speech|speech is slurred|collapsed|"
    r"won't wake(?: up)?|can't wake (?:him|her|them)(?: up)?|"
    r"(?:is|are|went|seems?|looks?|go(?:ne)?) limp|"
    r"(?:throat|tongue|lips?|mouth) (?:is |are )?(?:closing|swelling|swollen|swell\w*|(?:feels? )?tight)|"
    r"bleeding (?:heavily|a lot|won't stop|that won't stop)|coughing up blood|vomiting blood)\b",
    re.IGNORECASE,
)
_AMOUNT = (
    r"(?:about |around |over |like |maybe |at least )?(?:[1-9]\d+|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|a (?:whole |full )?bottle|the (?:whole |full )?bottle|a handful|all (?:of )?(?:my|his|"
    r"her|their|the))"
)
_NOT_A_COUNT = (
    r"(?!\s*(?:mg|mcg|g|gm|grams?|ml|units?|iu|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|"
    r"steps?|laps?|miles?|km|pounds?|lbs?|percent|%)\b)"
)
# swallowing a poison or too much of a medicine
_INGESTED = re.compile(
    rf"\b(?:swallow(?:ed)?|drank|drunk|drinking|ate|eaten|ingest(?:ed)?|took|taken|has taken|have taken)\s+"
    rf"(?:{_AMOUNT}{_NOT_A_COUNT}|(?:some |a |the |a little |his |her |my )?(?:\w+ )?(?:bleach|poison|"
    rf"antifreeze|detergent|(?:laundry|detergent|dishwasher) pods?|drain cleaner|lye|button batter(?:y|ies)|"
    rf"batter(?:y|ies)|gasoline|petrol|pesticide|weed killer|insecticide|lighter fluid|windshield fluid|"
    rf"magnets?))",
    re.IGNORECASE,
)
_READING = re.compile(
    r"\b(?:blood sugar|glucose|sugar|bg)\b(?:\s+(?:is|was|reads?|reading|level|of|at|just|now|right now|"
    r"=|:))*\s*(?P<sugar>\d{2,3})\b|"
    r"\b(?:fever|temp(?:erature)?)\b(?:\s+(?:is|was|of|at|reads?|=|:))*\s*(?P<temp>\d{2,3}(?:\.\d)?)",
    re.IGNORECASE,
)
# bare names of an emergency: one only in a statement ("I took an overdose"), never in a question
_NAMED = re.compile(
    r"\b(?:suicid\w*|self[- ]harm|overdos\w*|anaphyla\w*|unconscious|unresponsive)\b", re.IGNORECASE
)
# a symptom that is an emergency when someone says they have it now
_SYMPTOM = (
    r"(?:chest (?:pain|pressure|tightness|hurts?)|pain in (?:my|his|her) chest|severe (?:headache|pain|"
    r"bleeding|allergic reaction|shortness of breath)|worst headache|trouble breathing|short of breath|"
    r"can'?t (?:move|feel) (?:my|his|her) (?:arm|leg|face)|sudden (?:numbness|weakness|confusion|"
    r"trouble (?:speaking|seeing|walking)|vision loss|severe headache)|passed out|fainted)"
)
_FIRST_PERSON = re.compile(
    rf"\b{_ME}\b[^.?!]{{0,40}}?{_SYMPTOM}|{_SYMPTOM}[^.?!]{{0,20}}\b(?:right )?now\b", re.IGNORECASE
)
# "Do I have chest pain?" / "Did my note mention ...": a question about the record, not a report of now
_RECORD_QUESTION = re.compile(
    r"^\s*(?:do|did|does|have|has|was|were)\s+(?:i|my|the|it)\b|"
    r"^\s*(?:what|which|how|why|when|is|are|can|does|do|should)\b[^.?!]*\b(?:signs?|symptoms?|causes?|"
    r"treat\w*|mean|risk|prevent\w*|difference|types?|doctor|report|note|document|results?|chart|records?)\b",
    re.IGNORECASE,
)
_CLAUSE_RE = re.compile(r"[^.?!;,\n]+[.?!;,\n]*")

_OFF_TOPIC = re.compile(
    r"\b(?:poem|poetry|song|lyrics|haiku|limerick|story|joke|essay|novel|weather|forecast|"
    r"temperature outside|"
    r"football|soccer|baseball|basketball|score of the|stock|bitcoin|crypto|recipe for (?!a healthy)|"
    r"capital of|president of|translate|python code|javascript|write (?:me )?(?:a |some )?code|"
    r"movie|tv show|video game|horoscope|lottery)\b",
    re.IGNORECASE,
)


def _clauses(text: str) -> list[str]:
    return [m.group(0).strip() for m in _CLAUSE_RE.finditer(text) if m.group(0).strip(" .?!;,\n")]


def _is_question(clause: str) -> bool:
    return clause.rstrip().endswith("?") or bool(_QUESTION_START_RE.match(clause))


def _dangerous_reading(m: re.Match[str]) -> bool:
    if m.group("sugar"):
        sugar = int(m.group("sugar"))
        return sugar >= 400 or sugar < 50
    temp = float(m.group("temp"))
    return temp >= 105 or 41 <= temp <= 45  # Fahrenheit, or Celsius


def _clause_is_emergency(clause: str) -> bool:
    question = _is_question(clause)
    if question and not _PERSON_RE.search(clause):
        return False  # "What is anaphylaxis?", "What is an overdose of metformin?": about a topic
    if _STATE.search(clause) or _INGESTED.search(clause):
        return True
    if any(_dangerous_reading(m) for m in _READING.finditer(clause)):
        return True
    if not question and _NAMED.search(clause):
        return True
    return bool(_FIRST_PERSON.search(clause)) and not _RECORD_QUESTION.search(clause)


def is_emergency(question: str) -> bool:
    """Whether ``question`` describes an emergency happening now (rules above), in any of its clauses."""
    return any(_clause_is_emergency(c) for c in _clauses(normalise(question)))


COMMON_HEALTH_WORDS = words(
    """health healthy medical medicine medication drug pill dose doctor nurse hospital clinic symptom sign
    disease illness condition disorder syndrome infection pain ache fever cough cold flu virus bacteria
    cancer tumor diabetes blood pressure heart lung kidney liver brain skin bone muscle joint nerve
    stomach diet exercise weight sleep pregnant pregnancy baby vaccine vaccination allergy allergic test
    lab scan surgery treatment therapy cure diagnosis risk prevent prevention side effect vitamin
    cholesterol sugar stroke dementia memory mental depression anxiety stress vision eye ear hearing
    tooth teeth dental breath breathing chest head headache injury wound
    arm leg hand foot feet knee ankle wrist elbow hip shoulder neck spine sprain sprained strain fracture"""
)


@lru_cache(maxsize=1)
def health_vocabulary() -> frozenset[str]:
    """Word stems (:func:`tokenize`) that make a question a health question: the list above, glossary terms
    (one-word terms, and the distinctive words of longer ones), lab test names and aliases and one-word
    drug names. Built on first use (~0.1 s) from tables HealthChat ships, then cached."""
    from healthchat.adapters.local.drug_lexicon import drug_terms
    from healthchat.adapters.local.glossary_data import glossary
    from healthchat.domain.labs import lab_test_names

    vocab = set(tokenize(" ".join(COMMON_HEALTH_WORDS)))
    for entry in glossary():
        terms = tokenize(entry.term)
        vocab.update(w for w in terms if len(w) > 3 and (len(terms) == 1 or len(w) > 5))
    for name in lab_test_names():
        vocab.update(w for w in tokenize(name) if len(w) > 3 and not w.isdigit())
    vocab.update(t.phrase for t in drug_terms() if len(t.phrase) > 4 and t.phrase.isalpha())
    return frozenset(vocab)


@lru_cache(maxsize=4)
def _focus_vocabulary(focus_names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w for name in focus_names for w in tokenize(name) if len(w) > 2)


def has_health_word(question: str, kb: KnowledgeBase | None = None) -> bool:
    """Whether ``question`` names anything health-related: a word of :func:`health_vocabulary` or of a
    knowledge-base topic."""
    tokens = set(tokenize(normalise(question)))
    if tokens & health_vocabulary():
        return True
    return kb is not None and bool(tokens & _focus_vocabulary(tuple(sorted({e.focus for e in kb.entries}))))


def is_off_topic(question: str) -> bool:
    """Whether ``question`` asks for something plainly not health information: a non-health request word
    ("poem", "football", "translate") and no health word ("football after a concussion" is in scope)."""
    return bool(_OFF_TOPIC.search(normalise(question))) and not has_health_word(question)


def emergency_answer() -> Answer:
    return Answer(answer=EMERGENCY_ANSWER, grounded=True, kind="emergency", engine="safety-rules")


def out_of_scope_answer() -> Answer:
    return Answer(answer=OUT_OF_SCOPE_ANSWER, grounded=True, kind="out_of_scope", engine="safety-rules")


def screen(question: str) -> Answer | None:
    """The fixed answer for an emergency or an off-topic request, else None (answer it normally)."""
    if is_emergency(question):
        return emergency_answer()
    if is_off_topic(question):
        return out_of_scope_answer()
    return None


def is_health_question(question: str, kb: KnowledgeBase | None = None) -> bool:
    """Whether ``question`` names anything health-related; a general question that does not is out of
    scope."""
    return has_health_word(question, kb)
