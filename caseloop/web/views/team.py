"""The team overview for managers: open and unassigned work, the oldest case, each agent's load."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from caseloop.cases.selectors import AgentLoad, TeamLoad, workload
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import staff_members, teams
from caseloop.web.access import StaffRequest, manager_view


@dataclass(frozen=True, slots=True)
class TeamRow:
    team: Team | None  # None: open cases no team has
    load: TeamLoad


@dataclass(frozen=True, slots=True)
class AgentRow:
    user: User
    load: AgentLoad
    share: int  # percent of the busiest agent's load, for the bar


@require_GET
@manager_view
def team_overview(request: StaffRequest) -> HttpResponseBase:
    by_id = {t.pk: t for t in teams()}
    people = {u.pk: u for u in staff_members()}
    load = workload()
    loads = load.teams
    rows = sorted((TeamRow(team=by_id.get(load.team_id) if load.team_id else None, load=load) for load in loads),
                  key=lambda r: (r.team is None, r.team.name if r.team else ""))  # fmt: skip
    per_agent = [a for a in load.agents if a.user_id in people]
    busiest = max((a.open for a in per_agent), default=0) or 1
    agents = [AgentRow(user=people[a.user_id], load=a, share=round(100 * a.open / busiest)) for a in per_agent]
    working = {a.user_id for a in per_agent}
    return render(request, "web/team.html", {
        "rows": rows,
        "total_open": sum(x.open for x in loads),
        "total_unassigned": sum(x.unassigned for x in loads),
        "agents": agents,
        "idle": [u for pk, u in people.items() if pk not in working],
    })  # fmt: skip
