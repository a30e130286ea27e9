"""`compare` on a real report and on a deliberately degraded copy of it."""

from __future__ import annotations

import copy

import pytest

from dladvisor.compare import compare_reports
from dladvisor.errors import UserError
from dladvisor.gate import load_report


def _degraded(report, drop=0.05):
    worse = copy.deepcopy(report)
    for candidate in worse["benchmark"]["candidates"]:
        if candidate["status"] == "ok" and candidate["family"] != "baseline":
            candidate["metrics"]["roc_auc"]["mean"] -= drop
    worse["recommendation"]["verdict"] = "FAIL"
    return worse


def test_identical_reports_have_no_changes(report_json):
    report = load_report(report_json)
    result = compare_reports(report, report)
    assert result.changes == () and result.same_data


def test_degraded_run_is_caught(report_json):
    report = load_report(report_json)
    result = compare_reports(report, _degraded(report), tolerance=0.01)
    what = {c.what for c in result.regressions}
    assert "verdict" in what and "xgboost roc_auc" in what and "recommended model's roc_auc" in what


def test_drops_within_the_tolerance_are_noise(report_json):
    report = load_report(report_json)
    worse = _degraded(report, drop=0.004)
    worse["recommendation"]["verdict"] = report["recommendation"]["verdict"]
    assert compare_reports(report, worse, tolerance=0.01).regressions == []


def test_reports_ranked_by_different_metrics_cannot_be_compared(report_json):
    report = load_report(report_json)
    other = copy.deepcopy(report)
    other["benchmark"]["primary_metric"] = "accuracy"
    with pytest.raises(UserError, match="different metrics"):
        compare_reports(report, other)


def test_a_candidate_left_out_is_not_run_but_one_that_failed_is_a_regression(report_json):
    report = load_report(report_json)
    fewer, failed = copy.deepcopy(report), copy.deepcopy(report)
    fewer["benchmark"]["candidates"] = [c for c in fewer["benchmark"]["candidates"] if c["name"] != "xgboost"]
    (xgb,) = [c for c in failed["benchmark"]["candidates"] if c["name"] == "xgboost"]
    xgb["status"] = "failed"
    (left_out,) = compare_reports(report, fewer).changes
    assert left_out.new == "not run" and not left_out.regression
    (broke,) = compare_reports(report, failed).changes
    assert broke.new == "did not finish (failed)" and broke.regression
