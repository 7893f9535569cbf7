"""Checks grouped into a step per op: every selected check reported, a broken part kept to itself."""

from __future__ import annotations

import dagster as dg
import pytest

from content_assets.check_steps import CheckPart, check_step, check_steps, keyed

PASSES = dg.AssetCheckSpec("passes", asset="upstream")
GUARD = dg.AssetCheckSpec("guard", asset="upstream", blocking=True)
BROKEN = dg.AssetCheckSpec("broken", asset="upstream")
DOWNSTREAM_CHECK = dg.AssetCheckSpec("downstream_passes", asset="downstream")


def _asset(name: str, deps: tuple[str, ...] = ()) -> dg.AssetsDefinition:
    @dg.asset(name=name, deps=list(deps))
    def _materialized() -> None:
        return None

    return _materialized


def _judged(spec: dg.AssetCheckSpec, passed: bool) -> CheckPart:
    def evaluate(_context, _store, _selected):
        yield keyed(spec.key, dg.AssetCheckResult(passed=passed))

    return CheckPart((spec,), evaluate)


def _raising(spec: dg.AssetCheckSpec) -> CheckPart:
    def evaluate(_context, _store, _selected):
        raise RuntimeError("history unreadable")

    return CheckPart((spec,), evaluate)


def _run(*definitions, selection=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(list(definitions), instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
                          selection=selection)


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def test_the_checks_of_an_op_run_in_one_step_after_it():
    upstream, downstream = _asset("upstream"), _asset("downstream", ("upstream",))
    steps = check_steps([upstream, downstream], [_judged(PASSES, True), _judged(GUARD, True),
                                                 _judged(DOWNSTREAM_CHECK, True)])

    result = _run(upstream, downstream, *steps)

    assert result.success
    assert [step.step_key for step in result.get_step_success_events()] == [
        "upstream", "upstream_checks", "downstream", "downstream_checks"]
    assert {name: e.passed for name, e in _evaluations(result).items()} == {
        "passes": True, "guard": True, "downstream_passes": True}


def test_a_part_that_cannot_run_is_reported_failed_and_holds_up_nothing():
    upstream, downstream = _asset("upstream"), _asset("downstream", ("upstream",))
    step = check_step("upstream_checks", [_raising(BROKEN), _judged(GUARD, True), _judged(PASSES, True)])

    result = _run(upstream, downstream, step)

    assert result.success
    evaluations = _evaluations(result)
    assert not evaluations["broken"].passed
    assert evaluations["broken"].severity == dg.AssetCheckSeverity.WARN
    assert "RuntimeError: history unreadable" in evaluations["broken"].description
    assert evaluations["guard"].passed and evaluations["passes"].passed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"upstream", "downstream"}


def test_a_failing_blocking_check_stops_what_is_downstream_after_every_result_is_reported():
    upstream, downstream = _asset("upstream"), _asset("downstream", ("upstream",))
    step = check_step("upstream_checks", [_judged(GUARD, False), _judged(PASSES, True)])

    result = _run(upstream, downstream, step)

    assert not result.success
    assert {name: e.passed for name, e in _evaluations(result).items()} == {"guard": False, "passes": True}
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"upstream"}


def test_blocking_checks_that_cannot_run_fail_their_step():
    upstream, downstream = _asset("upstream"), _asset("downstream", ("upstream",))
    step = check_step("upstream_checks", [_raising(GUARD)])

    result = _run(upstream, downstream, step)

    assert not result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"upstream"}


def test_a_check_selected_alone_runs_alone():
    upstream = _asset("upstream")
    calls: list[str] = []

    def counted(spec: dg.AssetCheckSpec) -> CheckPart:
        def evaluate(_context, _store, selected):
            calls.append(spec.name)
            assert selected == {spec.key}
            yield keyed(spec.key, dg.AssetCheckResult(passed=True))

        return CheckPart((spec,), evaluate)

    step = check_step("upstream_checks", [counted(PASSES), counted(GUARD)])
    result = _run(upstream, step, selection=dg.AssetSelection.checks(GUARD.key))

    assert set(_evaluations(result)) == {"guard"} and calls == ["guard"]


def test_a_part_on_the_assets_of_two_ops_is_refused():
    both = CheckPart((PASSES, DOWNSTREAM_CHECK), lambda *_: iter(()))

    with pytest.raises(ValueError, match="no single op"):
        check_steps([_asset("upstream"), _asset("downstream", ("upstream",))], [both])
