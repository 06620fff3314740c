"""Reading and validating record-level returns (SSDA903, CIN census)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import InputError, ParameterError
from analysis.read.records import record_counts
from analysis.read.returns import Returns, identify_table, read_returns, returns_from_frames

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
EPISODES = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"
MISSING = "CHILD,DOB,MISSING,MIS_START,MIS_END\n"
CIN_CHILDREN = "LAchildID,UPN,PersonBirthDate,GenderCurrent,PersonDeathDate,Ethnicity,PostCode\n"
CIN_DETAILS = "LAchildID,CINdetailsID,CINreferralDate,CINclosureDate,ReasonForClosure,ReferralNFA\n"
CP_PLANS = "LAchildID,CPPstartDate,CPPendDate,InitialCategoryOfAbuse\n"


def ep(child, decom, dec="", ls="C2", rne="S", rec=None, place="U4"):
    rec = ("E4A" if dec else "") if rec is None else rec
    return f"{child},{decom},{rne},{ls},N1,{place},PR1,{dec},{rec},,TS18 1AA,TS18 2AB,XXXXXXX\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def good(tmp_path):
    """A small valid 903 (odd file names, recognised by columns)."""
    write(tmp_path, "kids.csv", HEADER + "C1,1,01/01/2012,WBRI,A999123456789,,\nC2,2,02/02/2013,WBRI,,0,\n")
    write(tmp_path, "export (3).csv", EPISODES + ep("C1", "01/01/2024") + ep("C2", "05/02/2024", "01/03/2024"))
    write(tmp_path, "m.csv", MISSING + "C1,01/01/2012,M,03/03/2024,04/03/2024\n")
    return tmp_path


def test_tables_recognised_by_columns_not_names(good):
    r = read_returns(good)
    assert isinstance(r, Returns)
    assert len(r.header) == 2 and len(r.episodes) == 2 and len(r.missing) == 1
    kinds = {s["file"]: s["table"] for s in r.sources}
    assert kinds == {"kids.csv": "header", "export (3).csv": "episodes", "m.csv": "missing"}
    assert r.warnings == []
    assert r.episodes["DECOM"].dtype == "datetime64[ns]"
    assert r.episodes["DEC"].isna().tolist() == [True, False]
    assert r.episodes["_line"].tolist() == [2, 3]


def test_sources_record_rows_and_sha256(good):
    r = read_returns(good)
    src = {s["file"]: s for s in r.sources}
    raw = (good / "export (3).csv").read_bytes()
    assert src["export (3).csv"]["sha256"] == hashlib.sha256(raw).hexdigest()
    assert src["export (3).csv"]["rows"] == 2
    assert src["kids.csv"]["return"] == "SSDA903"


def test_absent_cin_return_is_allowed_and_recorded(good):
    r = read_returns(good)
    assert r.has_903 and not r.has_cin
    assert set(r.missing_tables) == {"cin_children", "cin_details", "cp_plans"}
    assert all("CIN census return is absent" in why for why in r.missing_tables.values())
    assert r.cin_details is None
    measures = set(record_counts(r, "2024-03-31", "X")["measure"])
    assert not measures & {"cin_at", "cp_at"}


def test_absent_903_is_allowed(tmp_path):
    write(tmp_path, "a.csv", CIN_DETAILS + "K1,CIN1,2024-01-01,,,0\n")
    r = read_returns(tmp_path)
    assert r.has_cin and not r.has_903
    assert set(r.missing_tables) == {"header", "episodes", "missing", "cin_children", "cp_plans"}
    assert "SSDA903 return is absent" in r.missing_tables["episodes"]
    assert "CIN census child protection plans" in r.missing_tables["cp_plans"]


def test_impossible_date_names_file_column_row_and_child(good):
    write(good, "export (3).csv", EPISODES + ep("C1", "01/01/2024") + ep("C2", "31/02/2024"))
    with pytest.raises(InputError) as info:
        read_returns(good)
    err = info.value
    assert err.file == "export (3).csv" and err.column == "DECOM" and err.row == 3
    assert "child 'C2'" in str(err) and "31/02/2024" in str(err) and "dd/mm/yyyy" in str(err)
    assert "export (3).csv, column 'DECOM', row 3" in str(err)


def test_unparseable_date_and_count_of_more(good):
    # ISO dates are read in a 903 too; "1st May" and a 13th month are not dates
    write(good, "export (3).csv", EPISODES + ep("C1", "2024-01-01") + ep("C2", "1st May") + ep("C3", "2024-13-01"))
    with pytest.raises(InputError) as info:
        read_returns(good)
    assert info.value.row == 3 and "child 'C2'" in str(info.value) and "1 more row" in str(info.value)


def test_blank_lines_keep_file_line_numbers(good):
    write(good, "export (3).csv", EPISODES + ep("C1", "01/01/2024") + "\n" + ep("C2", "30/02/2024"))
    with pytest.raises(InputError) as info:
        read_returns(good)
    assert info.value.row == 4


def test_end_before_start(good):
    write(good, "export (3).csv", EPISODES + ep("C123", "05/02/2024", "01/01/2024"))
    write(good, "kids.csv", HEADER + "C123,1,01/01/2012,WBRI,,,\n")
    with pytest.raises(InputError) as info:
        read_returns(good)
    assert "child 'C123': DEC 01/01/2024 is before DECOM 05/02/2024" in str(info.value)
    assert info.value.column == "DEC" and info.value.row == 2


def test_missing_episode_end_before_start(good):
    write(good, "m.csv", MISSING + "C1,01/01/2012,M,03/03/2024,01/03/2024\n")
    with pytest.raises(InputError, match="child 'C1': MIS_END 01/03/2024 is before MIS_START 03/03/2024"):
        read_returns(good)


def test_overlapping_episodes_are_resolved_by_dfe_rule(good):
    # C1: 01/01-01/03/2024, then a new episode from 15/02/2024: the first is treated as ending 15/02/2024
    write(good, "export (3).csv", EPISODES + ep("C1", "01/01/2024", "01/03/2024", rec="X1")
          + ep("C1", "15/02/2024", rne="P"))
    r = read_returns(good)
    c1 = r.episodes[r.episodes["CHILD"] == "C1"].sort_values("DECOM")
    assert c1["DEC"].tolist()[0] == pd.Timestamp("2024-02-15") and pd.isna(c1["DEC"].tolist()[1])
    assert r.resolved == {"overlapping 903 episodes resolved (earlier episode ended at the next start)": 1}
    assert any("export (3).csv row 2: child 'C1'" in w and "overlaps" in w for w in r.warnings)
    assert "overlapping 903 episodes resolved (earlier episode ended at the next start): 1" in r.warning_summary()
    assert not any("C1" in line for line in r.warning_summary())
    counts = dict(zip(*record_counts(r, "2024-02-20", "X")[["measure", "count"]].T.values))
    assert counts["cla_at"] == 1  # C1 once, though both of its episodes were recorded as open on 20/02/2024


def test_episode_after_an_open_episode_closes_it(good):
    # An open episode followed by another: the open one ends when the next starts, so C1 is out of care
    # between 01/03/2024 (second episode ends) and today, although the first was never closed.
    write(good, "export (3).csv", EPISODES + ep("C1", "01/01/2024") + ep("C1", "01/02/2024", "01/03/2024", rne="P"))
    r = read_returns(good)
    assert r.episodes["DEC"].tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")]
    counts = dict(zip(*record_counts(r, "2024-03-31", "X")[["measure", "count"]].T.values))
    assert counts["cla_at"] == 0
    assert any("(DEC open) overlaps the next one" in w for w in r.warnings)


def test_contiguous_episodes_are_fine(good):
    write(good, "export (3).csv", EPISODES + ep("C1", "01/01/2024", "01/03/2024", rec="X1")
          + ep("C1", "01/03/2024", rne="P"))
    assert len(read_returns(good).episodes) == 2


def test_unknown_code_is_a_warning_and_row_still_counted(good):
    write(good, "export (3).csv", EPISODES + ep("C1", "01/01/2024", ls="X9") + ep("C2", "05/02/2024", place="Q7"))
    r = read_returns(good)
    assert len(r.warnings) == 2
    assert "export (3).csv row 2: child 'C1': LS 'X9' is not a valid legal status code" in r.warnings
    assert any("row 3" in w and "child 'C2'" in w and "PLACE 'Q7'" in w for w in r.warnings)
    counts = dict(zip(*record_counts(r, "2024-03-31", "X")[["measure", "count"]].T.values))
    assert counts["cla_at"] == 2  # both still counted


def test_child_without_header_row_is_a_warning(good):
    write(good, "export (3).csv", EPISODES + ep("C1", "01/01/2024") + ep("C9", "01/01/2024"))
    write(good, "m.csv", MISSING + "C8,,M,03/03/2024,\n")
    r = read_returns(good)
    assert any(w.startswith("export (3).csv row 3: child 'C9'") and "header" in w for w in r.warnings)
    assert any(w.startswith("m.csv row 2: child 'C8'") for w in r.warnings)
    assert len(r.episodes) == 2


def test_pack_safe_summary_and_repr_name_no_child(good):
    write(good, "export (3).csv", EPISODES + ep("SECRET1", "01/01/2024", ls="X9"))
    r = read_returns(good)
    assert any("SECRET1" in w for w in r.warnings)
    summary = r.warning_summary()
    assert summary and not any("SECRET1" in s for s in summary)
    assert "export (3).csv: 1 row with an unknown LS code (LS)" in summary
    assert "SECRET1" not in repr(r)


def test_unknown_layout_lists_columns_found(tmp_path):
    write(tmp_path, "notes.csv", "Foo,Bar,Baz\n1,2,3\n")
    with pytest.raises(InputError) as info:
        read_returns(tmp_path)
    text = str(info.value)
    assert info.value.file == "notes.csv"
    assert "Columns found: Foo, Bar, Baz" in text
    assert "SSDA903 episodes" in text and "CIN census CIN details" in text and "DECOM" in text


def test_missing_required_column(good):
    write(good, "export (3).csv", "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST\n"
          "C1,01/01/2024,S,C2,N1,U4,PR1,,,,,\n")
    with pytest.raises(InputError) as info:
        read_returns(good)
    assert info.value.column == "URN" and "SSDA903 episodes" in str(info.value)


def test_empty_file(good):
    write(good, "empty.csv", "")
    with pytest.raises(InputError, match="empty") as info:
        read_returns(good)
    assert info.value.file == "empty.csv"


def test_non_utf8_file(good):
    (good / "latin.csv").write_bytes((HEADER + "C3,1,01/01/2012,WBRI,,,\n").encode() + "Zoë".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8") as info:
        read_returns(good)
    assert info.value.file == "latin.csv"


def test_utf8_bom_and_column_spelling_tolerated(tmp_path):
    text = "\ufeffchild , Sex,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nC1,1,01/01/2012,WBRI,,,\n"
    (tmp_path / "h.csv").write_text(text, encoding="utf-8")
    r = read_returns(tmp_path)
    assert r.header["CHILD"].tolist() == ["C1"]


def test_header_only_file_is_an_empty_table(good):
    write(good, "m.csv", MISSING)
    r = read_returns(good)
    assert r.missing is not None and len(r.missing) == 0


def test_cin_dates_in_both_formats_and_nfa(tmp_path):
    write(tmp_path, "c.csv", CIN_CHILDREN + "K1,,2015-01-01,1,,WBRI,TS18 1AA\nK2,,,0,,,\n")
    write(tmp_path, "d.csv", CIN_DETAILS + "K1,A,2024-01-01,31/03/2024,RC7,0\nK2,B,01/02/2024,,,true\nK1,C,2024-05-01,,,Y\n")
    write(tmp_path, "p.csv", CP_PLANS + "K1,2024-01-10,2024-03-01,NEG\n")
    r = read_returns(tmp_path)
    assert r.cin_details["CINclosureDate"].iloc[0] == pd.Timestamp("2024-03-31")
    assert r.cin_details["CINreferralDate"].iloc[1] == pd.Timestamp("2024-02-01")
    assert r.cin_details["ReferralNFA"].tolist() == [False, True, True]
    assert r.cin_children["PersonBirthDate"].isna().tolist() == [False, True]  # unborn: no birth date
    assert r.warnings == []


def test_cin_impossible_date(tmp_path):
    write(tmp_path, "d.csv", CIN_DETAILS + "K1,A,2024-02-30,,,0\n")
    with pytest.raises(InputError) as info:
        read_returns(tmp_path)
    assert info.value.column == "CINreferralDate" and info.value.row == 2
    assert "child 'K1'" in str(info.value) and "yyyy-mm-dd or dd/mm/yyyy" in str(info.value)


def test_cp_end_before_start(tmp_path):
    write(tmp_path, "p.csv", CP_PLANS + "K7,2024-05-10,2024-05-01,NEG\n")
    with pytest.raises(InputError, match="child 'K7': CPPendDate 2024-05-01 is before CPPstartDate 2024-05-10"):
        read_returns(tmp_path)


def test_unknown_cin_codes_are_warnings(tmp_path):
    write(tmp_path, "d.csv", CIN_DETAILS + "K1,A,2024-01-01,2024-02-01,RC99,maybe\n")
    r = read_returns(tmp_path)
    assert len(r.warnings) == 2
    assert any("ReasonForClosure 'RC99'" in w for w in r.warnings)
    assert any("ReferralNFA 'maybe'" in w for w in r.warnings)


def test_blank_child_id_and_blank_mandatory_date(good):
    write(good, "export (3).csv", EPISODES + ep("", "01/01/2024"))
    with pytest.raises(InputError, match="CHILD is blank"):
        read_returns(good)
    write(good, "export (3).csv", EPISODES + ep("C1", ""))
    with pytest.raises(InputError, match="child 'C1': DECOM is blank"):
        read_returns(good)


def test_two_extracts_combined_latest_wins(good):
    # last year's extract had C1's episode open; this year's closes it and adds a new child
    write(good, "export (3).csv", EPISODES + ep("C1", "01/01/2024"))
    write(good, "episodes_2025.csv", EPISODES + ep("C1", "01/01/2024", "01/02/2025") + ep("C2", "05/02/2025"))
    r = read_returns(good)
    assert len(r.episodes) == 2
    c1 = r.episodes[r.episodes["CHILD"] == "C1"].iloc[0]
    assert c1["DEC"] == pd.Timestamp("2025-02-01") and c1["_file"] == "episodes_2025.csv"


def test_folder_errors(tmp_path):
    with pytest.raises(ParameterError):
        read_returns(tmp_path / "nope")
    with pytest.raises(ParameterError):
        read_returns(tmp_path)  # no CSV at all
    (tmp_path / "readme.txt").write_text("not a table")
    with pytest.raises(ParameterError):
        read_returns(tmp_path)


def test_identify_table_and_frames():
    assert identify_table(["LAchildID", "CPPstartDate", "CPPendDate", "CPPID"]) == "cp_plans"
    assert identify_table(["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"]) == "missing"
    assert identify_table(["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]) == "header"
    r = returns_from_frames({"eps": pd.DataFrame({
        "CHILD": ["C1"], "DECOM": ["01/01/2024"], "RNE": ["S"], "LS": ["C2"], "CIN": ["N1"], "PLACE": ["U4"],
        "PLACE_PROVIDER": ["PR1"], "DEC": [None], "REC": [None], "REASON_PLACE_CHANGE": [None],
        "HOME_POST": [None], "PL_POST": [None], "URN": ["XXXXXXX"]})})
    assert r.episodes["DEC"].isna().all() and r.sources[0]["file"] == "eps"
