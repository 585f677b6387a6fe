"""HTML from outside is sanitised by nh3 (the Ammonia library) before storage."""

from __future__ import annotations

import html
import re

import nh3

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# cid: keeps inline images of an email resolvable; no javascript:, no data:
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}


def sanitize_html(raw: str) -> str:
    """Return `raw` with only harmless markup left."""
    if not raw:
        return ""
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_BLOCK_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(raw: str) -> str:
    """Plain text for an HTML-only body: block ends become newlines, tags go."""
    cleaned = nh3.clean(_BLOCK_BREAK.sub("\n", raw), tags=set(), strip_comments=True)
    text = html.unescape(cleaned)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", text).strip()


def one_line(text: str) -> str:
    """`text` as one line: every run of whitespace (line breaks, tabs, U+2028 …) one space, none at the ends.

    For text that ends up in a header (a case's subject becomes a reply's Subject), where a line
    break would start another header or make the email impossible to write.
    """
    return " ".join(text.split())
