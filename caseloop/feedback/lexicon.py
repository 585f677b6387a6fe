"""Telling praise, and complaints about surveys, from what customers write (no Django, no model).

A small lexicon, on purpose: its decisions can be read, explained to the person
praised, and tested sentence by sentence. It errs on the side of silence — a
missed compliment costs little, a kudos for a complaint costs trust — so any
complaint word, negation or question in a message vetoes praise (ADR 0043).

Only the customer's own words count: quoted earlier messages ("> …", "On …
wrote:", Outlook's "From:" block) are cut off first, so our survey email
quoted in a reply never reads as the customer talking about surveys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# praise that stands on its own
STRONG_PRAISE = (
    "above and beyond", "amazing", "awesome", "brilliant", "excellent", "exceptional", "extra mile",
    "fantastic", "first class", "first-class", "five stars", "5 stars", "great job", "great service",
    "great work", "a credit to", "impressed", "incredible", "kudos", "life saver", "lifesaver",
    "outstanding", "really appreciate", "much appreciated", "so helpful", "very helpful", "really helpful",
    "extremely helpful", "superb", "top notch", "top-notch", "well done", "wonderful", "grateful",
    "best service", "a star",
)  # fmt: skip
# friendly words that need company to count as praise
WEAK_PRAISE = (
    "great", "helpful", "friendly", "quick", "quickly", "fast", "professional", "polite", "kind", "perfect",
    "love", "happy", "pleased", "good", "patient", "efficient", "nice", "lovely", "easy", "smooth", "prompt",
    "knowledgeable", "courteous", "satisfied",
)  # fmt: skip
THANKS = ("thank you", "thanks", "thx", "cheers", "appreciate", "appreciated")
# any of these vetoes praise: the customer is unhappy or still has a problem
COMPLAINT = (
    "not", "n't", "cannot", "never", "no longer", "still", "again", "broken", "broke", "doesnt", "didnt", "isnt",
    "wasnt", "disappoint*", "terrible", "awful", "horrible", "worst", "useless", "unacceptable", "complain*",
    "refund*", "angry", "furious", "frustrat*", "poor", "rude", "waiting", "waited", "problem*", "issue*", "fail*",
    "wrong", "but", "however", "unfortunately", "bad", "slow", "hate", "ridiculous", "annoy*", "cancel*",
)  # fmt: skip
# courtesy that is not praise: sign-offs and request formulas, removed before counting
COURTESY = (
    "kind regards", "best regards", "warm regards", "warmest regards", "regards", "best wishes", "all the best",
    "have a nice day", "have a good day", "have a great day", "have a good one", "good morning",
    "good afternoon", "good evening", "thanks in advance", "thank you in advance", "would be happy",
    "happy to", "would love", "would be great", "would be good", "would be nice", "as soon as possible",
)  # fmt: skip

SURVEY_WORDS = ("survey*", "questionnaire*", "feedback request*", "feedback form*", "feedback email*", "rate us",
                "rating request*", "rate your experience")  # fmt: skip
STOP_WORDS = (
    "stop", "no more", "too many", "don't send", "dont send", "do not send", "unsubscribe", "annoying", "spam",
    "sick of", "tired of", "enough", "remove me", "opt out", "opt-out", "leave me alone", "every time",
    "not interested", "never again",
)  # fmt: skip

_QUOTE_START = re.compile(
    r"^\s*(>|on .{1,200} wrote:?\s*$|-{2,}\s*original message\s*-{2,}|from:\s|sent from my )", re.IGNORECASE
)
_SENTENCE = re.compile(r"(?<=[.!?;\n])\s+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def _pattern(term: str) -> re.Pattern[str]:
    """A whole word or phrase; a trailing * matches any ending ("frustrat*": frustrated, frustrating)."""
    if term == "n't":
        return re.compile(r"n't\b")
    stem = term.endswith("*")
    body = re.escape(term.rstrip("*"))
    return re.compile(rf"(?<![\w']){body}" + ("" if stem else r"(?![\w'])"))


def _patterns(terms: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((term.rstrip("*"), _pattern(term)) for term in terms)


_STRONG, _WEAK, _THANKS, _COMPLAINT = map(_patterns, (STRONG_PRAISE, WEAK_PRAISE, THANKS, COMPLAINT))
_COURTESY, _SURVEY, _STOP = map(_patterns, (COURTESY, SURVEY_WORDS, STOP_WORDS))


# Most inbound messages hold no praise or survey word; a set lookup of their words says so in
# microseconds, where the full reading runs dozens of regular expressions (every inbound email is
# read). A term can match only where its first word (or, for a stem, a word starting with it) is.
def _first_words(terms: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    words, stems = set(), []
    for term in terms:
        first = term.rstrip("*").split()[0]
        if term.endswith("*") and " " not in term:
            stems.append(first)
        else:
            words.add(first)
    return frozenset(words), tuple(stems)


_FEEDBACK_WORDS, _FEEDBACK_STEMS = _first_words((*STRONG_PRAISE, *WEAK_PRAISE, *SURVEY_WORDS))
_WORD = re.compile(r"[\w']+")
_HYPHENATED = re.compile(r"[\w'][\w'-]*")


def may_concern_feedback(text: str) -> bool:
    """False only when the text has no praise word and no survey word (then neither reading can find anything)."""
    normalised = _normalise(text)
    words = set(_WORD.findall(normalised))
    words.update(_HYPHENATED.findall(normalised))  # "first-class" is one term; "great-looking" holds "great"
    if not words.isdisjoint(_FEEDBACK_WORDS):
        return True
    return any(word.startswith(_FEEDBACK_STEMS) for word in words) if _FEEDBACK_STEMS else False


def own_words(text: str) -> str:
    """The part of a message the customer wrote now: everything before the first quoted line."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTE_START.match(line):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def _normalise(text: str) -> str:
    return " ".join(text.translate(_APOSTROPHES).lower().split())


def _found(text: str, patterns: tuple[tuple[str, re.Pattern[str]], ...]) -> list[str]:
    return [term for term, pattern in patterns if pattern.search(text)]


def _without(text: str, patterns: tuple[tuple[str, re.Pattern[str]], ...]) -> str:
    for _, pattern in patterns:
        text = pattern.sub(" ", text)
    return text


@dataclass(frozen=True, slots=True)
class PraiseReading:
    """What the lexicon found in a text, and the two verdicts built on it."""

    strong: tuple[str, ...]
    weak: tuple[str, ...]
    thanks: tuple[str, ...]
    complaints: tuple[str, ...]
    asks: bool  # a question: the message wants something

    def is_compliment(self) -> bool:
        """A message written to praise: clear praise, no complaint word, no question.

        Thanks alone is courtesy, not praise; thanks with one friendly word
        ("thanks, that was quick") is.
        """
        if self.complaints or self.asks:
            return False
        return bool(self.strong) or len(self.weak) >= 2 or (bool(self.weak) and bool(self.thanks))

    def is_positive_comment(self) -> bool:
        """A survey comment that praises (the score already says the customer was pleased): any praise, no complaint."""
        if self.complaints:
            return False
        return bool(self.strong or self.weak or self.thanks)


def read_praise(text: str) -> PraiseReading:
    normalised = _without(_normalise(own_words(text)), _COURTESY)
    strong = _found(normalised, _STRONG)
    # "great service", counted as strong, must not count again as the weak "great"
    weak = _found(_without(normalised, tuple(p for p in _STRONG if p[0] in strong)), _WEAK)
    return PraiseReading(strong=tuple(strong), weak=tuple(weak), thanks=tuple(_found(normalised, _THANKS)),
                         complaints=tuple(_found(normalised, _COMPLAINT)), asks="?" in normalised)  # fmt: skip


def complains_about_surveys(text: str) -> bool:
    """True when one sentence of the customer's own words names surveys and asks them to stop (or objects to them)."""
    for sentence in _SENTENCE.split(own_words(text)):
        normalised = _normalise(sentence)
        if _found(normalised, _SURVEY) and _found(normalised, _STOP):
            return True
    return False
