"""Pure functions of the benchmark (in the default test run: they are fast and need no server)."""

import json
import math

import pytest

from bench.report import Report, Row, format_table, latency_target, ratio, to_json
from bench.stats import percentile, summarise


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0) == 1.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 100) == 4.0
    assert percentile(list(map(float, range(1, 101))), 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0


def test_percentile_of_nothing_is_nan_and_out_of_range_is_refused() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], 101)


def test_summary_throughput_is_requests_over_wall_time() -> None:
    summary = summarise([1.0, 2.0, 3.0, 4.0], errors=1, elapsed_s=2.0)
    assert (summary.requests, summary.errors, summary.throughput, summary.p50_ms, summary.max_ms) == (
        4, 1, 2.0, 2.5, 4.0,
    )  # fmt: skip


def test_latency_target_fails_on_errors_even_when_fast() -> None:
    fast = summarise([1.0, 1.0], errors=0, elapsed_s=1.0)
    assert latency_target(fast, p99_limit_ms=50) == ("p99 < 50 ms", True)
    assert latency_target(summarise([1.0], errors=1, elapsed_s=1.0), p99_limit_ms=50)[1] is False
    assert latency_target(summarise([60.0], errors=0, elapsed_s=1.0), p99_limit_ms=50)[1] is False


def test_ratio_of_throughputs_and_missing_rows() -> None:
    a = summarise([1.0] * 30, errors=0, elapsed_s=1.0)
    b = summarise([1.0] * 60, errors=0, elapsed_s=1.0)
    assert ratio(a, b) == 0.5
    assert math.isnan(ratio(a, None))


def test_table_has_one_line_per_row_with_verdicts() -> None:
    rows = [
        Row(
            "case",
            1,
            summarise([2.0, 4.0], errors=0, elapsed_s=0.5),
            target="p99 < 50 ms",
            passed=True,
            server_cpu_ms=3.3,
            client_cpu_ms=0.4,
        ),
        Row("search", 4, summarise([150.0], errors=0, elapsed_s=1.0), target="p99 < 100 ms", passed=False),
        Row("storage", 8, summarise([0.02], errors=0, elapsed_s=1.0)),
    ]
    lines = format_table(rows).splitlines()

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]

    assert len(lines) == 5
    assert cells(lines[0])[0] == "operation"
    assert cells(lines[0])[7:9] == ["server CPU ms", "client CPU ms"]
    assert cells(lines[2]) == ["case", "1", "2", "0", "4", "3.0", "4.0", "3.3", "0.40", "p99 < 50 ms", "pass"]
    assert cells(lines[3]) == ["search", "4", "1", "0", "1", "150.0", "150.0", "-", "-", "p99 < 100 ms", "FAIL"]
    assert cells(lines[4]) == ["storage", "8", "1", "0", "1", "0.02", "0.02", "-", "-", "", ""]


def test_json_has_no_nan() -> None:
    report = Report(context={"cases_at_start": 1})
    report.add(Row("empty", 1, summarise([], errors=0, elapsed_s=1.0)))
    report.ratios["x"] = math.nan
    text = json.dumps(to_json(report), allow_nan=False)
    assert '"p99_ms": null' in text and '"x": null' in text


def test_rounds_pool_into_one_summary_over_all_their_time() -> None:
    from bench.stats import pooled

    summary = pooled([[1.0, 2.0], [3.0, 4.0, 5.0, 6.0]], errors=1, elapsed_s=[1.0, 2.0])
    assert (summary.requests, summary.errors, summary.throughput, summary.max_ms) == (6, 1, 2.0, 6.0)
    assert summary.p50_ms == 3.5


def test_the_create_target_is_judged_on_the_median_of_back_to_back_rounds() -> None:
    from bench.report import format_paired, median
    from bench.run import CREATE, FRAMEWORK, judge, parse_args

    assert median([0.3, 0.9, 0.4]) == 0.4
    assert median([0.2, 0.4]) == pytest.approx(0.3)
    assert math.isnan(median([]))
    options = parse_args(["--cases", "10000", "--create-concurrency", "8", "--rounds", "3"])
    assert options.rounds == 3
    report = Report(context={})
    # pooled, the framework looks 5x faster (its rounds fell on a fast machine); round by round it is 1.6x
    report.add(Row(CREATE, 8, summarise([1.0] * 300, errors=0, elapsed_s=1.0)))
    report.add(Row(FRAMEWORK, 8, summarise([1.0] * 1500, errors=0, elapsed_s=1.0)))
    report.paired_ratios[8] = [0.62, 0.55, 0.65]
    judge(options, report)
    create = report.find(CREATE, 8)
    assert create is not None and create.passed is True
    assert report.ratios["create/framework at c=8"] == 0.2  # the pooled ratio is still shown
    assert "3 paired rounds: 0.62, 0.55, 0.65 (median 0.62)" in format_paired(report.paired_ratios)
    assert to_json(report)["paired_ratios"] == {"8": [0.62, 0.55, 0.65]}
    report.paired_ratios[8] = [0.5, 0.59, 0.3]
    judge(options, report)
    create = report.find(CREATE, 8)
    assert create is not None and create.passed is False


def test_rounds_are_bounded() -> None:
    from bench.run import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--rounds", "0"])
