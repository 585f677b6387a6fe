"""The demo's staff and teams, made through the identity actions (with one password hash shared by all)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from caseloop.demo.vocabulary import STAFF, TEAMS
from caseloop.identity.actions import add_member, create_team, create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User

# Printed by `caseloop quickstart`; every demo account has it. Demo data only.
DEMO_PASSWORD = "caseloop-demo"  # noqa: S105
STAFF_EMAIL_DOMAIN = "caseloop.example"


@dataclass(frozen=True, slots=True)
class DemoStaff:
    users: dict[str, User]
    teams: dict[str, Team]
    # who answers each team's cases (agents and the manager), and who goes out on visits
    team_agents: dict[str, list[User]] = field(default_factory=dict)
    technicians: list[User] = field(default_factory=list)

    @property
    def admin(self) -> User:
        return self.users["admin"]


def give_demo_password(users: list[User]) -> None:
    """Set DEMO_PASSWORD on new demo accounts, hashed once for all of them.

    Hashing is deliberately slow (PBKDF2: a third of a second here), and a demo
    has a dozen accounts with one public password, so they share one hash.
    """
    if not users:
        return
    hashed = make_password(DEMO_PASSWORD)
    User.objects.filter(pk__in=[u.pk for u in users]).update(password=hashed)
    for user in users:
        user.password = hashed


def ensure_demo_staff() -> DemoStaff:
    """Create the demo teams and staff that are missing; keep the ones that exist (and their passwords)."""
    teams = {t.name: t for t in Team.objects.filter(name__in=[name for name, _ in TEAMS])}
    for name, description in TEAMS:
        if name not in teams:
            teams[name] = create_team(name=name, description=description)
    users: dict[str, User] = {}
    existing = {u.username: u for u in User.objects.filter(username__in=[s[0] for s in STAFF])}
    made: list[User] = []
    for username, display_name, role, team_names, is_lead in STAFF:
        user = existing.get(username) or create_user(
            username=username, email=f"{username}@{STAFF_EMAIL_DOMAIN}", password=None, role=Role(role),
            display_name=display_name,
        )  # fmt: skip
        if username not in existing:
            made.append(user)
        users[username] = user
        for team_name in team_names:
            add_member(team=teams[team_name], user=user, is_lead=is_lead)
    give_demo_password(made)
    team_agents = {
        name: [users[s[0]] for s in STAFF if name in s[3] and s[2] in {Role.AGENT, Role.MANAGER}] for name, _ in TEAMS
    }
    technicians = [users[s[0]] for s in STAFF if s[2] == Role.TECHNICIAN]
    return DemoStaff(users=users, teams=teams, team_agents=team_agents, technicians=technicians)
