"""What the customer reads: the survey, follow-up and thank-you messages, in text and in HTML.

Links are absolute (CASELOOP_SITE_URL) and carry a signed token. The HTML is
built from escaped pieces only; the cases domain sanitises it again on storage.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from caseloop.cases.choices import Channel
from caseloop.cases.models import Case
from caseloop.customers.models import Contact
from caseloop.feedback.choices import Expectation, Question


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def survey_url(token: str) -> str:
    return absolute(reverse("feedback:survey", kwargs={"token": token}))


def click_url(token: str, choice: Expectation) -> str:
    return absolute(reverse("feedback:survey_click", kwargs={"token": token, "choice": choice.value}))


def follow_up_url(token: str, *, held: bool) -> str:
    return absolute(reverse("feedback:follow_up_answer", kwargs={"token": token, "answer": "yes" if held else "no"}))


@dataclass(frozen=True, slots=True)
class Text:
    body_text: str
    body_html: str


# channels whose replies reach the customer as a text message (a phone case is answered by SMS)
SHORT_CHANNELS = frozenset({Channel.SMS, Channel.PHONE})
# best first: the order the customer reads the choices in
CHOICES_SHOWN = (Expectation.EXCEEDED, Expectation.MET, Expectation.FAILED)


def _greeting(contact: Contact) -> str:
    return f"Hello {contact.first_name}," if contact.first_name else "Hello,"


def survey_text(*, case: Case, contact: Contact, token: str, questions: list[str], channel: str) -> Text:
    links = [(choice.label, click_url(token, choice)) for choice in CHOICES_SHOWN]
    if channel in SHORT_CHANNELS:
        # a text message is short: the three links and nothing else
        short = " ".join(f"{label.split(' my ')[0]}: {url}" for label, url in links)
        text = f"How did we do on {case.number}? {short}"
        return Text(body_text=text, body_html="")
    more = [q for q in questions if q not in (Question.EXPECTATIONS, Question.COMMENT)]
    days = settings.CASELOOP_SURVEY_LINK_DAYS
    lines = [
        _greeting(contact), "",
        f"we have solved your case {case.number}: {case.subject}",
        "Did we meet your expectations? One click is all it takes:", "",
        *[f"  {label}: {url}" for label, url in links], "",
    ]  # fmt: skip
    if more:
        lines.append(f"After your click, {len(more)} more short question{'s' if len(more) > 1 else ''} "
                     "and room for a comment, all optional.")  # fmt: skip
    lines += [f"These links work for {days} days. If you would rather not get surveys from us, "
              "say so on the page they open.", ""]  # fmt: skip
    body_html = (
        f"<p>{html.escape(_greeting(contact))}</p>"
        f"<p>we have solved your case {html.escape(case.number)}: {html.escape(case.subject)}</p>"
        "<p><strong>Did we meet your expectations?</strong> One click is all it takes:</p><ul>"
        + "".join(f'<li><a href="{html.escape(url)}">{html.escape(label)}</a></li>' for label, url in links)
        + "</ul>"
        + (f"<p>After your click, {len(more)} more short question{'s' if len(more) > 1 else ''} and room for a "
           "comment, all optional.</p>" if more else "")
        + f"<p>These links work for {days} days. If you would rather not get surveys from us, say so on the page "
        "they open.</p>"
    )  # fmt: skip
    return Text(body_text="\n".join(lines), body_html=body_html)


def follow_up_text(*, case: Case, contact: Contact, token: str, channel: str) -> Text:
    yes, no = follow_up_url(token, held=True), follow_up_url(token, held=False)
    if channel in SHORT_CHANNELS:
        return Text(body_text=f"Did our fix on {case.number} hold? Yes: {yes} No: {no}", body_html="")
    question = f"a few days ago we solved your case {case.number}: {case.subject}. Is everything still working?"
    text = "\n".join([_greeting(contact), "", question, "", f"  Yes, it holds: {yes}", f"  No, it does not: {no}", "",
                      "If it does not, your case opens again and we will be in touch.", ""])  # fmt: skip
    body_html = (
        f"<p>{html.escape(_greeting(contact))}</p><p>{html.escape(question)}</p><ul>"
        f'<li><a href="{html.escape(yes)}">Yes, it holds</a></li>'
        f'<li><a href="{html.escape(no)}">No, it does not</a></li></ul>'
        "<p>If it does not, your case opens again and we will be in touch.</p>"
    )
    return Text(body_text=text, body_html=body_html)


def thank_you_draft(*, contact: Contact, names: list[str], author: str) -> str:
    """A starting point for the personal thank-you; the person sending it makes it theirs."""
    who = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else (names[0] if names else "the team")
    return (f"{_greeting(contact)}\n\nthank you for your kind words. I have passed them on to {who}; "
            f"it means a lot to them.\n\n{author}")  # fmt: skip


def not_held_text(*, note: str) -> str:
    base = "Follow-up: the customer says the fix did not hold."
    return f"{base}\n\n{note.strip()}" if note.strip() else base
