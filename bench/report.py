"""The results table, the targets, and the JSON written to bench/results/."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import Summary

# Targets from the issue, for 1M cases on SQLite with 2 cores.
READ_P99_MS = 50.0
SEARCH_P99_MS = 100.0
CREATE_SHARE_OF_FRAMEWORK = 0.60


@dataclass(frozen=True, slots=True)
class Row:
    """One measurement: what, at which concurrency, and the client-side figures."""

    operation: str
    concurrency: int
    summary: Summary
    target: str = ""  # human-readable, e.g. "p99 < 50 ms"
    passed: bool | None = None  # None: no target for this row
    note: str = ""
    # CPU milliseconds per request in the timed phase: the server's processes together, and the load generator
    server_cpu_ms: float = math.nan
    client_cpu_ms: float = math.nan


@dataclass(slots=True)
class Report:
    context: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    ratios: dict[str, float] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    costs: dict[str, dict[str, Any]] = field(default_factory=dict)  # operation → in-process cost per request
    # concurrency → create/framework throughput ratio of each round, the two measured back to back
    paired_ratios: dict[int, list[float]] = field(default_factory=dict)
    # the create's and the framework request's CPU in-process, beside their own SQL on the driver (bench.replay)
    split: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def find(self, operation: str, concurrency: int) -> Row | None:
        return next((r for r in self.rows if r.operation == operation and r.concurrency == concurrency), None)


def latency_target(summary: Summary, *, p99_limit_ms: float) -> tuple[str, bool]:
    return f"p99 < {p99_limit_ms:g} ms", summary.errors == 0 and summary.p99_ms < p99_limit_ms


def median(values: Sequence[float]) -> float:
    ordered = sorted(v for v in values if not math.isnan(v))
    if not ordered:
        return math.nan
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def format_paired(paired: dict[int, list[float]]) -> str:
    return "\n".join(
        f"- create/framework at c={concurrency}, {len(values)} paired rounds: "
        + ", ".join(f"{v:.3g}" for v in values)
        + f" (median {median(values):.3g})"
        for concurrency, values in paired.items()
    )


def ratio(numerator: Summary | None, denominator: Summary | None) -> float:
    if numerator is None or denominator is None or not denominator.throughput:
        return math.nan
    return numerator.throughput / denominator.throughput


def _ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def _verdict(passed: bool | None) -> str:
    return "" if passed is None else ("pass" if passed else "FAIL")


def format_table(rows: Sequence[Row]) -> str:
    """A Markdown table: readable in a terminal and pasteable into docs/performance.md."""
    header = ["operation", "conc.", "requests", "errors", "throughput/s", "p50 ms", "p99 ms", "server CPU ms",
              "client CPU ms", "target", "result"]  # fmt: skip
    lines = [header]
    for row in rows:
        s = row.summary
        lines.append([
            row.operation + (f" ({row.note})" if row.note else ""), str(row.concurrency), f"{s.requests:,}",
            str(s.errors), f"{s.throughput:,.0f}", _ms(s.p50_ms), _ms(s.p99_ms), _ms(row.server_cpu_ms),
            _ms(row.client_cpu_ms), row.target, _verdict(row.passed),
        ])  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    numeric = {1, 2, 3, 4, 5, 6, 7, 8}

    def render(cells: list[str]) -> str:
        padded = [
            c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|" + "|".join(("-" * (w + 1) + ":") if i in numeric else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"
    )
    return "\n".join([render(lines[0]), rule, *(render(line) for line in lines[1:])])


def format_ratios(ratios: dict[str, float]) -> str:
    return "\n".join(f"- {name}: {'-' if math.isnan(value) else f'{value:.3g}'}" for name, value in ratios.items())


def format_costs(costs: dict[str, dict[str, Any]]) -> str:
    header = ["operation", "wall p50 ms", "CPU ms", "queries"]
    lines = [header] + [
        [name, _ms(c["wall_p50_ms"]), _ms(c["cpu_mean_ms"]), f"{c['queries_mean']:.1f}"] for name, c in costs.items()
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        return (
            "| " + " | ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)) + " |"
        )

    rule = "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    return "\n".join([render(lines[0]), rule, *(render(line) for line in lines[1:])])


def format_split(split: dict[str, Any]) -> str:
    """Where a create's cost goes: its SQL, the framework's request, and its own Python work, with the budget."""
    create, framework = split["create"], split.get("framework")
    lines = [
        f"- create (a returning customer's): {create['request_cpu_ms']:.2f} ms; its {len(create['writes'])} "
        f"writes replayed on the driver: {create['sql_cpu_ms']:.2f} ms"
        + (" (the driver's side only: PostgreSQL's own work runs in its server processes, not counted here)"
           if create.get("vendor") == "postgresql" else "")
    ]  # fmt: skip
    if framework:
        lines.append(f"- framework limit's request: {framework['request_cpu_ms']:.2f} ms; its one row on the driver: "
                     f"{framework['sql_cpu_ms']:.2f} ms")  # fmt: skip
    if "python_ms" in split:
        lines.append(f"- the create's own Python work, beyond the framework's request and its SQL: "
                     f"{split['python_ms']:.2f} ms")  # fmt: skip
    if "budget_ms" in split:
        budget = split["budget_ms"]
        rate = f"{split['framework_rate']:,.0f}/s on {split['cores']} CPUs"
        lines.append(
            f"- to reach {split['target']:.0%} of the framework at c={split['concurrency']} ({rate}: "
            f"{split['machine_ms']:.2f} ms of the machine per request), that work could take {budget:.2f} ms"
            + (" (out of reach even with none)" if budget < 0 else "")
        )
    if "over_http" in split:
        http = split["over_http"]
        lines.append(
            f"- over HTTP at c={http['concurrency']}, server CPU per request (all its processes): create "
            f"{http['create_ms']:.2f} ms, framework {http['framework_ms']:.2f} ms; beyond their in-process cost "
            f"create +{http['create_ms'] - create['request_cpu_ms']:.2f} ms, framework "
            f"+{http['framework_ms'] - http['framework_inproc_ms']:.2f} ms (the server, WSGI and the kernel cost both "
            f"alike; the rest of the create's comes from running among other processes: their commits drop its page "
            f"cache, and a larger working set runs cold after each wait)"
        )
    if "ceiling" in split:
        lines.append(f"- with no Python work at all, only its SQL added to the framework's request, a create could "
                     f"reach {split['ceiling']:.2f} of the framework")  # fmt: skip
    return "\n".join(lines)


def format_report(report: Report) -> str:
    ctx = report.context
    parts = [
        f"caseloop benchmark, {ctx.get('cases_at_start', '?'):,} cases, {ctx.get('database', '?')}, "
        f"{ctx.get('cpus', '?')} CPUs, server: {ctx.get('server', '?')}",
        "",
        format_table(report.rows),
        "",
        "Ratios (throughput of the create endpoint over the raw limits):",
        format_ratios(report.ratios),
    ]
    if report.paired_ratios:
        parts += [
            "",
            "Creates and the framework limit measured back to back, round by round (the order swaps each",
            "round; the machine's speed drifts between rounds, not within a pair):",
            format_paired(report.paired_ratios),
        ]
    if report.costs:
        parts += ["", "Server-side cost per request (in-process, one thread, no HTTP):", format_costs(report.costs)]
    if report.split:
        title = "Where a create's cost goes (CPU per request, in-process, one thread):"
        parts += ["", title, format_split(report.split)]
    if report.checks:
        parts += ["", "Checks:"]
        parts += [f"- {name}: {value}" for name, value in report.checks.items()]
    return "\n".join(parts)


def _finite(value: Any) -> Any:
    """NaN (an empty measurement) as null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def to_json(report: Report) -> dict[str, Any]:
    result = {
        "context": report.context,
        "rows": [asdict(r) for r in report.rows],
        "ratios": report.ratios,
        "checks": report.checks,
        "costs": report.costs,
        "paired_ratios": {str(c): v for c, v in report.paired_ratios.items()},
        "split": report.split,
    }
    cleaned: dict[str, Any] = _finite(result)
    return cleaned


def write_json(report: Report, directory: Path, stamp: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stamp}.json"
    path.write_text(json.dumps(to_json(report), indent=2, default=str))
    return path
