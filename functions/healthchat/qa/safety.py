"""Questions HealthChat must not try to answer: emergencies (a fixed "call 911" response, no retrieval) and
requests that are not about health (a fixed "out of scope" response).

Hand-written rules, not a classifier: the emergency response must be predictable and testable, must fire
on a first-person description of a red-flag symptom ("I have crushing chest pain", "my face is drooping")
and must not fire on a question about a condition ("What are the signs of a stroke?").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from healthchat.qa.models import Answer
from healthchat.qa.text import words

if TYPE_CHECKING:
    from healthchat.qa.kb import KnowledgeBase

EMERGENCY_ANSWER = (
    "This may be a medical emergency. Call 911 (or your local emergency number) now, or have someone take "
    "you to the nearest emergency department. Do not wait for an online answer. If you are thinking about "
    "suicide or about hurting yourself, call or text 988 (the Suicide & Crisis Lifeline in the US) or your "
    "local crisis line now. HealthChat cannot help in an emergency."
)
OUT_OF_SCOPE_ANSWER = (
    "I can only answer questions about your health documents and general health topics. "
    "Please ask a health question."
)

_ME = (
    r"(?:i|i'm|im|i am|i've|ive|i have|i feel|i'm feeling|my|me|we|my (?:husband|wife|son|daughter|mom|"
    r"mother|dad|father|child|baby|friend|partner)|he|she|he's|she's|someone)"
)
# red flags that are an emergency however they are phrased
_ALWAYS = re.compile(
    r"\b(?:suicid\w*|kill (?:myself|me)|end (?:my|it all)|(?:want|going) to die|hurt(?:ing)? myself|"
    r"self[- ]harm|overdos\w*|took too many (?:pills|tablets)|"
    r"can(?:no|')?t breathe|cannot breathe|can not breathe|unable to breathe|not breathing|stopped breathing|"
    r"crushing chest|heart attack right now|having a (?:heart attack|stroke|seizure)|"
    r"face (?:is )?droop\w*|drooping face|slurred speech|speech is slurred|"
    r"unconscious|won'?t wake up|unresponsive|throat (?:is )?(?:closing|swelling)|anaphyla\w*|"
    r"bleeding (?:heavily|a lot|won'?t stop|that won'?t stop)|coughing up blood|vomiting blood)\b",
    re.IGNORECASE,
)
# a symptom that is an emergency when someone says they have it now
_SYMPTOM = (
    r"(?:chest (?:pain|pressure|tightness|hurts?)|pain in (?:my|his|her) chest|severe (?:headache|pain|"
    r"bleeding|allergic reaction|shortness of breath)|worst headache|trouble breathing|short of breath|"
    r"can'?t (?:move|feel) (?:my|his|her) (?:arm|leg|face)|sudden (?:numbness|weakness|confusion|"
    r"trouble (?:speaking|seeing|walking)|vision loss|severe headache)|passed out|fainted|"
    r"blood sugar (?:is )?(?:over|above) \d{3})"
)
_FIRST_PERSON = re.compile(
    rf"\b{_ME}\b[^.?!]{{0,40}}?{_SYMPTOM}|{_SYMPTOM}[^.?!]{{0,20}}\b(?:right )?now\b", re.IGNORECASE
)
_GENERAL_QUESTION = re.compile(
    r"^\s*(?:do|did|does|have|has|was|were)\s+(?:i|my|the|it)\b|"
    r"^\s*(?:what|which|how|why|when|is|are|can|does|do|should)\b[^.?!]*\b(?:signs?|symptoms?|causes?|"
    r"treat\w*|mean|risk|prevent\w*|difference|types?|doctor|report|note|document|results?|chart|records?)\b",
    re.IGNORECASE,
)

_OFF_TOPIC = re.compile(
    r"\b(?:poem|poetry|song|lyrics|haiku|limerick|story|joke|essay|novel|weather|forecast|"
    r"temperature outside|"
    r"football|soccer|baseball|basketball|score of the|stock|bitcoin|crypto|recipe for (?!a healthy)|"
    r"capital of|president of|translate|python code|javascript|write (?:me )?(?:a |some )?code|"
    r"movie|tv show|video game|horoscope|lottery)\b",
    re.IGNORECASE,
)


def is_emergency(question: str) -> bool:
    """Whether ``question`` describes an emergency happening now (rules above)."""
    if _ALWAYS.search(question):
        return True
    return bool(_FIRST_PERSON.search(question)) and not _GENERAL_QUESTION.search(question)


def is_off_topic(question: str) -> bool:
    """Whether ``question`` asks for something that is plainly not health information."""
    return bool(_OFF_TOPIC.search(question))


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


_HEALTH_WORDS = words(
    """health healthy medical medicine medication drug pill dose doctor nurse hospital clinic symptom sign
    disease illness condition disorder syndrome infection pain ache fever cough cold flu virus bacteria
    cancer tumor diabetes blood pressure heart lung kidney liver brain skin bone muscle joint nerve
    stomach diet exercise weight sleep pregnant pregnancy baby vaccine vaccination allergy allergic test
    lab scan surgery treatment therapy cure diagnosis risk prevent prevention side effect vitamin
    cholesterol sugar stroke dementia memory mental depression anxiety stress vision eye ear hearing
    tooth teeth dental breath breathing chest head headache injury wound"""
)


@lru_cache(maxsize=4)
def _vocabulary(focus_names: tuple[str, ...]) -> frozenset[str]:
    from healthchat.adapters.local.glossary_data import load_glossary
    from healthchat.qa.text import tokenize

    vocab = set(tokenize(" ".join(_HEALTH_WORDS)))
    vocab.update(w for name in focus_names for w in tokenize(name) if len(w) > 2)
    for entry in load_glossary():  # one-word terms, and the distinctive words of longer ones
        terms = tokenize(entry.term)
        vocab.update(w for w in terms if len(w) > 3 and (len(terms) == 1 or len(w) > 5))
    return frozenset(vocab)


def is_health_question(question: str, kb: KnowledgeBase | None = None) -> bool:
    """Whether ``question`` names anything health-related: a common health word, a glossary term or a
    knowledge-base topic. A general question that does not is out of scope."""
    from healthchat.qa.text import tokenize

    focus = tuple(sorted({e.focus for e in kb.entries})) if kb is not None else ()
    return bool(set(tokenize(question)) & _vocabulary(focus))
