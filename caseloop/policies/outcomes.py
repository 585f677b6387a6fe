"""Survey outcomes of cases, supplied to the override review by a higher domain.

The override review (policies) compares overridden cases with comparable ones,
but survey answers belong to the feedback domain, which sits above policies and
may not be imported from here. So feedback registers a provider at start-up (an
AppConfig.ready): given case ids, it returns how their surveys were answered.
With no provider registered the review shows the reopen rate alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SurveyOutcome:
    """Answered surveys of some cases: how many, how many met or exceeded expectations, the mean effort (CES 1-7)."""

    answered: int = 0  # surveys whose headline (expectations) was answered
    met_or_exceeded: int = 0
    mean_ces: float | None = None

    @property
    def met_rate(self) -> float | None:
        return self.met_or_exceeded / self.answered if self.answered else None


SurveyProvider = Callable[[Sequence[int]], SurveyOutcome]
_provider: list[SurveyProvider] = []


def register_survey_outcome(provider: SurveyProvider) -> SurveyProvider:
    """Set the provider (decorator); the last one registered wins."""
    _provider[:] = [provider]
    return provider


def unregister_survey_outcome() -> None:
    """Forget the provider (tests: the review as it is without surveys)."""
    _provider.clear()


def survey_outcome(case_ids: Sequence[int]) -> SurveyOutcome | None:
    """The survey outcome of these cases, or None when no domain measures surveys."""
    if not _provider:
        return None
    if not case_ids:
        return SurveyOutcome()
    return _provider[0](case_ids)
