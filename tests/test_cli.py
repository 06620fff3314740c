"""The needs command as a user runs it: exit codes, one-line errors, no traceback, nothing half-written."""

from __future__ import annotations

import csv
import subprocess
import sys

import pandas as pd
import pytest

from conftest import B1_HEADER, SHARED_DATA, b1_rows, needs_shared, write_csv


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "analysis.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def assert_user_error(result, *fragments):
    """Exit 2 and exactly one error line, last (warnings about the folder, one line each, may come before it)."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if not line.startswith("needs: warning: ")]
    assert len(errors) == 1 and errors[0] == lines[-1], result.stderr
    assert errors[0].startswith("needs: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for f in fragments:
        assert f in errors[0], errors[0]


def test_indicators_on_real_data_writes_contract_columns(tmp_path):
    needs_shared()
    out = tmp_path / "t.csv"
    r = run("indicators", "--data-dir", SHARED_DATA, "--year", "2024", "--la", "808", "darlington", "--out", out)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(out, dtype={"area_code": str, "old_la_code": str})
    contract = ["indicator", "time_period", "geographic_level", "area_code", "old_la_code", "area_name", "numerator",
                "denominator", "value", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "status", "sn_mean",
                "sn_n", "region_value", "england_value", "vs_england", "vs_sn", "rank", "quartile_band", "trend"]
    assert [c for c in contract if c not in t.columns] == []
    assert set(t["area_name"]) == {"Stockton-on-Tees", "Darlington"}
    cin = t[(t["area_code"] == "E06000004") & (t["indicator"] == "cin_rate")].iloc[0]
    assert round(cin["value"], 1) == 543.2 and cin["sn_n"] == 10


def test_xlsx_output(tmp_path):
    needs_shared()
    out = tmp_path / "t.xlsx"
    r = run("indicators", "--data-dir", SHARED_DATA, "--year", "2024", "--la", "E06000004", "--out", out)
    assert r.returncode == 0, r.stderr
    t = pd.read_excel(out)
    assert "cla_rate" in set(t["indicator"])


def test_unknown_la(tmp_path):
    needs_shared()
    r = run("indicators", "--data-dir", SHARED_DATA, "--la", "Stockton", "--out", tmp_path / "t.csv")
    assert_user_error(r, "unknown local authority 'Stockton'", "did you mean", "Stockton-on-Tees")
    assert not (tmp_path / "t.csv").exists()


def test_year_with_no_data(tmp_path):
    needs_shared()
    r = run("indicators", "--data-dir", SHARED_DATA, "--year", "1999", "--out", tmp_path / "t.csv")
    assert_user_error(r, "no data for year 1999")


def test_missing_data_folder(tmp_path):
    r = run("indicators", "--data-dir", tmp_path / "nowhere")
    assert_user_error(r, "data folder not found")


@pytest.mark.parametrize("case", ["symbol", "negative", "duplicate", "empty", "latin1", "unknown", "missing_column"])
def test_bad_file_gives_one_located_line(tmp_path, case):
    rows, header = b1_rows(), list(B1_HEADER)
    path = tmp_path / "cin.csv"
    expect = ["cin.csv"]
    if case == "symbol":
        rows[2][11] = "lots"
        expect += ["column 'At31_episodes'", "row 4"]
    elif case == "negative":
        rows[2][11] = "-1"
        expect += ["column 'At31_episodes'", "row 4", "negative"]
    elif case == "duplicate":
        rows.append(rows[3])
        expect += ["row 6", "duplicate"]
    elif case == "missing_column":  # the count (a B1 may omit its rate: the rate is then computed from counts)
        header, rows = header[:11] + header[12:], [r[:11] + r[12:] for r in rows]
        expect += ["column 'At31_episodes'", "missing"]
    elif case == "unknown":
        header, rows = ["a", "b"], [["1", "2"]]
        expect += ["unknown layout"]
    if case == "empty":
        path.write_text("")
        expect += ["empty"]
    elif case == "latin1":
        path.write_bytes(("\n".join(",".join(r) for r in [header] + rows) + "\n\xe9").encode("latin-1"))
        expect += ["not UTF-8"]
    else:
        write_csv(path, header, rows)
    out = tmp_path / "out.csv"
    r = run("indicators", "--data-dir", tmp_path, "--out", out)
    assert_user_error(r, *expect)
    assert not out.exists()
    assert not list(tmp_path.glob(".out.csv.*"))


# --------------------------------------------------------------------------------------------------------------------
# needs sources, --neighbour-model, --indicator


def test_sources_lists_every_file_with_its_release_and_fingerprint(tmp_path):
    needs_shared()
    import hashlib

    folder = tmp_path / "data"
    folder.mkdir()
    for f in SHARED_DATA.iterdir():
        if f.suffix != ".md":
            (folder / f.name).symlink_to(f)
    (folder / "README.csv").write_text("note,text\nsaved by,the analyst\n", "utf-8")
    out = tmp_path / "sources.csv"
    r = run("sources", "--data-dir", folder, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    warned = [line for line in r.stderr.splitlines() if "README.csv" in line]
    assert len(warned) == 1 and warned[0].startswith("needs: warning: "), r.stderr
    t = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(t.columns) == ["file", "layout", "publication", "status", "reason", "release", "periods", "areas",
                               "indicators", "rows_used", "rows_superseded", "sha256"]
    assert sorted(t["file"]) == sorted(p.name for p in folder.iterdir())
    b1 = t.set_index("file").loc["b1_children_in_need_2013_to_2024.csv"]
    # independent facts about the released file: its own years, and its bytes' digest
    assert (b1["layout"], b1["status"], b1["release"], b1["periods"]) == ("cin_b1", "used", "2024", "2013 to 2024")
    digest = hashlib.sha256((SHARED_DATA / "b1_children_in_need_2013_to_2024.csv").read_bytes()).hexdigest()
    assert b1["sha256"] == digest[:12]
    assert "cin_rate" in b1["indicators"].split(", ")
    readme = t.set_index("file").loc["README.csv"]
    assert readme["status"] == "not recognised" and readme["reason"]


def test_indicators_names_the_neighbour_model_it_used_and_takes_another(tmp_path):
    needs_shared()
    out = tmp_path / "t.csv"
    r = run("indicators", "--data-dir", SHARED_DATA, "--la", "808", "--year", "2024", "--indicator", "cin_rate",
            "--out", out)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert set(t["indicator"]) == {"cin_rate"}
    assert t["neighbour_model"].str.contains("sn_model_2025_wide.csv", regex=False).all()
    # A hand-made model in which Stockton-on-Tees' neighbours are the ten North East LAs' first ten others
    model = tmp_path / "my_model.csv"
    header = ["old_la_code", "la_name"] + [c for i in range(1, 11) for c in (f"SN_{i}", f"SN_{i}P")]
    codes = ["841", "840", "805", "806", "807", "390", "391", "392", "393", "394"]
    write_csv(model, header, [["808", "Stockton-on-Tees"] + [v for c in codes for v in (c, "Close")]])
    out2 = tmp_path / "t2.csv"
    r = run("indicators", "--data-dir", SHARED_DATA, "--la", "808", "--year", "2024", "--indicator", "cin_rate",
            "--neighbour-model", model, "--out", out2)
    assert r.returncode == 0, r.stderr
    t2 = pd.read_csv(out2, dtype=str, keep_default_na=False)
    assert t2["neighbour_model"].str.contains("my_model.csv", regex=False).all()
    assert t2["sn_mean"].iloc[0] != t["sn_mean"].iloc[0]


def test_an_indicator_no_file_provides_fails_in_one_line(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write_csv(folder / "b1.csv", B1_HEADER, b1_rows())
    r = run("indicators", "--data-dir", folder, "--indicator", "cla_rate")
    assert_user_error(r, "cla_rate")


def test_a_messy_folder_names_each_bad_file_once_and_still_gives_the_figures(tmp_path):
    """What an analyst's folder holds after a year: an identical second download, a semicolon-delimited save, a
    workbook saved as .csv, a broken .gz and a large unrelated export. Each is one warning naming it as what it is;
    the published CIN rate for Stockton-on-Tees 2024 (543.2, B1's own column) still comes out."""
    needs_shared()
    import gzip

    src = SHARED_DATA / "b1_children_in_need_2013_to_2024.csv"
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "b1.csv").symlink_to(src)
    (folder / "b1 (1).csv").write_bytes(src.read_bytes())
    cla = "cla_number_and_rate_per_10k_children_pub2024.csv"  # the 2024 releases' population estimates
    (folder / cla).symlink_to(SHARED_DATA / cla)
    d3 = (SHARED_DATA / "d3_cpps_subsequent_plan_2013_to_2025.csv").read_text("utf-8")
    (folder / "d3 semicolons.csv").write_text(d3.replace(",", ";"), "utf-8")
    (folder / "workbook.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    (folder / "broken.csv.gz").write_bytes(gzip.compress(d3.encode("utf-8"))[:2000])
    with open(folder / "export.csv", "w", encoding="utf-8") as fh:  # 30 MB of something else
        fh.write("case_ref,worker,notes\n")
        line = "A" * 40 + "," + "B" * 40 + "," + "C" * 120 + "\n"
        fh.writelines(line for _ in range(150_000))
    out = tmp_path / "t.csv"
    r = run("indicators", "--data-dir", folder, "--la", "808", "--year", "2024", "--indicator", "cin_rate",
            "--out", out)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    warnings = r.stderr.splitlines()

    def about(name):
        return [w for w in warnings if w.startswith(f"needs: warning: {name}:")]

    for name, words in [("b1 (1).csv", "identical"), ("d3 semicolons.csv", "semicolon-delimited"),
                        ("workbook.csv", "Excel workbook"), ("broken.csv.gz", "truncated or corrupt gzip"),
                        ("export.csv", "unknown layout")]:
        lines = about(name)
        assert len(lines) == 1 and words in lines[0], (name, r.stderr)
    t = pd.read_csv(out, dtype={"area_code": str})
    row = t[(t["indicator"] == "cin_rate") & (t["area_code"] == "E06000004")].iloc[0]
    assert float(row["published_value"]) == 543.2 and abs(float(row["value"]) - 543.2) < 0.05


def test_in_year_rows_on_the_embedded_default_say_their_comparators_are_demo(tmp_path):
    out = tmp_path / "local.csv"
    r = run("indicators", "--la", "Stockton-on-Tees", "--period", "latest", "--out", out)
    assert r.returncode == 0, r.stderr
    assert any("demo data, not published statistics" in line for line in r.stderr.splitlines()), r.stderr
    t = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(t) and set(t["data_kind"]) == {"local, demo comparators"}
    assert t["source_file"].str.startswith("LA returns; comparators: demo ").all()
    assert not t["source_file"].str.contains("published").any()
    assert (t["neighbour_model"] != "").all()


def test_in_year_rows_from_real_903_extracts_with_published_comparators(tmp_path):
    """Data to Insight's 903 extract (overlapping episodes and all) beside the published files: the rows are local,
    compared with published figures, and a quarter outside what the extract covers is one line and exit 2."""
    needs_shared()
    returns = SHARED_DATA.parent / "records" / "d2i_903_csv"
    header = pd.read_csv(returns / "header.csv", dtype=str)
    out = tmp_path / "local.csv"
    r = run("indicators", "--returns", returns, "--data-dir", SHARED_DATA, "--la", "E06000004", "--period", "2017Q4",
            "--out", out)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert set(t["data_kind"]) == {"local"} and t["source_file"].str.contains("comparators: published").all()
    written = out.read_text("utf-8")
    assert not any(child in written for child in header["CHILD"].head(50)), "a child's identifier reached the table"
    r = run("indicators", "--returns", returns, "--data-dir", SHARED_DATA, "--la", "E06000004", "--period", "2030Q1",
            "--out", tmp_path / "nothing.csv")
    assert_user_error(r, "2030Q1")
    assert not (tmp_path / "nothing.csv").exists()


def test_data_dir_repeated_reads_the_folders_as_one(tmp_path):
    """DfE's downloads in one folder, the KPI files (SEN2 here) in another: both give their figures."""
    needs_shared()
    kpi = SHARED_DATA.parent / "kpi"
    out = tmp_path / "t.csv"
    r = run("indicators", "--data-dir", SHARED_DATA, "--data-dir", kpi, "--la", "808", "--indicator", "cla_rate",
            "--indicator", "ehc_20wk_pct", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    t = pd.read_csv(out, dtype=str, keep_default_na=False).set_index(["indicator", "time_period"])
    assert round(float(t.loc[("cla_rate", "2024"), "value"])) == 132  # the CLA release's published rate
    # SEN2 2021 for Stockton-on-Tees, read here with the csv module: plans within 20 weeks over all plans
    with open(kpi / "sen2_mi.csv", encoding="utf-8-sig", newline="") as fh:
        sen2 = next(row for row in csv.DictReader(fh) if row["time_period"] == "2021" and row["old_la_code"] == "808")
    row = t.loc[("ehc_20wk_pct", "2021")]
    assert (float(row["numerator"]), float(row["denominator"])) == (float(sen2["inc_exc_20week_ehc"]),
                                                                    float(sen2["tot_inc_exc_ehc"]))
    assert round(float(row["value"]), 1) == round(float(sen2["inc_exc_20week_rate"]), 1)
    assert row["source_file"] == "sen2_mi.csv"
    r = run("indicators", "--data-dir", SHARED_DATA, "--data-dir", tmp_path / "nowhere", "--out", out)
    assert_user_error(r, "data folder not found", "nowhere")
