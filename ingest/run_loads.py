"""A run's loads: every year of every flow of each dataset, each ending loaded or failed with
its reason, and the one message that says which failed and why. The raw step of the Dagster
pipeline calls this; what it declares (assets, metadata) stays in `orchestration`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ingest.client import RetryBudget
from ingest.datasets import FLOWS, HITECH, HS, CensusDataset
from ingest.errors import AtpError, CensusAuthError, ConfigError
from ingest.partitions import PartitionResult, load_years
from ingest.settings import Settings

# Errors that would repeat for every remaining year: stop at the first one.
_STOP_AT_ONCE = (ConfigError, CensusAuthError)


class PartitionsFailed(AtpError):
    """Some year partitions of a run could not be loaded; the message names those that were."""


class Log(Protocol):
    """Where the per-year lines go (a `logging.Logger`, Dagster's `context.log`)."""

    def info(self, msg: str) -> object: ...
    def warning(self, msg: str) -> object: ...
    def error(self, msg: str) -> object: ...


@dataclass(frozen=True)
class RunLoads:
    years: list[int]
    loaded: dict[tuple[CensusDataset, str, str], PartitionResult]  # by (dataset, flow, year key)
    failed: dict[str, dict[int, str]]  # each failed year's reason, by flow label
    interrupted: BaseException | None = None  # Ctrl-C, raised inside the loads

    @property
    def changed(self) -> bool:
        return any(result.changed for result in self.loaded.values())

    def failure(self) -> PartitionsFailed:
        return PartitionsFailed(_failure_summary(self.years, self.loaded, self.failed))


def load_run(
    settings: Settings,
    years: Sequence[int],
    *,
    source: str,
    accept_fewer_months: bool,
    budget: RetryBudget,
    log: Log,
    still_going: Callable[[], bool],
) -> RunLoads:
    """Load `years` of each flow in turn through one retry budget: the hitech tables, then
    (unless ATP_PRODUCTS=0) product detail. `still_going` is asked before each year commits
    (it may raise to stop the run); an interrupt stops at once."""
    years = list(years)
    outcomes: dict[tuple[CensusDataset, str], list] = {}
    interrupted = None
    for dataset in (HITECH, HS) if settings.products else (HITECH,):
        for flow in FLOWS:
            outcomes[(dataset, flow)], interrupted = _load_all(
                settings, flow, years, source, accept_fewer_months, budget, log, still_going,
                dataset,
            )  # fmt: skip
            if interrupted:
                break
        stopped = any(
            isinstance(outcome, AtpError) for found in outcomes.values() for _, outcome in found
        )
        if interrupted or stopped:  # product detail waits for a run whose tables all loaded
            break
    loaded, failed = _split(log, outcomes)
    return RunLoads(years, loaded, failed, interrupted)


def _load_all(
    settings, flow, years, source, accept_fewer_months, budget, log, still_going, dataset
):
    """Every year's outcome, in order, so that each year ends either loaded or failed with its
    reason. An error that would repeat for every year (a bad key, a bad setting) fails the
    remaining years at once; an unexpected error fails the years not yet loaded. An interrupt
    (Ctrl-C) is returned beside the outcomes of the years before it."""
    outcomes: list[tuple[int, PartitionResult | AtpError]] = []
    stop: AtpError | None = None
    interrupted: BaseException | None = None
    loads = load_years(
        settings,
        flow,
        years,
        source,
        budget=budget,
        accept_fewer_months=accept_fewer_months,
        dataset=dataset,
    )
    try:
        # Each year commits as the loop asks for it: ask only while the run is in progress.
        while still_going() and (item := next(loads, None)) is not None:
            year, outcome = item
            outcomes.append((year, outcome))
            if isinstance(outcome, _STOP_AT_ONCE):
                log.error(f"{flow}: stopping at {year}, this error would repeat for every year")
                stop = outcome
                break
    except AtpError as exc:  # e.g. the warehouse is busy: no year can load
        stop = exc
    except Exception as exc:  # noqa: BLE001 - reported per year, not lost with the step
        stop = AtpError(f"{exc.__class__.__name__}: {exc}")
    except BaseException as exc:  # Ctrl-C: Dagster raises its interrupt inside the step
        interrupted = exc
    finally:
        loads.close()  # the warehouse connection and the fetch in flight end here
    done = {year for year, _ in outcomes}
    return outcomes + [(year, stop) for year in years if year not in done and stop], interrupted


def _split(log: Log, outcomes) -> tuple[dict, dict]:
    """The loaded partitions by (dataset, flow, year key), and the failures' reasons by flow
    label ("imports", "imports products") and year."""
    loaded: dict[tuple[CensusDataset, str, str], PartitionResult] = {}
    failed: dict[str, dict[int, str]] = {}
    for (dataset, flow), flow_outcomes in outcomes.items():
        label = flow if dataset is HITECH else f"{flow} products"
        for year, outcome in flow_outcomes:
            if isinstance(outcome, AtpError):
                text = str(outcome)
                for where in (f"{flow} {year} products", f"{flow} {year}"):
                    text = text.removeprefix(f"{where}: ")
                failed.setdefault(label, {})[year] = text
                log.error(f"{_where(label, year)}: {text}")
            else:
                loaded[(dataset, flow, str(year))] = outcome
                (log.warning if outcome.status == "skipped" else log.info)(outcome.describe())
                if outcome.dropped_months:
                    log.warning(outcome.dropped_warning())
    return loaded, failed


def _failure_summary(years, loaded, failed) -> str:
    """Per flow with a failure: '2 of 3 year(s) loaded: 2024, 2025; failed:', then each reason
    once, with the years it stopped ('imports 2025, 2026: the Census API ...')."""
    lines = []
    said: dict[str, str] = {}  # each reason, once: where it was first given
    for flow, errors in failed.items():
        done = [key for (d, f, key) in loaded if (f if d is HITECH else f"{f} products") == flow]
        listed = f": {', '.join(done)}" if done else ""
        lines.append(f"{flow}: {len(done)} of {len(years)} year(s) loaded{listed}; failed:")
        by_reason: dict[str, list[str]] = {}
        for year, reason in errors.items():
            # A year stopped by an earlier year's error carries that error's text: name that
            # year rather than repeat its message (a bad key's advice would show once per year).
            first = next(
                (y for y in errors if y != year and reason.startswith(f"{_where(flow, y)}: ")), 0
            )
            if first:
                reason = (
                    f"not attempted: the error of {_where(flow, first)} would repeat for every year"
                )
            by_reason.setdefault(reason, []).append(str(year))
        for reason, ys in by_reason.items():
            where = _where(flow, ", ".join(ys))
            lines.append(
                f"{where}: the same as {said[reason]}" if reason in said else f"{where}: {reason}"
            )
            said.setdefault(reason, where)
    return "\n".join(lines)


def _where(label: str, years) -> str:
    """'imports 2024' for the hitech tables, 'imports 2024 products' for product detail."""
    flow, _, products = label.partition(" ")
    return f"{flow} {years}" + (f" {products}" if products else "")
