"""`caseloop demo`: load a year of realistic demo data, fast, with a progress bar."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from tqdm import tqdm

from caseloop.cases.models import Case, Tag
from caseloop.core import clock
from caseloop.core.errors import DomainError, ErrorCode
from caseloop.customers.choices import IdentityKind
from caseloop.customers.models import ContactIdentity
from caseloop.demo import vocabulary as v
from caseloop.demo.cases import CaseWriter, StoryMaker
from caseloop.demo.customers import CustomerWriter, scale, write_customers, write_portal_customer
from caseloop.demo.people import ensure_demo_staff, give_demo_password
from caseloop.demo.process import write_process
from caseloop.demo.sink import InlineSink, ProcessSink, Sink
from caseloop.identity.actions import create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import User

# no monitor thread: it would live on in the process that loaded the demo (the quickstart, which then forks the
# server's workers) holding tqdm's lock every 10 s; our bars update often enough without it
tqdm.monitor_interval = 0

MAX_CASES = 1_000_000
CASE_BATCH = 2_000
# below this a second process costs more to start than it saves
PARALLEL_FROM = 20_000


class DemoErrorCode(ErrorCode):
    HAS_CASES = "demo_has_cases"
    BAD_SIZE = "demo_bad_size"


@dataclass(frozen=True, slots=True)
class DemoReport:
    cases: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in self.counts.items())
        return f"Loaded {self.cases:,} cases in {self.seconds:.1f} s ({parts})."


def load_demo(
    *,
    cases: int = 3_000,
    seed: int = 1,
    append: bool = False,
    progress: bool = True,
    parallel: bool | None = None,
    now: dt.datetime | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> DemoReport:
    """Write `cases` demo cases and the customers, staff and history around them.

    Refuses a database that already has cases unless `append`: demo rows mixed
    into real ones cannot be told apart afterwards. `parallel` (default: for
    big loads outside a transaction) writes from a second process.
    """
    if not 1 <= cases <= MAX_CASES:
        raise DomainError(DemoErrorCode.BAD_SIZE, f"The demo loads 1 to {MAX_CASES:,} cases, not {cases:,}.",
                          field="cases")  # fmt: skip
    if not append and Case.objects.exists():
        raise DomainError(
            DemoErrorCode.HAS_CASES,
            "This database already has cases; the demo loads only into an empty one (or pass --append).",
            status=409,
        )
    started = time.perf_counter()
    now = now or clock.now()
    start = now - dt.timedelta(days=365)
    rng = random.Random(seed)
    say = on_stage or (lambda _message: None)
    say("Creating the demo staff and teams …")
    staff = ensure_demo_staff()
    portal_user = _portal_user()
    tag_ids = _ensure_tags()
    contacts, organizations = scale(cases)
    block = min(20_000, max(contacts, cases))
    customers = CustomerWriter(rng=rng, seed=seed, now=now, start=start, block=block)
    case_writer = CaseWriter(tag_ids=tag_ids, block=min(block, cases))
    if parallel is None:
        parallel = cases >= PARALLEL_FROM and ProcessSink.available() and not connection.in_atomic_block
    sink: Sink = ProcessSink() if parallel else InlineSink()
    try:
        portal_contact = write_portal_customer(customers, sink, user_id=portal_user.pk) if portal_user else None
        with tqdm(total=contacts, unit="contact", desc="customers", disable=not progress) as bar:
            base = write_customers(customers, sink, contacts=contacts, organizations=organizations,
                                   on_progress=bar.update)  # fmt: skip
        maker = StoryMaker(rng=rng, staff=staff, base=base, start=start, now=now, total=cases, carla=portal_contact)
        with tqdm(total=cases, unit="case", desc="cases", disable=not progress) as bar:
            for first in range(0, cases, CASE_BATCH):
                stories = [maker.story(i) for i in range(first, min(cases, first + CASE_BATCH))]
                case_writer.add(stories)
                sink.write(case_writer.drain())
                bar.update(len(stories))
        if parallel:
            say("Waiting for the last rows to be written …")
        sink.close()
    except BaseException:
        if isinstance(sink, ProcessSink):
            sink.abort()
        raise
    customers.release_ids()
    case_writer.release_ids()
    say("Setting up business hours, SLAs, rules, limits and the price book …")
    process = write_process(staff=staff, rng=random.Random(seed), now=now,
                            carla_contact_id=portal_contact.id if portal_contact else None)  # fmt: skip
    say("Updating the query planner's statistics …")
    _analyze()
    counts = {**customers.counts(), **case_writer.counts()}
    counts["history_rows"] = customers.history.written + case_writer.history.written
    counts.update(process.as_dict())
    return DemoReport(cases=cases, seconds=time.perf_counter() - started, counts=counts)


def _portal_user() -> User | None:
    """The customer account of the portal demo, made once; None when Carla's contact exists already."""
    if ContactIdentity.objects.filter(kind=IdentityKind.EMAIL, value=v.CUSTOMER_EMAIL).exists():
        return None
    existing = User.objects.filter(username=v.CUSTOMER_USERNAME).first()
    if existing is not None:
        return existing
    user = create_user(username=v.CUSTOMER_USERNAME, email=v.CUSTOMER_EMAIL, password=None, role=Role.CUSTOMER,
                       display_name=v.CUSTOMER_NAME)  # fmt: skip
    give_demo_password([user])
    return user


def _ensure_tags() -> dict[str, int]:
    names = sorted({tag for tags in v.TAGS_BY_TEAM.values() for tag in tags})
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=names).values_list("name", "id"))


def _analyze() -> None:
    """Fresh planner statistics: without them SQLite may pick a poor index on the new, big tables."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 1000")  # sample, so this takes seconds, not minutes
            cursor.execute("ANALYZE")
        elif connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
