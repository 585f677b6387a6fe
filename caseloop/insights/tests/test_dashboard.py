"""The dashboard's reads, page, CSV exports and API on stored daily sums."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse

from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.identity.choices import Role
from caseloop.insights import selectors
from caseloop.insights.alarm import Thresholds
from caseloop.insights.choices import Dimension
from caseloop.insights.models import CaseFact, DailySegmentStat, RefreshState
from caseloop.insights.process import measured
from caseloop.insights.selectors import Period
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_agent, make_case, make_team
from caseloop.testing.web import signed_in

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 2)
PERIOD = Period(start=MONDAY - dt.timedelta(weeks=7), end=MONDAY + dt.timedelta(days=6))  # 8 weeks
NOW = dt.datetime(2026, 3, 8, 18, 0, tzinfo=dt.UTC)


def day_stat(day, dimension, key, **counters):
    DailySegmentStat.objects.create(day=day, dimension=dimension, key=key, **counters)


@pytest.fixture
def sums(db):
    """Two teams over 8 weeks; team North's answers collapse in the last four weeks, South stays fine."""
    north, south = make_team("North"), make_team("South")
    for week in range(8):
        day = PERIOD.start + dt.timedelta(weeks=week, days=2)
        north_good = 45 if week < 4 else 25  # of 50 answers a week: 90% then 50%
        for dimension, key, good, bad in ((Dimension.TEAM, str(north.pk), north_good, 50 - north_good),
                                          (Dimension.TEAM, str(south.pk), 40, 10)):  # fmt: skip
            day_stat(day, dimension, key, cases=60, exp_n=50, exp_met=good, exp_failed=bad, nps_n=50,
                     nps_promoters=good, nps_detractors=bad, promises_due=60, promises_kept=58)  # fmt: skip
        day_stat(day, Dimension.ALL, "", cases=120, exp_n=100, exp_met=north_good + 40, exp_failed=60 - north_good,
                 nps_n=100, nps_promoters=north_good + 40, nps_detractors=60 - north_good, promises_due=120,
                 promises_kept=116)  # fmt: skip
    day_stat(PERIOD.start - dt.timedelta(days=1), Dimension.ALL, "", cases=999)  # outside the period
    return {"north": north, "south": south}


def test_segments_sum_the_days_of_the_period(manager, sums):
    overall, table = selectors.segments(manager, dimension=Dimension.TEAM, period=PERIOD)
    assert overall.figures.cases == 960
    assert [(s.label, s.figures.cases) for s in table] == [("North", 480), ("South", 480)]
    north = table[0].figures
    assert north.met_or_exceeded is not None
    assert (north.met_or_exceeded.n, north.met_or_exceeded.value) == (400, 280 / 400)
    assert north.promises_kept is not None and north.promises_kept.value == 464 / 480


def test_trend_is_week_by_week_with_empty_weeks(manager, sums):
    weeks = selectors.trend(manager, dimension=Dimension.TEAM, key=str(sums["north"].pk),
                            period=Period(start=PERIOD.start, end=PERIOD.end + dt.timedelta(days=7)))  # fmt: skip
    assert [w.start for w in weeks][:2] == [PERIOD.start, PERIOD.start + dt.timedelta(weeks=1)]
    assert len(weeks) == 9
    assert [w.figures.cases for w in weeks] == [60] * 8 + [0]
    assert weeks[-1].figures.met_or_exceeded is None


def test_the_alarm_flags_the_falling_team_with_compliance_from_promises(manager, sums):
    flagged = selectors.alarms(manager, dimension=Dimension.TEAM, period=PERIOD)
    assert [f.segment.label for f in flagged] == ["North"]
    assert flagged[0].alarm.reasons == [
        "97% of 480 promises kept", "only 70% of 400 answers met or exceeded expectations",
        "met or exceeded fell from 90% to 50% in the last 4 weeks",
    ]  # fmt: skip
    assert selectors.alarms(manager, dimension=Dimension.TEAM, period=PERIOD,
                            limits=Thresholds(compliance_at_least=0.99)) == []  # fmt: skip


def test_retention_tables_name_every_outcome(manager, sums):
    day_stat(MONDAY, Dimension.EXPECTATIONS, "failed", cases=10, ret90_base=10, ret90_yes=2)
    day_stat(MONDAY, Dimension.EXPECTATIONS, "exceeded", cases=10, ret90_base=10, ret90_yes=9)
    by_outcome, by_promise = selectors.retention(manager, period=PERIOD)
    assert [s.label for s in by_outcome] == ["Failed to meet my expectations", "Met my expectations",
                                             "Exceeded my expectations", "No answer"]  # fmt: skip
    assert [s.figures.retention_90.value if s.figures.retention_90 else None for s in by_outcome] == [
        0.2, None, 0.9, None]  # fmt: skip
    assert [s.key for s in by_promise] == ["broken", "kept", "none"]


def test_cases_behind_a_segment_are_its_poor_outcomes_newest_first(manager, agent):
    team = make_team("West")
    cases = [make_case(team=team) for _ in range(4)]
    outcomes = [("failed", 9, None), ("met", 3, None), ("met", 9, True), ("exceeded", 10, None)]
    for n, (case, (expectation, nps, repeat)) in enumerate(zip(cases, outcomes, strict=True)):
        solved = NOW - dt.timedelta(days=n)
        CaseFact.objects.create(case=case, solved_at=solved, solved_on=solved.date(), customer_id=case.requester_id,
                                team_id=team.pk, channel="email", expectations=expectation, nps=nps,
                                repeat_at=solved + dt.timedelta(days=1) if repeat else None,
                                refreshed_at=NOW)  # fmt: skip
    found = selectors.cases_behind(manager, dimension=Dimension.TEAM, key=str(team.pk), period=PERIOD)
    assert [f.case_id for f in found] == [cases[0].pk, cases[1].pk, cases[2].pk]  # not the delighted customer
    page_two = selectors.cases_behind(manager, dimension=Dimension.TEAM, key=str(team.pk), period=PERIOD,
                                      before=(found[0].solved_on, found[0].case_id))  # fmt: skip
    assert [f.case_id for f in page_two] == [cases[1].pk, cases[2].pk]
    assert selectors.cases_behind(manager, dimension=Dimension.TEAM, key="none", period=PERIOD) == []


def test_agents_do_not_see_the_dashboard(agent, sums):
    with pytest.raises(DomainError) as excinfo:
        selectors.segments(agent, dimension=Dimension.TEAM, period=PERIOD)
    assert excinfo.value.code == "permission_denied"


@pytest.mark.parametrize(("start", "end", "field"), [("2026-03-10", "2026-03-01", "end"), ("yesterday", None, "start"),
                                                     ("2020-01-01", "2026-01-01", "start")])  # fmt: skip
def test_bad_periods_are_refused(start, end, field):
    with pytest.raises(DomainError) as excinfo:
        selectors.parse_period(start, end)
    assert (excinfo.value.code, excinfo.value.field) == ("bad_range", field)


def test_default_period_is_twelve_weeks_from_a_monday():
    period = selectors.default_period(dt.date(2026, 3, 5))  # a Thursday
    assert (period.start, period.end, period.start.weekday()) == (dt.date(2025, 12, 15), dt.date(2026, 3, 5), 0)


# --- the page --------------------------------------------------------------------------------------------------
def _page(user, client=None, **params):
    if client is None:
        client = Client()
        client.force_login(user)
    base = {"start": PERIOD.start.isoformat(), "end": PERIOD.end.isoformat()}
    return client.get(reverse("insights:dashboard"), {**base, **params})


def test_the_page_puts_the_alarm_on_top_with_charts_and_labels(manager, sums, django_assert_max_num_queries):
    RefreshState.objects.create(pk=1, refreshed_at=NOW - dt.timedelta(minutes=7))
    client = Client()
    client.force_login(manager)
    client.get(reverse("insights:dashboard"))
    # session and user, the sums of the segments, their names, the weekly trend, the alarm's two periods, the
    # cases behind the one alarm, coming back, and the freshness: the same count at any number of cases
    with clock.frozen_at(NOW), django_assert_max_num_queries(10):
        response = _page(manager, client)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("All is well? Not for these customers") < html.index("the process view beside")
    assert "met or exceeded fell from 90% to 50% in the last 4 weeks" in html
    assert "Figures as of 08 Mar 2026 17:53 (7 min ago)" in html.replace("8 Mar", "08 Mar")
    assert html.count('<svg class="chart"') == 3 and "<script" not in html.split("</head>")[1]
    assert "70%" in html


def test_what_is_not_measured_says_so(manager, sums, monkeypatch):
    monkeypatch.setattr(selectors, "process_measured", lambda: {"sla": False, "promises": False})
    html = _page(manager).content.decode()
    assert html.count("not measured") >= 2 * 3  # SLA and promises, on every row (and the note)
    assert "the alarm, which needs them, cannot fire" in html
    monkeypatch.setattr(selectors, "process_measured", lambda: {"sla": False, "promises": True})
    assert "the alarm uses the promise-kept rate as compliance" in _page(manager).content.decode()


def test_the_page_focuses_a_segment(manager, sums):
    html = _page(manager, key=str(sums["south"].pk)).content.decode()
    assert "Week by week: South" in html


def test_the_page_refuses_agents_and_bad_input(agent, manager):
    assert _page(agent).status_code == 403
    assert _page(manager, dimension="mood").status_code == 422
    assert _page(manager, start="2026-04-01", end="2026-03-01").status_code == 422


def _csv(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_every_table_exports_as_csv(manager, sums):
    rows = _csv(_page(manager, format="csv", table="segments"))
    header = rows[0]
    assert header[:4] == ["dimension", "key", "segment", "cases"]
    assert header[4:9] == ["sla_compliance", "sla_compliance_low", "sla_compliance_high", "sla_compliance_n",
                           "sla_compliance_small"]  # fmt: skip
    north = next(r for r in rows if r[2] == "North")
    met = header.index("met_or_exceeded")
    assert north[met : met + 5] == ["0.7", "0.6534", "0.7428", "400", "0"]
    assert north[header.index("sla_compliance")] == ""  # not measured
    nps = header.index("nps")
    assert north[nps] == "40.0"  # (280 - 120) / 400 as -100..100
    assert [r[0] for r in rows[1:]] == ["all", "team", "team"]
    trend = _csv(_page(manager, format="csv", table="trend"))
    assert trend[0][:2] == ["week_starting", "cases"] and len(trend) == 1 + 8
    alarm = _csv(_page(manager, format="csv", table="alarm"))
    assert [r[2] for r in alarm[1:]] == ["North"]
    retention = _csv(_page(manager, format="csv", table="retention"))
    assert [r[1] for r in retention[1:]] == ["failed", "met", "exceeded", "none", "broken", "kept", "none"]
    assert _page(manager, format="csv", table="nothing").status_code == 422


def test_csv_cells_cannot_run_as_formulas():
    from caseloop.insights.tables import to_csv

    assert to_csv(["segment"], [["=HYPERLINK(1)"], [-5], ["@me"]]).splitlines() == [
        "segment", "'=HYPERLINK(1)", "-5", "'@me"]  # fmt: skip


def test_cases_page(manager, agent):
    team = make_team("West")
    case = make_case(team=team, subject="Spring snapped twice")
    CaseFact.objects.create(case=case, solved_at=NOW, solved_on=NOW.date(), customer_id=case.requester_id,
                            team_id=team.pk, channel="email", expectations="failed", refreshed_at=NOW)  # fmt: skip
    client = Client()
    client.force_login(manager)
    params = {"dimension": "team", "key": str(team.pk), "start": PERIOD.start.isoformat(),
              "end": PERIOD.end.isoformat()}  # fmt: skip
    response = client.get(reverse("insights:cases"), params)
    assert response.status_code == 200 and "Spring snapped twice" in response.content.decode()
    assert Case.objects.count() == 1


def test_refresh_button_queues_a_refresh(manager, sums, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("insights:refresh"), {"query": "dimension=team"})
    assert response.status_code == 302 and response["Location"] == "/insights/?dimension=team"
    assert RefreshState.objects.get().refreshed_at is not None  # the in-process backend ran it at once


# --- the API: the same figures -----------------------------------------------------------------------------------
def test_api_segments_alarm_trend_and_retention(manager, sums):
    api = ApiClient(manager)
    params = {"dimension": "team", "start": PERIOD.start.isoformat(), "end": PERIOD.end.isoformat()}
    body = api.get("/insights/segments", params).json()
    assert body["measured"] == measured()
    assert [s["label"] for s in body["segments"]] == ["North", "South"]
    north = body["segments"][0]["figures"]
    assert north["met_or_exceeded"]["value"] == 0.7 and north["met_or_exceeded"]["n"] == 400
    assert north["sla_compliance"] is None and north["nps"]["value"] == pytest.approx(0.4)
    alarm = api.get("/insights/alarm", params).json()
    assert [a["segment"]["label"] for a in alarm["alarms"]] == ["North"]
    trend = api.get("/insights/trend", {**params, "key": str(sums["north"].pk)}).json()
    assert trend["segment"]["label"] == "North" and len(trend["weeks"]) == 8
    assert api.get("/insights/trend", {**params, "key": "404"}).status_code == 404
    retention = api.get("/insights/retention", params).json()
    assert [s["key"] for s in retention["by_outcome"]] == ["failed", "met", "exceeded", "none"]
    refused = ApiClient(make_agent()).get("/insights/segments", params)
    assert refused.status_code == 403
    assert api.get("/insights/segments", {**params, "dimension": "expectations"}).status_code == 422


def _cells(estimate, scale):
    """An API estimate as the CSV writes it: value, low, high (scaled, 4 places), n, small."""
    if estimate is None:
        return ["", "", "", "0", ""]
    return [str(round(estimate["value"] * scale, 4)), str(round(estimate["low"] * scale, 4)),
            str(round(estimate["high"] * scale, 4)), str(estimate["n"]), str(int(estimate["small"]))]  # fmt: skip


def _api_row(figures):
    from caseloop.insights.tables import FIGURES

    row = [str(figures["cases"])]
    for name, _, scale in FIGURES:
        row += _cells(figures[name], scale)
    return row


@pytest.mark.parametrize("dimension", ["team", "channel", "case_type", "person", "partner"])
def test_the_api_gives_every_figure_of_every_exported_table(manager, sums, dimension):
    """Parity: each CSV table of the page, cell by cell, from the API's answer for the same query."""
    api = ApiClient(manager)
    params = {"dimension": dimension, "start": PERIOD.start.isoformat(), "end": PERIOD.end.isoformat()}
    body = api.get("/insights/segments", params).json()
    rows = _csv(_page(manager, format="csv", table="segments", dimension=dimension))[1:]
    assert [[r[0], r[1], r[2], *r[3:]] for r in rows] == [
        [s["dimension"], s["key"], s["label"], *_api_row(s["figures"])] for s in (body["overall"], *body["segments"])
    ]  # fmt: skip
    trend = api.get("/insights/trend", params).json()
    assert _csv(_page(manager, format="csv", table="trend", dimension=dimension))[1:] == [
        [w["week_starting"], *_api_row(w["figures"])] for w in trend["weeks"]]  # fmt: skip
    retention = api.get("/insights/retention", params).json()
    assert _csv(_page(manager, format="csv", table="retention", dimension=dimension))[1:] == [
        [s["dimension"], s["key"], s["label"], *_api_row(s["figures"])]
        for s in (*retention["by_outcome"], *retention["by_promise"])]  # fmt: skip
    alarm = api.get("/insights/alarm", params).json()
    assert _csv(_page(manager, format="csv", table="alarm", dimension=dimension))[1:] == [
        [a["segment"]["dimension"], a["segment"]["key"], a["segment"]["label"], "; ".join(a["reasons"]),
         " ".join(c["number"] for c in a["cases"]), *_api_row(a["segment"]["figures"])[1:]]
        for a in alarm["alarms"]]  # fmt: skip


def test_the_cases_behind_a_segment_export_as_csv_and_page_through_the_api(manager, agent):
    team = make_team("West")
    facts = []
    for day, outcome, nps in ((1, "failed", 9), (2, "met", 3), (3, "met", 9), (4, "exceeded", None)):
        case = make_case(team=team, subject=f"Door {day}")
        solved = NOW - dt.timedelta(days=10 - day)
        facts.append(CaseFact.objects.create(case=case, solved_at=solved, solved_on=solved.date(),
                                             customer_id=case.requester_id, team_id=team.pk, channel="email",
                                             expectations=outcome, nps=nps, refreshed_at=NOW))  # fmt: skip
    poor = [facts[1], facts[0]]  # a detractor and failed expectations, newest first; the fine ones are not behind it
    params = {"dimension": "team", "key": str(team.pk), "start": PERIOD.start.isoformat(),
              "end": PERIOD.end.isoformat()}  # fmt: skip
    client = Client()
    client.force_login(manager)
    page = client.get(reverse("insights:cases"), params).content.decode()
    assert "format=csv" in page
    rows = _csv(client.get(reverse("insights:cases"), {**params, "format": "csv"}))
    assert rows[0] == ["case_id", "number", "subject", "solved_at", "expectations", "nps", "ces", "csat", "sla_met",
                       "promises_due", "promises_kept", "repeat_contact_at"]  # fmt: skip
    assert [r[:6] for r in rows[1:]] == [[str(f.case_id), f.case.number, f.case.subject, f.solved_at.isoformat(),
                                          f.expectations, str(f.nps)] for f in poor]  # fmt: skip
    api = ApiClient(manager)
    first = api.get("/insights/cases", {**params, "limit": 1}).json()
    second = api.get("/insights/cases", {**params, "limit": 1, "cursor": first["next_cursor"]}).json()
    assert [c["case_id"] for c in first["items"] + second["items"]] == [f.case_id for f in poor]
    assert second["next_cursor"] is None and first["items"][0]["nps"] == 3
    assert api.get("/insights/cases", {**params, "cursor": "nonsense"}).status_code == 400
    assert ApiClient(agent).get("/insights/cases", params).status_code == 403
    assert Client().get(reverse("insights:cases"), {**params, "format": "csv"}).status_code == 302


def test_the_page_shows_each_figure_with_its_interval_and_n_and_flags_small_samples(manager, sums):
    east = make_team("East")
    day_stat(PERIOD.start + dt.timedelta(days=3), Dimension.TEAM, str(east.pk), cases=6, exp_n=5, exp_met=4,
             exp_failed=1, nps_n=5, nps_promoters=5)  # fmt: skip
    table = _page(manager).content.decode().split('id="segments-title"')[1].split("</table>")[0]
    rows = {label: table.split(f">{label}</a>")[1].split("</tr>")[0] for label in ("North", "South", "East")}
    assert '<span class="est-value">80%</span> <span class="est-ci" title="95% interval">38\u201396%</span>' in (
        rows["East"])  # Wilson 4 of 5  # fmt: skip
    assert "n=5" in rows["East"] and rows["East"].count('class="small-flag"') == 2  # met-or-exceeded and NPS
    assert '<span class="est-value">+100</span>' in rows["East"]  # NPS of five promoters, shown -100..100
    assert "small-flag" not in rows["North"] and "n=400" in rows["North"]
    assert '<span class="est est-none" title="no observation">\u2014</span>' in rows["East"]  # no effort answer


def test_every_dimension_names_its_segments_and_keeps_the_empty_one_apart(manager):
    from caseloop.customers.actions import create_organization
    from caseloop.customers.choices import OrganizationKind

    fitters = create_organization(actor=None, name="Fast Fitters", kind=OrganizationKind.PARTNER)
    tech = make_agent(username="tina", display_name="Tina Tech", role=Role.TECHNICIAN)
    day = PERIOD.start + dt.timedelta(days=1)
    rows = {
        "person": [(str(tech.pk), "Tina Tech"), ("none", "Unassigned")],
        "partner": [(str(fitters.pk), "Fast Fitters"), ("none", "No partner (our own people)")],
        "channel": [("sms", "SMS"), ("email", "Email")],
        "case_type": [("spring", "spring"), ("none", "No type or tag")],
        "team": [("424242", "#424242 (removed)")],
    }
    for dimension, keys in rows.items():
        for n, (key, _) in enumerate(keys, start=1):
            day_stat(day, dimension, key, cases=n, exp_n=n, exp_met=n)
    api = ApiClient(manager)
    for dimension, keys in rows.items():
        params = {"dimension": dimension, "start": PERIOD.start.isoformat(), "end": PERIOD.end.isoformat()}
        got = {(s["key"], s["label"]) for s in api.get("/insights/segments", params).json()["segments"]}
        assert got == set(keys), dimension


def test_an_empty_period_shows_no_figure_anywhere_rather_than_zeros(manager):
    table = _page(manager).content.decode().split('id="segments-title"')[1].split("</table>")[0]
    assert "No case solved in this period." in table and "est-value" not in table and "small-flag" not in table
    params = {"dimension": "team", "start": PERIOD.start.isoformat(), "end": PERIOD.end.isoformat()}
    body = ApiClient(manager).get("/insights/segments", params).json()
    assert body["segments"] == [] and body["overall"]["figures"]["cases"] == 0
    assert {name: value for name, value in body["overall"]["figures"].items() if name != "cases"} == dict.fromkeys(
        (name for name in body["overall"]["figures"] if name != "cases"), None)  # fmt: skip
    assert ApiClient(manager).get("/insights/alarm", params).json()["alarms"] == []


def test_tags_that_look_like_numbers_are_case_types_not_removed_rows(manager, agent):
    """A tag "2024" is a case type named 2024; a tag "²" (a digit to str.isdigit, not to int) breaks nothing."""
    day = PERIOD.start + dt.timedelta(days=1)
    for key in ("2024", "²"):
        day_stat(day, Dimension.CASE_TYPE, key, cases=1, exp_n=1, exp_failed=1)
    case = make_case()
    CaseFact.objects.create(case=case, solved_at=NOW, solved_on=NOW.date(), customer_id=case.requester_id,
                            channel="email", case_types="|2024|²|", expectations="failed",
                            refreshed_at=NOW)  # fmt: skip
    params = {"dimension": "case_type", "start": PERIOD.start.isoformat(), "end": PERIOD.end.isoformat()}
    api = ApiClient(manager)
    got = {(s["key"], s["label"]) for s in api.get("/insights/segments", params).json()["segments"]}
    assert got == {("2024", "2024"), ("²", "²")}
    page = signed_in(manager).get(reverse("insights:dashboard"), params)
    assert page.status_code == 200 and "#2024 (removed)" not in page.content.decode()
    for key in ("2024", "²"):
        listed = api.get("/insights/cases", {**params, "key": key})
        assert [item["case_id"] for item in listed.json()["items"]] == [case.pk], key
        assert signed_in(manager).get(reverse("insights:cases"), {**params, "key": key}).status_code == 200
    # a team, a person or a partner is named by an id of ASCII digits: anything else is refused, not a 500
    for dimension in ("team", "person", "partner"):
        for key in ("²", "٣", "9" * 40):
            refused = api.get("/insights/cases", {**params, "dimension": dimension, "key": key})
            assert (refused.status_code, refused.json()["code"]) == (422, "bad_segment"), (dimension, key)
            page = signed_in(manager).get(reverse("insights:cases"), {**params, "dimension": dimension, "key": key})
            assert page.status_code == 422, (dimension, key)
