"""A year of cases: each one a short story (opened, answered, maybe noted, solved, closed).

`StoryMaker` invents stories; `CaseWriter` turns a story into exactly the rows
`caseloop.cases.actions` writes for the same sequence of calls (`create_case`,
then `add_message` / `change_status` per step): the case, its messages, tags,
and the timeline events fanned out to the case's subjects, and audit entries.
`caseloop/demo/tests/test_equivalence.py` replays stories through the real
actions and compares the rows, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings

from caseloop.cases.choices import ALLOWED_TRANSITIONS, CaseStatus, Channel, Direction, Priority
from caseloop.cases.models import Case, Message
from caseloop.demo import vocabulary as v
from caseloop.demo.customers import CustomerBase, DemoContact, DemoSite
from caseloop.demo.people import DemoStaff
from caseloop.demo.rows import History, IdPool, Statement, Table
from caseloop.identity.models import Team, User
from caseloop.timeline.choices import SubjectKind as S


class StepKind(StrEnum):
    REPLY = "reply"  # add_message OUTBOUND by staff
    NOTE = "note"  # add_message NOTE by staff
    INBOUND = "inbound"  # add_message INBOUND from the requester (arrived by the case's channel)
    STATUS = "status"  # change_status (actor None: the system, e.g. closing solved cases)


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    at: dt.datetime
    actor: User | None = None
    text: str = ""
    status: str = ""


@dataclass(slots=True)
class Story:
    """One case's life, as the sequence of action calls that would have made it."""

    opened_at: dt.datetime
    subject: str
    body: str
    channel: str
    priority: str
    requester: DemoContact
    opener: User | None = None  # who called create_case (None: a channel, e.g. email ingestion)
    team: Team | None = None
    assignee: User | None = None
    site_id: int | None = None
    asset_id: int | None = None
    partner_id: int | None = None
    tags: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def message_count(self) -> int:
        return 1 + sum(1 for s in self.steps if s.kind != StepKind.STATUS)


class IllegalStory(Exception):
    """A story asked for something the actions would refuse; the generator has a bug."""


class CaseWriter:
    """Makes the rows of stories; `drain` hands them over for writing."""

    def __init__(self, *, tag_ids: dict[str, int], block: int = 10_000) -> None:
        self.tag_ids = tag_ids
        self.cases = Table(Case)
        self.messages = Table(Message)
        self.case_tags = Table(Case.tags.through, with_id=False)
        self.history = History()
        self.case_ids = IdPool(Case, block=block)
        self.message_ids = IdPool(Message, block=4 * block)

    def add(self, stories: Sequence[Story]) -> list[int]:
        """Make the rows of these stories; returns their case ids."""
        case_ids = self.case_ids.take(len(stories))
        message_ids = iter(self.message_ids.take(sum(s.message_count for s in stories)))
        for story, case_id in zip(stories, case_ids, strict=True):
            self._write(story, case_id, message_ids)
        return case_ids

    def drain(self) -> list[Statement]:
        tables = (self.cases.drain(), self.messages.drain(), self.case_tags.drain())
        return [st for st in tables if st is not None] + self.history.drain()

    def counts(self) -> dict[str, int]:
        return {"cases": self.cases.written, "messages": self.messages.written, "case_tags": self.case_tags.written,
                "history_rows": self.history.written}  # fmt: skip

    def release_ids(self) -> None:
        self.case_ids.release()
        self.message_ids.release()

    def _write(self, story: Story, case_id: int, message_ids: Iterator[int]) -> None:
        requester = story.requester
        number = f"{settings.CASELOOP_CASE_NUMBER_PREFIX}-{case_id}"
        subjects = [(S.CASE, case_id), (S.CONTACT, requester.id), (S.ORGANIZATION, requester.organization_id),
                    (S.SITE, story.site_id), (S.ASSET, story.asset_id)]  # fmt: skip
        history = self.history
        when = story.opened_at
        # create_case: the case, its first (inbound) message, tags, one event, one audit entry
        first_id = next(message_ids)
        self._message(first_id, case_id, Direction.INBOUND, story.channel, when, story.body, contact=requester.id)
        for tag in story.tags:
            self.case_tags.add({"case_id": case_id, "tag_id": self.tag_ids[tag]})
        history.event(kind="case.opened", subjects=subjects, actor=story.opener, case_id=case_id, occurred_at=when,
                      summary=f"{number} opened: {story.subject}",
                      data={"channel": story.channel, "priority": story.priority, "message": first_id})  # fmt: skip
        history.audit(action="case.create", object_type="case", object_id=case_id, actor=story.opener, at=when,
                      after={"subject": story.subject, "requester": requester.id, "channel": story.channel,
                             "priority": story.priority, "team": story.team.pk if story.team else None,
                             "assignee": story.assignee.pk if story.assignee else None,
                             "tags": story.tags})  # fmt: skip
        state: dict[str, Any] = {
            "status": CaseStatus.NEW.value, "updated_at": when, "first_response_at": None, "solved_at": None,
            "closed_at": None, "last_message_at": when, "message_count": 1,
        }  # fmt: skip
        for step in story.steps:
            if step.kind == StepKind.STATUS:
                self._change_status(state, step, case_id, number)
            else:
                self._add_message(state, step, story, case_id, number, next(message_ids), subjects)
        self.cases.add({
            "id": case_id, "subject": story.subject, "priority": story.priority, "channel": story.channel,
            "requester_id": requester.id, "organization_id": requester.organization_id, "site_id": story.site_id,
            "asset_id": story.asset_id, "assignee_id": story.assignee.pk if story.assignee else None,
            "team_id": story.team.pk if story.team else None, "partner_id": story.partner_id, "custom_fields": {},
            "created_at": when, **state,
        })  # fmt: skip

    def _message(self, mid: int, case_id: int, direction: str, channel: str, at: dt.datetime, text: str, *,
                 contact: int | None = None, user: User | None = None) -> None:  # fmt: skip
        external = f"<{mid}.demo@mail.example>" if channel == Channel.EMAIL and direction == Direction.INBOUND else None
        self.messages.add({"id": mid, "case_id": case_id, "direction": direction, "channel": channel,
                           "author_user_id": user.pk if user else None, "author_contact_id": contact,
                           "body_text": text, "body_html": "", "external_id": external, "created_at": at})  # fmt: skip

    def _add_message(self, state: dict[str, Any], step: Step, story: Story, case_id: int, number: str, mid: int,
                     subjects: list[tuple[S, int | None]]) -> None:  # fmt: skip
        """As `add_message`: inbound reopens pending/solved; the first reply sets first_response_at."""
        if state["status"] == CaseStatus.CLOSED:
            raise IllegalStory(f"{number} is closed; add_message would refuse step {step}.")
        direction = {StepKind.REPLY: Direction.OUTBOUND, StepKind.NOTE: Direction.NOTE,
                     StepKind.INBOUND: Direction.INBOUND}[step.kind]  # fmt: skip
        channel = Channel.INTERNAL.value if direction == Direction.NOTE else story.channel
        when = step.at
        if direction == Direction.INBOUND:
            self._message(mid, case_id, direction, channel, when, step.text, contact=story.requester.id)
        else:
            self._message(mid, case_id, direction, channel, when, step.text, user=step.actor)
        state.update(updated_at=when, last_message_at=when, message_count=state["message_count"] + 1)
        before = state["status"]
        if direction == Direction.INBOUND and before in (CaseStatus.PENDING, CaseStatus.SOLVED):
            state.update(status=CaseStatus.OPEN.value, solved_at=None)
        elif direction == Direction.OUTBOUND:
            if state["first_response_at"] is None:
                state["first_response_at"] = when
            if before == CaseStatus.NEW:
                state["status"] = CaseStatus.OPEN.value
        if direction == Direction.INBOUND:
            kind, label, author = "message.received", "Message from", story.requester.name
        else:
            kind = "message.sent" if direction == Direction.OUTBOUND else "note.added"
            label = "Reply by" if direction == Direction.OUTBOUND else "Note by"
            author = step.actor.name if step.actor else "caseloop"
        self.history.event(kind=kind, subjects=subjects if direction != Direction.NOTE else [(S.CASE, case_id)],
                           actor=step.actor, case_id=case_id, occurred_at=when,
                           summary=f"{label} {author} on {number}: {step.text[:120]}",
                           data={"message": mid, "channel": channel})  # fmt: skip
        if state["status"] != before:
            self.history.event(kind="case.status_changed", subjects=[(S.CASE, case_id)], actor=step.actor,
                               case_id=case_id, occurred_at=when, summary=f"{number} {before} → {state['status']}",
                               data={"from": before, "to": state["status"]})  # fmt: skip

    def _change_status(self, state: dict[str, Any], step: Step, case_id: int, number: str) -> None:
        """As `change_status`: only moves in ALLOWED_TRANSITIONS; solving and closing stamp their time."""
        before, status, when = state["status"], step.status, step.at
        if before == status:
            return
        if status not in ALLOWED_TRANSITIONS[before]:
            raise IllegalStory(f"{number} cannot go from {before} to {status}.")
        state.update(status=status, updated_at=when)
        if status == CaseStatus.SOLVED:
            state["solved_at"] = when
        elif status == CaseStatus.CLOSED:
            state["closed_at"] = when
        elif before == CaseStatus.SOLVED:
            state["solved_at"] = None
        kind = "case.reopened" if before == CaseStatus.SOLVED and status == CaseStatus.OPEN else "case.status_changed"
        self.history.event(kind=kind, subjects=[(S.CASE, case_id)], actor=step.actor, case_id=case_id,
                           occurred_at=when, summary=f"{number} {before} → {status}",
                           data={"from": before, "to": status})  # fmt: skip
        self.history.audit(action="case.status", object_type="case", object_id=case_id, actor=step.actor, at=when,
                           before={"status": before}, after={"status": status})  # fmt: skip


# --- inventing stories -------------------------------------------------------------
_CHANNELS = (Channel.EMAIL, Channel.PHONE, Channel.WEB, Channel.CHAT, Channel.SMS)
_CHANNEL_CUM = list(itertools.accumulate((45, 18, 15, 15, 7)))
_WEEKDAY_FACTOR = (1.3, 1.15, 1.1, 1.1, 1.0, 0.5, 0.4)  # Monday first
# customers mostly write in US business hours: local hour factors, applied at UTC-6
_HOUR_FACTOR = (0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.7, 1.2, 1.5, 1.5, 1.4, 1.3, 1.4, 1.4, 1.3, 1.2, 1.0, 0.8,
                0.7, 0.6, 0.5, 0.3, 0.2)  # fmt: skip
_DOLLARS = (19, 24, 38, 46, 54, 95, 119, 129, 139, 189, 240)
_HEATING = {"furnace_no_heat", "furnace_noise", "water_heater_no_hot"}
_COOLING = {"ac_not_cooling", "commercial_cooling"}


def _season(topic_key: str, month: int) -> float:
    winter = month in (11, 12, 1, 2)
    summer = month in (6, 7, 8)
    if topic_key in _HEATING:
        return 1.8 if winter else 0.4 if summer else 1.0
    if topic_key in _COOLING:
        return 2.0 if summer else 0.3 if winter else 0.9
    return 1.0


class StoryMaker:
    """Invents the i-th of `total` cases, in time order (ids rise with time, as in real life)."""

    def __init__(self, *, rng: random.Random, staff: DemoStaff, base: CustomerBase, start: dt.datetime,
                 now: dt.datetime, total: int, carla: DemoContact | None) -> None:  # fmt: skip
        self.rng = rng
        self.staff = staff
        self.base = base
        self.start = start
        self.now = now
        self.total = total
        self.carla = carla
        self.carla_share = min(0.05, 8 / total)
        hours = int((now - start).total_seconds() // 3600)
        weights = []
        for hour in range(hours):
            moment = start + dt.timedelta(hours=hour)
            local = moment - dt.timedelta(hours=6)
            growth = 0.85 + 0.3 * hour / max(1, hours)  # the business grows over the year
            weights.append(growth * _WEEKDAY_FACTOR[local.weekday()] * _HOUR_FACTOR[local.hour])
        self.hour_cum = list(itertools.accumulate(weights))
        self.topics_by_month = {
            month: list(itertools.accumulate(t.weight * _season(t.key, month) for t in v.TOPICS))
            for month in range(1, 13)
        }
        self.fallback = next(t for t in v.TOPICS if t.key == "invoice_question")

    def opened_at(self, index: int) -> dt.datetime:
        """Stratified draws through the year's arrival curve: sorted by index, busy on weekday mornings."""
        target = (index + self.rng.random()) / self.total * self.hour_cum[-1]
        hour = min(bisect.bisect_left(self.hour_cum, target), len(self.hour_cum) - 1)
        moment = self.start + dt.timedelta(hours=hour, seconds=self.rng.uniform(0, 3599))
        return min(moment, self.now - dt.timedelta(seconds=1))

    def _requester(self, moment: dt.datetime) -> DemoContact:
        rng = self.rng
        if self.carla is not None and rng.random() < self.carla_share:
            return self.carla
        eligible = max(1, self.base.eligible(moment))
        if rng.random() < 0.15:  # new customers have more questions
            back = int(rng.expovariate(1 / max(1.0, eligible * 0.05)))
            return self.base.contacts[max(0, eligible - 1 - back)]
        return self.base.contacts[rng.randrange(eligible)]

    def _topic(self, contact: DemoContact, site: DemoSite | None, moment: dt.datetime) -> v.Topic:
        kinds = {a.kind.key for a in site.assets} if site else set()
        cum = self.topics_by_month[moment.month]
        for _ in range(6):
            topic = self.rng.choices(v.TOPICS, cum_weights=cum)[0]
            if topic.key == "new_owner" and not (contact.is_new_owner and (moment - contact.created_at).days < 90):
                continue
            if topic.asset_kinds and not kinds.intersection(topic.asset_kinds):
                continue
            return topic
        return self.fallback

    def _target(self, age: dt.timedelta) -> str:
        """The status a case of this age has usually reached: most old ones closed, recent ones open."""
        days = age.total_seconds() / 86400
        options: tuple[str, ...]
        weights: tuple[int, ...]
        if days < 1:
            options, weights = ("new", "open", "pending", "solved"), (45, 35, 15, 5)
        elif days < 4:
            options, weights = ("new", "open", "pending", "on_hold", "solved"), (10, 35, 25, 10, 20)
        elif days < 14:
            options, weights = ("open", "pending", "on_hold", "solved", "closed"), (10, 10, 5, 45, 30)
        else:
            options, weights = ("closed", "solved", "pending", "on_hold"), (90, 5, 3, 2)
        return self.rng.choices(options, weights)[0]

    def story(self, index: int) -> Story:
        rng = self.rng
        opened = self.opened_at(index)
        contact = self._requester(opened)
        site = contact.site_at(opened)
        topic = self._topic(contact, site, opened)
        asset = None
        if topic.asset_kinds and site is not None:
            asset = rng.choice([a for a in site.assets if a.kind.key in topic.asset_kinds])
        team = self.staff.teams[topic.team]
        agents = self.staff.team_agents[topic.team]
        target = self._target(self.now - opened)
        assignee = None if target == "new" and rng.random() < 0.5 else rng.choice(agents)
        responder = assignee or rng.choice(agents)
        slots = self._slots(contact, site, asset, responder)
        urgent = rng.random() < topic.urgent_share
        priority = (Priority.URGENT if urgent else
                    rng.choices((Priority.HIGH, Priority.LOW, Priority.NORMAL), (12, 10, 78))[0])  # fmt: skip
        subject = rng.choice(topic.subjects).format(**slots)
        if priority == Priority.URGENT and rng.random() < 0.3:
            subject += " - urgent"
        channel = rng.choices(_CHANNELS, cum_weights=_CHANNEL_CUM)[0]
        detail = f" {rng.choice(v.RARE_DETAILS)}" if rng.random() < 0.15 else ""
        body = (f"{rng.choice(v.GREETINGS)}\n\n{rng.choice(topic.openings).format(**slots)}{detail}\n\n"
                f"{rng.choice(v.SIGN_OFFS)}\n{contact.name}")  # fmt: skip
        tags: list[str] = []
        if rng.random() < 0.45:
            tags = rng.sample(v.TAGS_BY_TEAM[topic.team], rng.choice((1, 1, 2)))
        story = Story(
            opened_at=opened, subject=subject[:300], body=body, channel=channel, priority=priority,
            requester=contact, opener=responder if channel == Channel.PHONE else None, team=team, assignee=assignee,
            site_id=site.id if site is not None and (asset is not None or topic.team == "Field service") else None,
            asset_id=asset.id if asset else None, tags=tags,
            partner_id=self.base.partners.get(topic.partner) if topic.partner and rng.random() < 0.5 else None,
        )  # fmt: skip
        story.steps = [s for s in self._steps(story, topic, target, responder, slots) if s.at <= self.now]
        return story

    def _slots(self, contact: DemoContact, site: DemoSite | None, asset: Any, agent: User) -> dict[str, str]:
        rng = self.rng
        tech = rng.choice(self.staff.technicians).name.split()[0] if self.staff.technicians else "our technician"
        order = rng.choice(contact.order_refs) if contact.order_refs else f"SO-{rng.randint(100_000, 999_999)}"
        return {
            "first": contact.first_name, "asset": asset.kind.name if asset else "equipment",
            "brand": asset.brand if asset else "", "model": asset.model if asset else "",
            "serial": asset.serial if asset else "", "spec": asset.spec if asset else "",
            "order": order, "invoice": f"INV-{rng.randint(20_000, 99_999)}",
            "amount": f"${rng.choice(_DOLLARS)}.{rng.choice(('00', '50', '99'))}",
            "weekday": rng.choice(v.WEEKDAYS), "window": rng.choice(v.WINDOWS), "tech": tech,
            "agent": agent.name.split()[0], "code": rng.choice(v.ERROR_CODES), "part": rng.choice(v.PARTS),
            "street": site.street if site else "your address", "city": site.city if site else "",
            "days": str(rng.randint(2, 12)),
        }  # fmt: skip

    def _steps(self, story: Story, topic: v.Topic, target: str, agent: User, slots: dict[str, str]) -> list[Step]:
        rng = self.rng
        moment = story.opened_at
        steps: list[Step] = []
        sign = f"\n\n{agent.name.split()[0]}\n{topic.team}"

        def later(low_minutes: float, high_minutes: float) -> dt.datetime:
            nonlocal moment
            # log-uniform waits: most answers come quickly, some take a day or two
            moment += dt.timedelta(minutes=math.exp(rng.uniform(math.log(low_minutes), math.log(high_minutes))))
            return moment

        def reply(text: str, low: float = 10, high: float = 1800) -> None:
            steps.append(Step(StepKind.REPLY, later(low, high), agent, text.format(**slots) + sign))

        def customer(texts: Sequence[str], low: float = 30, high: float = 2880) -> None:
            text = rng.choice(texts).format(**slots)
            steps.append(Step(StepKind.INBOUND, later(low, high), None, f"{text}\n\n{story.requester.first_name}"))

        def note(texts: Sequence[str]) -> None:
            steps.append(Step(StepKind.NOTE, later(2, 90), agent, rng.choice(texts).format(**slots)))

        def status(value: str, actor: User | None, low: float = 1, high: float = 20) -> None:
            steps.append(Step(StepKind.STATUS, later(low, high), actor, status=value))

        followups = topic.followups + v.FOLLOWUPS
        if target == "new":
            if rng.random() < 0.25:
                customer(("Just checking you received this.", "Adding: it is getting worse.",
                          "Any update? Thanks."), 20, 600)  # fmt: skip
            return steps
        urgent = story.priority == Priority.URGENT
        if target == "pending":
            reply(rng.choice(v.PENDING_REPLIES), 5 if urgent else 15, 90 if urgent else 1800)
            status("pending", agent)
            return steps
        reply(rng.choice(topic.replies), 5 if urgent else 15, 90 if urgent else 1800)
        if rng.random() < 0.2:
            note(topic.notes + v.NOTES)
        if target == "on_hold":
            note(("Waiting for the {part} from the supplier; expected within 5 days.",
                  "On hold until the customer is back from travel."))  # fmt: skip
            status("on_hold", agent)
            return steps
        if target == "open":
            if rng.random() < 0.4:
                customer(followups)
            return steps
        if rng.random() < 0.25:
            customer(followups)
            reply(rng.choice(topic.replies), 10, 600)
        if rng.random() < 0.05:  # solved too early: the customer writes back and it reopens
            reply(rng.choice(v.SOLVE_REPLIES), 60, 2880)
            status("solved", agent)
            customer(("That did not help, unfortunately. Same problem as before.",
                      "It happened again this morning."), 300, 4320)  # fmt: skip
            reply(rng.choice(topic.replies), 10, 600)
        reply(rng.choice(v.SOLVE_REPLIES), 60, 4320)
        status("solved", agent)
        if target == "closed":
            status("closed", None, 3 * 1440, 7 * 1440)  # solved cases close by themselves after a few days
        return steps
