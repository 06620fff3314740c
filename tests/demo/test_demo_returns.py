"""The synthetic 903 + CIN extract: deterministic, well-formed, the right size."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from analysis import config
from analysis.demo import returns as demo_returns
from analysis.demo.returns import FILES, ensure_demo_returns, write_demo_returns
from analysis.read.records import quarter_ends, record_counts_many
from analysis.read.returns import read_returns


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    began = time.perf_counter()
    paths = write_demo_returns(out)
    elapsed = time.perf_counter() - began
    return out, paths, elapsed


@pytest.fixture(scope="module")
def counts(demo):
    returns = read_returns(demo[0])
    return returns, record_counts_many(returns, quarter_ends("2016Q1", "2025Q2"), "E06000004")


def test_writes_six_tables_fast(demo):
    out, paths, elapsed = demo
    assert [p.name for p in paths] == list(FILES.values())
    assert all(p.is_file() and p.stat().st_size > 1000 for p in paths)
    assert elapsed < 10


def test_deterministic(demo, tmp_path):
    again = write_demo_returns(tmp_path / "again")
    for first, second in zip(demo[1], again):
        assert first.read_bytes() == second.read_bytes(), first.name
    other = write_demo_returns(tmp_path / "other", seed=7)
    assert other[1].read_bytes() != demo[1][1].read_bytes()


def test_reads_cleanly(counts):
    returns, _ = counts
    assert returns.warnings == []
    assert returns.missing_tables == {}
    assert {s["table"] for s in returns.sources} == set(FILES)


def test_magnitudes_like_a_stockton_sized_authority(counts):
    _, c = counts
    wide = c.pivot(index="period", columns="measure", values="count")
    assert wide["cla_at"].between(530, 640).all() and 555 <= wide["cla_at"].mean() <= 615
    assert wide["cp_at"].between(200, 330).all() and 240 <= wide["cp_at"].mean() <= 290
    assert wide["cin_at"].between(2200, 2600).all() and 2300 <= wide["cin_at"].mean() <= 2500
    share = wide["missing_children_12m"] / wide["cla_during_12m"]
    assert share.between(0.08, 0.18).all() and 0.11 <= share.mean() <= 0.15
    per_child = wide["missing_episodes_12m"] / wide["missing_children_12m"]
    assert 6.5 <= per_child.mean() <= 9.5
    assert wide["missing_repeat_children_12m"].gt(0).all()
    assert wide["cla_starts_12m"].between(150, 320).all()


def test_identifiers_and_formats(demo):
    out = demo[0]
    read = lambda name: pd.read_csv(out / FILES[name], dtype=str, keep_default_na=False)  # noqa: E731
    header, episodes, missing = read("header"), read("episodes"), read("missing")
    children, cin, cp = read("cin_children"), read("cin_details"), read("cp_plans")
    assert header["CHILD"].str.fullmatch(r"DEMO\d{6}").all()
    assert children["LAchildID"].str.fullmatch(r"DEMO\d{6}").all()
    assert header["UPN"].str.fullmatch(r"[A-Z]\d{12}|UN1").all()
    upn = children["UPN"][children["UPN"] != ""]
    assert upn.str.fullmatch(r"[A-HJ-NPQRT-Z]999\d{9}").all()
    postcode = r"[A-Z]{1,2}\d{1,2} \d[A-Z]{2}"
    assert episodes["HOME_POST"].str.fullmatch(postcode).all()
    assert episodes["PL_POST"].str.fullmatch(postcode).all()
    assert children["PostCode"].str.fullmatch(postcode).all()
    assert episodes["DECOM"].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    assert missing["MIS_START"].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    assert cin["CINreferralDate"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert cp["CPPstartDate"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    # realistic content: episode chains, short breaks, NFA referrals, unborn children, open records
    assert episodes["RNE"].isin(["P", "T", "L", "U", "B"]).mean() > 0.3
    assert episodes["LS"].isin(["V3", "V4"]).any()
    assert (cin["ReferralNFA"] == "1").mean() > 0.1
    assert (children["PersonBirthDate"] == "").any() and (children["ExpectedPersonBirthDate"] != "").any()
    assert (episodes["DEC"] == "").sum() > 400
    assert missing["MISSING"].isin(["M", "A"]).all() and (missing["MISSING"] == "A").any()


def test_nothing_after_end_and_one_year_lead_in(demo):
    returns = read_returns(demo[0])
    end = pd.Timestamp("2025-09-30")
    for frame, cols in [(returns.episodes, ["DECOM", "DEC"]), (returns.missing, ["MIS_START", "MIS_END"]),
                        (returns.cin_details, ["CINreferralDate", "CINclosureDate"]),
                        (returns.cp_plans, ["CPPstartDate", "CPPendDate"])]:
        for col in cols:
            assert frame[col].max() <= end
    assert returns.missing["MIS_START"].min() >= pd.Timestamp("2015-04-01")
    assert (returns.episodes["DEC"].dropna() >= pd.Timestamp("2015-04-01")).all()


def test_some_missing_episodes_span_a_quarter_end(demo):
    returns = read_returns(demo[0])
    m = returns.missing
    ends = pd.DatetimeIndex(quarter_ends("2016Q1", "2025Q1"))
    spans = sum(((m["MIS_START"] <= e) & (m["MIS_END"] > e)).sum() for e in ends)
    assert spans >= 10


def test_ensure_demo_returns_writes_once_atomically(tmp_path, monkeypatch):
    target = tmp_path / "data" / "demo_returns"
    monkeypatch.setattr(config, "DEMO_RETURNS_DIR", target)
    paths = ensure_demo_returns()
    assert [p.parent for p in paths] == [target] * len(FILES)
    stamp = [p.stat().st_mtime_ns for p in paths]
    calls = []
    monkeypatch.setattr(demo_returns, "write_demo_returns", lambda *a, **k: calls.append(a))
    assert ensure_demo_returns() == paths and calls == []
    assert [p.stat().st_mtime_ns for p in paths] == stamp
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_ensure_demo_returns_repairs_an_incomplete_folder(tmp_path):
    target = tmp_path / "demo_returns"
    target.mkdir()
    (target / FILES["header"]).write_text("partial")
    paths = ensure_demo_returns(target)
    assert all(p.is_file() for p in paths)
    assert (target / FILES["header"]).read_text().startswith("CHILD,SEX,DOB")
