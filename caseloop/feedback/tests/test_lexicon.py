"""The praise and survey-complaint lexicon, sentence by sentence."""

from __future__ import annotations

import pytest

from caseloop.feedback.lexicon import complains_about_surveys, own_words, read_praise

COMPLIMENTS = [
    "Thank you so much, Dave was brilliant!",
    "The technician was friendly and professional.",
    "Thanks for the quick response",
    "Great service, you went above and beyond.",
    "Outstanding work by Maria \u2014 a credit to your company.",
    "Just wanted to say thanks, the new spring works perfectly and your guy was really helpful",
    "Five stars. Lovely, patient people.",
]
NOT_COMPLIMENTS = [
    "Thanks, but it is still broken",
    "Please send the invoice. Kind regards, Ann",
    "Please send the invoice. Thank you very much.",  # courtesy, not praise
    "Can you also check my invoice? Thanks, great work",  # a request first
    "I was not impressed",
    "The door broke again. Great.",
    "Good morning, the remote doesn't work",
    "I would be happy if you could call me. Thanks",
    "Thanks",
    "Unfortunately the fix was excellent only for a day",
    "Wasn\u2019t helpful at all",
]


@pytest.mark.parametrize("text", COMPLIMENTS)
def test_compliments_are_recognised(text):
    assert read_praise(text).is_compliment()


@pytest.mark.parametrize("text", NOT_COMPLIMENTS)
def test_complaints_requests_and_courtesy_are_not_compliments(text):
    assert not read_praise(text).is_compliment()


def test_reading_names_what_it_found():
    reading = read_praise("Great service from Sam, thank you! The fitter was friendly.")
    assert (reading.strong, reading.weak, reading.thanks, reading.complaints, reading.asks) == (
        ("great service",), ("friendly",), ("thank you",), (), False)  # fmt: skip


def test_a_survey_comment_needs_less_to_be_positive_but_no_complaint():
    assert read_praise("Thanks!").is_positive_comment()
    assert read_praise("Quick and easy").is_positive_comment()
    assert not read_praise("Quick, but the noise is back").is_positive_comment()
    assert not read_praise("").is_positive_comment()


def test_quoted_text_is_not_the_customers_words():
    reply = "Brilliant, thanks!\n\nOn Tue, 3 Mar 2026 at 10:00, Support <s@x> wrote:\n> still broken? stop surveys"
    assert own_words(reply) == "Brilliant, thanks!"
    assert read_praise(reply).is_compliment()
    assert not complains_about_surveys(reply)
    outlook = "Works now.\n-----Original Message-----\nFrom: Support\nHow did we do? Please fill our survey"
    assert own_words(outlook) == "Works now."


@pytest.mark.parametrize("text", [
    "Please stop sending me surveys.",
    "Too many feedback emails, I'm tired of them",
    "Unsubscribe me from your questionnaires!",
    "I don\u2019t want a survey every time you fix something. Don't send any more.",
])  # fmt: skip
def test_complaints_about_surveys(text):
    assert complains_about_surveys(text)


@pytest.mark.parametrize("text", [
    "Happy to do the survey. Please stop the door from squeaking!",  # surveys and "stop" in different sentences
    "The survey was fine.",
    "Stop by on Tuesday please.",
])  # fmt: skip
def test_no_complaint_about_surveys(text):
    assert not complains_about_surveys(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The spring on the left side snapped this morning; can you come Tuesday?", False),
        ("Amazing work by Dana, thank you!", True),
        ("Thanks, that was quick", True),
        ("Please stop sending me these surveys.", True),
        ("Invoice 4411 attached.", False),
    ],
)
def test_the_quick_check_only_lets_texts_without_a_feedback_word_skip_the_reading(text, expected):
    from caseloop.feedback.lexicon import complains_about_surveys, may_concern_feedback, read_praise

    assert may_concern_feedback(text) is expected
    if not expected:  # skipping loses nothing: the full reading finds nothing either
        reading = read_praise(text)
        assert not reading.is_compliment() and not complains_about_surveys(text)


def test_the_quick_check_never_skips_a_text_the_full_reading_would_catch():
    from caseloop.feedback.lexicon import STRONG_PRAISE, SURVEY_WORDS, WEAK_PRAISE, may_concern_feedback

    for term in (*STRONG_PRAISE, *WEAK_PRAISE, *SURVEY_WORDS):
        word = term.rstrip("*") + ("ing" if term.endswith("*") else "")
        for text in (f"{word}", f"Well, {word.upper()}!", f"({word}-looking)", f"It was {word}."):
            assert may_concern_feedback(text), (term, text)
