"""Showing an estimate: the figure, its 95% interval, n, and a mark when the sample is small."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from caseloop.insights.stats import SMALL_SAMPLE, Estimate

register = template.Library()


def _text(value: float, kind: str) -> str:
    if kind == "nps":
        return f"{round(value * 100):+d}" if round(value * 100) else "0"
    if kind == "mean":
        return f"{value:.1f}"
    return f"{round(value * 100)}%"


@register.simple_tag
def figure(estimate: Estimate | None, kind: str = "percent") -> SafeString:
    """`62% 55-68 n=120`, or a dash when there is nothing to show; small samples carry a visible mark."""
    if estimate is None:
        return format_html('<span class="est est-none" title="no observation">{}</span>', "\u2014")
    low, high = _text(estimate.low, kind).rstrip("%"), _text(estimate.high, kind)
    return format_html(
        '<span class="est{}"><span class="est-value">{}</span> '
        '<span class="est-ci" title="95% interval">{}\u2013{}</span> <span class="est-n">n={}{}</span></span>',
        " est-small" if estimate.small else "", _text(estimate.value, kind), low, high, estimate.n,
        format_html(' <abbr class="small-flag" title="small sample: fewer than {}">small</abbr>', SMALL_SAMPLE)
        if estimate.small
        else "",
    )  # fmt: skip
