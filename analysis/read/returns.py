"""Read and validate child-level statutory returns: the SSDA903 (children looked after) and the CIN census.

The quarterly run needs in-year figures that the annual DfE releases cannot give, so this module reads
the council's own record-level extracts and checks them at the edge; :mod:`analysis.read.records` turns the
checked tables into counts.

Files and how they are recognised
---------------------------------
Every file directly inside the folder ending ``.csv``, ``.xml``, ``.csv.gz`` or ``.xml.gz`` is read. An XML file is
recognised **by its root element** (``Message``: the CIN census; ``EXPSSDA903``: the SSDA903) and streamed into the
tables below (:mod:`analysis.read.returns_xml`). A CSV file is recognised **by its columns**, never by its name
(column names are matched ignoring case and surrounding spaces, then renamed to the spelling below):

========================  =====================================================================
table kind                required columns
========================  =====================================================================
``header`` (903)          CHILD, SEX, DOB, ETHNIC, UPN, MOTHER, MC_DOB
``episodes`` (903)        CHILD, DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC, REC,
                          REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN
``missing`` (903)         CHILD, DOB, MISSING, MIS_START, MIS_END
``cin_children`` (CIN)    LAchildID, PersonBirthDate, GenderCurrent (+ any others, e.g. UPN)
``cin_details`` (CIN)     LAchildID, CINreferralDate, CINclosureDate, ReasonForClosure, ReferralNFA
``cp_plans`` (CIN)        LAchildID, CPPstartDate, CPPendDate
========================  =====================================================================

A CSV is assigned to the table whose required columns it holds the largest share of (at least half,
including the child identifier); a file that is then short of a required column is a structural error.
Dates, in either return and in any table, may be ``dd/mm/yyyy`` or ``yyyy-mm-dd``, with or without a time
of day (``2022-02-01T00:00:00``, ``01/02/2022 00:00``); one column may mix them (rows from different
extracts). A folder may hold XML and CSV files, and several files of one kind (e.g. two years' 903
extracts): they are combined, and where the same record (key below) is in more than one file, the copy in
the most recent extract (latest dates) is kept; one note per pair of files sharing records says so. A
byte-identical copy of a file already read (a second download) is skipped, with a note.

Either return, or any table, may be absent; that is recorded in :attr:`Returns.missing_tables` and the
measures that need it are left out by :mod:`analysis.read.records`.

Validation
----------
*Structural* problems raise :class:`analysis.errors.InputError` naming the file, column, line (CSV: header =
line 1; XML: the line of the record's element) and child: a missing required column, a blank child
identifier or mandatory date, an unparseable or impossible date (``31/02/2024``; dates before 1900), a date
after today (any date but ExpectedPersonBirthDate: an episode cannot end, nor a child be born, in the
future), an end date before its start date, a 903 DOB after the child's first episode starts, and a CIN
PersonBirthDate more than 280 days after the child's first referral (DfE CIN rule 8606: an unborn child may
be referred up to 40 weeks before birth). The message gives the first problem in file order and how many
more of the same kind there are. Non-UTF-8 files, empty files, malformed XML, XML of another kind and
files whose columns match no known table also raise.

*Messy records* are read and resolved by one rule each, counted in :attr:`Returns.resolved` (no
identifiers) and named one line each in :attr:`Returns.warnings` (terminal only):

* rows identical in every field to an earlier row of the same table are dropped (a duplicated episode,
  missing episode, CIN episode or CP plan would otherwise be counted twice);
* a child listed more than once in the 903 header (or CIN child identifiers) with different details: the
  first row is kept, one warning per child;
* overlapping 903 episodes of one child follow DfE's 903 validation (the 503 family: "a later episode
  starting before the previous one ends is an error in the earlier episode's end date"): with the child's
  episodes ordered by DECOM, an episode whose DEC is after the next DECOM, or blank, is treated as ending on
  that DECOM (:func:`_resolve_903_overlaps`);
* overlapping CIN episodes, or CP plans, of one child are left as they are: :mod:`analysis.read.records` counts
  each child once on a date and once among starts, so overlaps cannot double count; they are counted.

*Soft* problems are recorded, one line each, in :attr:`Returns.warnings` and the row is still used:
unknown codes (checked against the DfE code sets below), a blank code where the 903 requires one,
a blank REC on a closed episode, a child in episodes/missing with no header row (and a child in CIN
details/CP plans with no child-identifiers row).

Coverage
--------
:meth:`Returns.coverage` (:func:`covered_period`) gives the dates the returns cover, from 1 April of the
earliest collection year in which they record an event (an end, or a missing episode) to the latest date
they record; :func:`analysis.indicators.local.resolve_period` refuses a quarter ending outside it.

Privacy
-------
Error and warning messages name the child's identifier, because the analyst needs it to fix the source
system. They must **never** be written into a pack: :attr:`Returns.warnings`, :attr:`Returns.issues` and
the text of an :class:`InputError` are for the analyst's console only. :meth:`Returns.warning_summary`
gives counts by file and problem with no identifiers, which is safe to publish. ``repr(Returns)`` shows
table sizes only.

Code sets
---------
The code lists follow the DfE SSDA903 and CIN census guidance as implemented by the DfE-backed 903
validator (2024-25 collection): placement types include K3, first valid in 2024-25, so older extracts
validate too. Codes are compared exactly (after trimming spaces); ``u1`` is not ``U1``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.read import returns_xml
from analysis.read import files as files_mod
from analysis.errors import InputError, ParameterError

# --- DfE code sets -------------------------------------------------------------------------------------

#: SSDA903 legal status (LS).
LEGAL_STATUS_CODES = frozenset("C1 C2 D1 E1 J1 J2 J3 L1 L2 L3 V2 V3 V4".split())
#: Legal statuses for an agreed series of short-term placements (short breaks / respite), which DfE
#: leaves out of its children-looked-after counts.
SHORT_BREAK_LEGAL_STATUSES = frozenset({"V3", "V4"})
#: Reason for new episode (RNE).
RNE_CODES = frozenset("S P L T U B".split())
#: Reason episode ceased (REC); X1 = episode ceases and a new one begins on the same day.
REC_CODES = frozenset(
    "E11 E12 E13 E14 E15 E16 E17 E2 E3 E4A E4B E41 E45 E46 E47 E48 E5 E6 E7 E8 E9 X1".split()
)
#: Placement type (PLACE): the 903 code set in use from 2022-23, plus K3 (added 2024-25).
PLACE_CODES = frozenset(
    (
        "A3 A4 A5 A6 H5 K1 K2 K3 P1 P2 P3 R1 R2 R3 R5 S1 T0 T1 T2 T3 T4 "
        "U1 U2 U3 U4 U5 U6 Z1"
    ).split()
)
#: Placement provider (PLACE_PROVIDER).
PLACE_PROVIDER_CODES = frozenset("PR0 PR1 PR2 PR3 PR4 PR5".split())
#: Category of need in the 903 episode (CIN).
CATEGORY_OF_NEED_CODES = frozenset("N1 N2 N3 N4 N5 N6 N7 N8".split())
#: 903 SEX: 1 male, 2 female.
SEX_CODES = frozenset({"1", "2"})
#: 903 missing table MISSING: M missing, A away from placement without authorisation.
MISSING_CODES = frozenset({"M", "A"})
#: 903 header MOTHER: 1 the child is a mother, 0 not (blank allowed, e.g. for boys).
MOTHER_CODES = frozenset({"0", "1"})
#: CIN census reason for closure.
REASON_FOR_CLOSURE_CODES = frozenset(f"RC{i}" for i in range(1, 9))
#: CIN census GenderCurrent: 0 not known, 1 male, 2 female, 9 not specified.
GENDER_CURRENT_CODES = frozenset({"0", "1", "2", "9"})
#: ReferralNFA spellings read as true / false (compared in lower case).
NFA_TRUE = frozenset({"1", "true", "y", "yes"})
NFA_FALSE = frozenset({"0", "false", "n", "no"})

#: Date formats tried, in order, for 903 tables and for CIN census tables (either may hold both: extracts differ).
DMY = ("%d/%m/%Y", "%Y-%m-%d")
CIN_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
_FORMAT_TEXT = {"%d/%m/%Y": "dd/mm/yyyy", "%Y-%m-%d": "yyyy-mm-dd"}
_EARLIEST = pd.Timestamp("1900-01-01")
#: A time of day after the date ("2022-02-01T00:00:00", "01/02/2022 00:00", "...Z", "...+01:00"): dropped.
_TIME_OF_DAY = r"^(\S+?)(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$"
#: DfE CIN census rule 8606: a referral may be up to 280 days (40 weeks) before the child's birth (unborn children).
PRE_BIRTH_REFERRAL_DAYS = 280
#: Files read from a returns folder (by name ending, lower case); the layout inside is recognised by content.
READ_SUFFIXES = (".csv", ".xml", ".csv.gz", ".xml.gz")


@dataclass(frozen=True)
class TableSpec:
    """How one table is recognised, parsed and checked."""

    kind: str
    return_name: str  # "SSDA903" or "CIN census"
    label: str
    required: tuple[str, ...]
    id_column: str
    key: tuple[str, ...]  # a record's identity across files (for combining extracts)
    dates: tuple[tuple[str, bool], ...]  # (column, mandatory); parsed when present
    date_formats: tuple[str, ...]
    date_pairs: tuple[tuple[str, str], ...] = ()  # (start, end): end must not be before start
    codes: tuple[tuple[str, frozenset, str, bool], ...] = ()  # (column, codes, description, blank_ok)


TABLES: dict[str, TableSpec] = {
    spec.kind: spec
    for spec in (
        TableSpec(
            "header", "SSDA903", "SSDA903 header",
            ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
            "CHILD", ("CHILD",),
            (("DOB", True), ("MC_DOB", False)), DMY,
            codes=(("SEX", SEX_CODES, "sex", False), ("MOTHER", MOTHER_CODES, "mother", True)),
        ),
        TableSpec(
            "episodes", "SSDA903", "SSDA903 episodes",
            ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
             "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"),
            "CHILD", ("CHILD", "DECOM"),
            (("DECOM", True), ("DEC", False)), DMY,
            date_pairs=(("DECOM", "DEC"),),
            codes=(
                ("RNE", RNE_CODES, "reason for new episode", False),
                ("LS", LEGAL_STATUS_CODES, "legal status", False),
                ("CIN", CATEGORY_OF_NEED_CODES, "category of need", True),
                ("PLACE", PLACE_CODES, "placement type", False),
                ("PLACE_PROVIDER", PLACE_PROVIDER_CODES, "placement provider", True),
                ("REC", REC_CODES, "reason episode ceased", True),
            ),
        ),
        TableSpec(
            "missing", "SSDA903", "SSDA903 missing",
            ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
            "CHILD", ("CHILD", "MIS_START", "MISSING"),
            (("DOB", False), ("MIS_START", True), ("MIS_END", False)), DMY,
            date_pairs=(("MIS_START", "MIS_END"),),
            codes=(("MISSING", MISSING_CODES, "missing/away", False),),
        ),
        TableSpec(
            "cin_children", "CIN census", "CIN census child identifiers",
            ("LAchildID", "PersonBirthDate", "GenderCurrent"),
            "LAchildID", ("LAchildID",),
            (("PersonBirthDate", False), ("ExpectedPersonBirthDate", False), ("PersonDeathDate", False)),
            CIN_DATE_FORMATS,
            codes=(("GenderCurrent", GENDER_CURRENT_CODES, "gender", True),),
        ),
        TableSpec(
            "cin_details", "CIN census", "CIN census CIN details",
            ("LAchildID", "CINreferralDate", "CINclosureDate", "ReasonForClosure", "ReferralNFA"),
            "LAchildID", ("LAchildID", "CINreferralDate"),
            (("CINreferralDate", True), ("CINclosureDate", False), ("DateOfInitialCPC", False)),
            CIN_DATE_FORMATS,
            date_pairs=(("CINreferralDate", "CINclosureDate"),),
            codes=(("ReasonForClosure", REASON_FOR_CLOSURE_CODES, "reason for closure", True),),
        ),
        TableSpec(
            "cp_plans", "CIN census", "CIN census child protection plans",
            ("LAchildID", "CPPstartDate", "CPPendDate"),
            "LAchildID", ("LAchildID", "CPPstartDate"),
            (("CPPstartDate", True), ("CPPendDate", False)), CIN_DATE_FORMATS,
            date_pairs=(("CPPstartDate", "CPPendDate"),),
        ),
    )
}
#: Table kinds by return.
RETURN_TABLES = {
    "SSDA903": ("header", "episodes", "missing"),
    "CIN census": ("cin_children", "cin_details", "cp_plans"),
}
_ISSUE_COLUMNS = ["file", "row", "child", "column", "problem", "message"]


#: What :attr:`Returns.resolved` counts (keys in this order; only non-zero counts are kept).
RESOLVED_KEYS = (
    "overlapping 903 episodes resolved (earlier episode ended at the next start)",
    "duplicate 903 episodes dropped",
    "duplicate 903 missing episodes dropped",
    "duplicate 903 header rows dropped",
    "903 header rows for a child already listed (first kept)",
    "duplicate CIN child identifier rows dropped",
    "CIN child identifier rows for a child already listed (first kept)",
    "duplicate CIN episodes dropped",
    "overlapping CIN episodes (child counted once)",
    "duplicate CP plans dropped",
    "overlapping CP plans (child counted once)",
)
_DUPLICATE_KEY = {
    "episodes": RESOLVED_KEYS[1], "missing": RESOLVED_KEYS[2], "header": RESOLVED_KEYS[3],
    "cin_children": RESOLVED_KEYS[5], "cin_details": RESOLVED_KEYS[7], "cp_plans": RESOLVED_KEYS[9],
}
_REPEAT_KEY = {"header": RESOLVED_KEYS[4], "cin_children": RESOLVED_KEYS[6]}
#: Start and end columns per table: which dates record an *event* (see :func:`covered_period`).
_EVENT_DATES = {
    "episodes": ("DEC",),
    "missing": ("MIS_END",),
    "cin_details": ("CINclosureDate",),
    "cp_plans": ("CPPendDate",),
}
_ALL_DATES = {
    "episodes": ("DECOM", "DEC"),
    "missing": ("MIS_START", "MIS_END"),
    "cin_details": ("CINreferralDate", "CINclosureDate"),
    "cp_plans": ("CPPstartDate", "CPPendDate"),
}


class Coverage(NamedTuple):
    """The dates a set of returns covers (both days included); see :func:`covered_period`."""

    start: pd.Timestamp
    end: pd.Timestamp

    def text(self) -> str:
        return f"{_long_date(self.start)} to {_long_date(self.end)}"


def _long_date(value) -> str:
    d = pd.Timestamp(value)
    return f"{d.day} {d:%B %Y}"


@dataclass(repr=False)
class Returns:
    """The tables found in a folder of record-level returns, validated.

    Table attributes hold a DataFrame, or ``None`` when the table is absent. Dates are parsed to
    ``datetime64[ns]`` (blank -> NaT), codes are trimmed strings, ``ReferralNFA`` is boolean; two
    columns are added: ``_file`` (file name) and ``_line`` (line number in that file, header = 1).

    ``warnings`` (one line per soft problem or resolved record) and ``issues`` (the soft problems,
    structured) name children: keep them on the analyst's console, never in a pack.
    ``resolved`` counts records changed or dropped while reading (overlaps, duplicates; keys from
    :data:`RESOLVED_KEYS`, non-zero counts only) and ``notes`` are file-level remarks (two copies of
    one table); neither names a child. ``warning_summary()`` is the pack-safe form of all of them.
    """

    folder: Path | None = None
    header: pd.DataFrame | None = None
    episodes: pd.DataFrame | None = None
    missing: pd.DataFrame | None = None
    cin_children: pd.DataFrame | None = None
    cin_details: pd.DataFrame | None = None
    cp_plans: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    missing_tables: dict[str, str] = field(default_factory=dict)
    issues: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_ISSUE_COLUMNS))
    resolved: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(self, kind: str) -> pd.DataFrame | None:
        """The table of one kind (see :data:`TABLES`), or None when absent."""
        if kind not in TABLES:
            raise ParameterError(f"unknown table kind {kind!r}; expected one of {', '.join(TABLES)}")
        return getattr(self, kind)

    def has(self, kind: str) -> bool:
        return self.table(kind) is not None

    @property
    def has_903(self) -> bool:
        return any(self.has(k) for k in RETURN_TABLES["SSDA903"])

    @property
    def has_cin(self) -> bool:
        return any(self.has(k) for k in RETURN_TABLES["CIN census"])

    def coverage(self) -> Coverage | None:
        """The dates these returns cover (see :func:`covered_period`), or None when they record no date."""
        return covered_period(self)

    def warning_summary(self) -> list[str]:
        """Soft problems counted by file, column and problem, file-level notes, and the counts of records
        resolved while reading; naming no child: safe for a pack."""
        lines = []
        if not self.issues.empty:
            grouped = (
                self.issues.groupby(["file", "column", "problem"], sort=True, dropna=False)
                .size()
                .reset_index(name="n")
            )
            lines += [
                f"{r.file}: {r.n} row{'s' if r.n != 1 else ''} with {r.problem} ({r.column})"
                for r in grouped.itertuples(index=False)
            ]
        lines += list(self.notes)
        lines += [f"{k}: {v}" for k, v in self.resolved.items() if v]
        return lines

    def __repr__(self) -> str:  # never show identifiers
        parts = []
        for kind in TABLES:
            df = getattr(self, kind)
            parts.append(f"{kind}={'absent' if df is None else f'{len(df)} rows'}")
        return f"Returns({', '.join(parts)}, warnings={len(self.warnings)})"


def covered_period(returns) -> Coverage | None:
    """The period the returns cover, from the dates they record (works on any object with the table attributes).

    End: the latest date recorded anywhere (any start or end of an episode, missing episode, CIN episode or
    CP plan): the extract's effective date. Start: 1 April of the earliest collection year (1 April-31 March)
    in which the returns record an *event* that only a return for that year would hold: an episode end (DEC),
    a missing episode's end (MIS_END), a CIN episode closure (CINclosureDate, which for no-further-action
    referrals is the referral day) or a CP plan end (CPPendDate). Start dates are not evidence: a return for
    2023-24 holds every episode open in that year, including one that started in 2012. When the returns record
    no event at all (every record still open), the start is 1 April of the collection year of the end.
    """
    last, first_event = None, None
    for table, cols in _ALL_DATES.items():
        frame = getattr(returns, table, None)
        if frame is None:
            continue
        for col in cols:
            if col not in frame or not len(frame):
                continue
            values = frame[col]
            hi = values.max()
            if pd.notna(hi) and (last is None or hi > last):
                last = pd.Timestamp(hi)
            if col in _EVENT_DATES.get(table, ()):
                if col == "DEC" and "_DEC_resolved" in frame:  # an end set by resolving an overlap is no event
                    values = values[~frame["_DEC_resolved"].to_numpy(bool)]
                lo = values.min()
                if pd.notna(lo) and (first_event is None or lo < first_event):
                    first_event = pd.Timestamp(lo)
    if last is None:
        return None
    anchor = first_event if first_event is not None else last
    year = anchor.year if anchor.month >= 4 else anchor.year - 1
    return Coverage(pd.Timestamp(year, 4, 1), last.normalize())


# --- reading -----------------------------------------------------------------------------------------


def _today(today=None) -> pd.Timestamp:
    return pd.Timestamp(dt.date.today() if today is None else today).normalize()


_sha256 = files_mod.sha256


def _returns_files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir()
         if p.is_file() and not p.name.startswith(".") and p.name.lower().endswith(READ_SUFFIXES)),
        key=lambda p: p.name,
    )


def read_returns(folder, *, today=None) -> Returns:
    """Read every return file in ``folder`` (not subfolders), recognise each by its content, validate.

    Files ending ``.csv``, ``.xml``, ``.csv.gz`` or ``.xml.gz`` are read: a CSV is recognised by its columns, an
    XML by its root element (CIN census ``Message``, SSDA903 ``EXPSSDA903``; streamed, see
    :mod:`analysis.read.returns_xml`). A folder may hold both. A file that is a byte-identical copy of one read before
    is read once (a note says so). ``today`` (default: the current date) is the day no date may be after.

    Raises
    ------
    ParameterError
        The folder does not exist or holds no return file.
    InputError
        A structural problem in a file (see the module docstring).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError(f"returns folder not found: {folder}")
    paths = _returns_files(folder)
    if not paths:
        raise ParameterError(f"no CSV or XML files in returns folder {folder}; expected SSDA903 and/or CIN census "
                             "tables (.csv, .xml, .csv.gz or .xml.gz)")
    loaded, notes, seen = [], [], {}
    required = {k: spec.required for k, spec in TABLES.items()}
    for path in paths:
        digest = _sha256(path)
        if digest in seen:
            notes.append(f"{path.name} is an identical copy of {seen[digest]}: read once")
            continue
        seen[digest] = path.name
        if path.name.lower().endswith((".xml", ".xml.gz")):
            _, tables = returns_xml.read_xml(path, path.name, required)
            for kind, frame in tables.items():
                if len(frame):
                    loaded.append((kind, path.name, frame, digest))
            if not any(len(f) for f in tables.values()):
                raise InputError(path.name, "the XML return holds no child records")
            continue
        if path.name.lower().endswith(".gz"):
            try:
                with returns_xml.open_bytes(path) as fh:
                    raw = fh.read()
            except (OSError, EOFError) as exc:
                raise InputError(path.name, f"cannot be read as gzip ({exc})") from None
        else:
            raw = path.read_bytes()
        frame = _read_csv_bytes(raw, path.name)
        kind = identify_table(frame.columns, path.name)
        loaded.append((kind, path.name, frame, digest))
    return _build(loaded, folder, notes, _today(today))


def returns_from_frames(frames: dict, folder=None, *, today=None) -> Returns:
    """Validate tables given as DataFrames of text, as if read from CSV files.

    ``frames`` maps a name (used as the file name in messages, e.g. ``"episodes.csv"``) to a DataFrame
    whose cells are the text a CSV would hold (``None``/NaN count as blank). Tables are recognised by
    their columns, exactly as :func:`read_returns` does. Lines are numbered as in a file: the first
    data row is line 2.
    """
    loaded = []
    for name, df in frames.items():
        frame = df.copy()
        frame.columns = [str(c).strip() for c in frame.columns]
        frame = frame.astype(object).where(frame.notna(), "")
        frame = frame.astype(str).apply(lambda s: s.str.strip())
        frame.index = pd.RangeIndex(len(frame))
        kind = identify_table(frame.columns, name)
        digest = hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()
        loaded.append((kind, str(name), frame, digest))
    return _build(loaded, None if folder is None else Path(folder), [], _today(today))


def _read_csv_bytes(raw: bytes, name: str) -> pd.DataFrame:
    """Decode strictly as UTF-8 and read every cell as trimmed text ('' for blank)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise InputError(name, "the file is empty; expected a CSV table with a header row")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start]
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            name,
            f"the file is not UTF-8 text (byte 0x{bad:02X} cannot be decoded); "
            "save it again as 'CSV UTF-8'",
            row=line,
        ) from None
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(name, f"cannot be read as CSV: {str(exc).strip()}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.fillna("").astype(str).apply(lambda s: s.str.strip())
    return frame


def identify_table(columns, name: str = "<table>") -> str:
    """The table kind whose required columns the given columns best cover (see module docstring)."""
    found = [str(c).strip() for c in columns]
    lower = {c.lower() for c in found}
    scores = {}
    for kind, spec in TABLES.items():
        if spec.id_column.lower() not in lower:
            continue
        share = sum(c.lower() in lower for c in spec.required) / len(spec.required)
        if share >= 0.5:
            scores[kind] = share
    if not scores:
        expected = "; ".join(f"{s.label}: {', '.join(s.required)}" for s in TABLES.values())
        raise InputError(
            name,
            f"the columns match no known table. Columns found: {', '.join(found) or '(none)'}. "
            f"Tables expected (by their columns): {expected}",
        )
    best = max(scores.values())
    winners = [k for k, v in scores.items() if v == best]
    if len(winners) > 1:
        raise InputError(
            name,
            f"the columns match more than one table ({', '.join(TABLES[k].label for k in winners)}); "
            "give each table its own file",
        )
    return winners[0]


# --- validation --------------------------------------------------------------------------------------


def _fmt_dates(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%d/%m/%Y").fillna("open")


def _parse_table(frame: pd.DataFrame, name: str, kind: str, issues: list, today: pd.Timestamp) -> pd.DataFrame:
    """Canonical columns, blank lines dropped, dates parsed, codes checked (soft issues appended).

    Dates and codes are checked on each column's distinct values (:func:`_distinct`; extracts repeat them a lot),
    and the other cells of a line only when its child identifier is blank.
    """
    spec = TABLES[kind]
    canon = {c.lower(): c for c in spec.required}
    canon.update({c.lower(): c for c, _ in spec.dates})
    frame = frame.rename(columns={c: canon.get(c.lower(), c) for c in frame.columns if c != "_line"})
    absent = [c for c in spec.required if c not in frame.columns]
    if absent:
        raise InputError(
            name,
            f"recognised as the {spec.label} table but the required column"
            f"{'s' if len(absent) > 1 else ''} {', '.join(absent)} "
            f"{'are' if len(absent) > 1 else 'is'} missing. Columns found: {', '.join(frame.columns)}",
            column=absent[0],
        )
    repeated = pd.Index(frame.columns).duplicated()
    if repeated.any():
        frame = frame.loc[:, ~repeated]
    if "_line" in frame.columns:  # from an XML file: the line of the record's element
        lines = frame["_line"].to_numpy(dtype="int64")
        frame = frame.drop(columns="_line")
    else:
        lines = (frame.index.to_numpy() + 2).astype("int64")
    filled = (frame[spec.id_column] != "").to_numpy()
    keep = filled.copy()
    if not keep.all():  # a line with a blank identifier is kept unless it is blank (blank lines keep their numbering)
        keep[~filled] = (frame[~filled] != "").any(axis=1).to_numpy()
        frame = frame[keep]
    frame = frame.assign(_file=name, _line=lines[keep])

    blank_id = ~filled[keep]
    if blank_id.any():
        _raise_first(name, frame, blank_id, spec.id_column, lambda r: f"{spec.id_column} is blank")

    raws = {}
    for col, mandatory in spec.dates:
        if col not in frame.columns:
            continue
        raw = frame[col]
        codes, text = _distinct(raw)
        values = _date_values(text, spec.date_formats)
        if mandatory:
            blank = _at(text == "", codes)
            if blank.any():
                _raise_first(
                    name, frame, blank, col, lambda r, col=col: f"child '{r[spec.id_column]}': {col} is blank"
                )
        bad = _at((text != "") & np.isnat(values), codes, missing=True)
        if bad.any():
            fmt = " or ".join(_FORMAT_TEXT[f] for f in spec.date_formats)
            _raise_first(
                name, frame, bad, col,
                lambda r, col=col, fmt=fmt: (
                    f"child '{r[spec.id_column]}': {col} '{r[col]}' is not a valid date "
                    f"(expected {fmt}, a time of day may follow)"
                ),
            )
        if col != "ExpectedPersonBirthDate":
            future = _at(values > today.to_datetime64(), codes)
            if future.any():
                _raise_first(
                    name, frame, future, col,
                    lambda r, col=col: (
                        f"child '{r[spec.id_column]}': {col} {r[col]} is in the future (after today, "
                        f"{_long_date(today)}); a return records only what has happened"
                    ),
                )
        raws[col] = raw
        frame[col] = np.append(values, np.datetime64("NaT", "ns"))[codes]

    for start, end in spec.date_pairs:
        before = frame[end].notna() & (frame[end] < frame[start])
        if before.any():
            _raise_first(
                name, frame.assign(**{f"_raw_{start}": raws[start], f"_raw_{end}": raws[end]}), before, end,
                lambda r, start=start, end=end: (
                    f"child '{r[spec.id_column]}': {end} {r[f'_raw_{end}']} is before {start} {r[f'_raw_{start}']}"
                ),
            )

    blanks = {}
    for col, codes, desc, blank_ok in spec.codes:
        raw = frame[col]
        at, text = _distinct(raw)
        known = np.fromiter((t in codes for t in text), bool, len(text))
        blanks[col] = blank = _at(text == "", at)
        unknown = _at((text != "") & ~known, at, missing=True)
        _add_issues(issues, frame, unknown, spec, col, f"an unknown {col} code",
                    f"{col} '" + raw[unknown] + f"' is not a valid {desc} code")
        if not blank_ok:
            _add_issues(issues, frame, blank, spec, col, f"a blank {col}", pd.Series(f"{col} is blank", index=raw.index)[blank])

    if kind == "episodes":
        no_rec = frame["DEC"].notna() & blanks["REC"]
        _add_issues(issues, frame, no_rec, spec, "REC", "a blank REC on a closed episode",
                    pd.Series("REC is blank but DEC is given", index=frame.index)[no_rec])
    if kind == "cin_details":
        text = frame["ReferralNFA"].str.lower()
        unknown = (text != "") & ~text.isin(NFA_TRUE | NFA_FALSE)
        _add_issues(issues, frame, unknown, spec, "ReferralNFA", "an unknown ReferralNFA value",
                    "ReferralNFA '" + frame["ReferralNFA"][unknown] + "' is not true/false (read as false)")
        frame["_raw_ReferralNFA"] = frame["ReferralNFA"]
        frame["ReferralNFA"] = text.isin(NFA_TRUE).astype(bool)
    return frame


def _distinct(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(number of each cell's value, the distinct values) of a text column; -1 for a missing value (None/NaN)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), sort=False)
    return codes, np.asarray(uniques, dtype=object)


def _at(flags: np.ndarray, codes: np.ndarray, missing: bool = False) -> np.ndarray:
    """Per-distinct-value ``flags`` spread to the cells (``missing`` for a missing value)."""
    return np.append(np.asarray(flags, bool), missing)[codes]


def _date_values(text: np.ndarray, formats: tuple[str, ...]) -> np.ndarray:
    """Text dates parsed (``datetime64[ns]``); blank, unparseable or pre-1900 dates give NaT.

    A time of day after the date is dropped (``2022-02-01T00:00:00``, ``01/02/2022 00:00``), then each format is
    tried in turn, so one column may mix ``dd/mm/yyyy`` and ``yyyy-mm-dd`` (rows from different extracts).
    """
    text = pd.Series(text, dtype=object).astype(str)
    day = text.str.replace(_TIME_OF_DAY, r"\1", regex=True)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = parsed.isna() & (day != "")
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(day[todo], format=fmt, errors="coerce").astype("datetime64[ns]")
    return parsed.where(parsed >= _EARLIEST).to_numpy(dtype="datetime64[ns]")


def _raise_first(name, frame, mask, column, describe):
    """Raise an InputError for the first flagged row (in file order), saying how many more rows have the problem.

    ``name`` None: the file is the flagged row's own ``_file`` (a table combined from several files).
    """
    flagged = frame[mask]
    if name is None:
        flagged = flagged.sort_values(["_file", "_line"], kind="stable")
    first = flagged.iloc[0]
    message = describe(first)
    more = len(flagged) - 1
    if more:
        message += f" ({more} more row{'s' if more > 1 else ''} in this column with the same problem)"
    raise InputError(first["_file"] if name is None else name, message, column=column, row=int(first["_line"]))


def _add_issues(issues, frame, mask, spec, column, problem, details):
    if not mask.any():
        return
    rows = frame[mask]
    line = rows["_line"].astype(str)
    child = rows[spec.id_column]
    message = rows["_file"] + " row " + line + ": child '" + child + "': " + details.astype(str)
    issues.append(
        pd.DataFrame(
            {
                "file": rows["_file"].to_numpy(),
                "row": rows["_line"].to_numpy(),
                "child": child.to_numpy(),
                "column": column,
                "problem": problem,
                "message": message.to_numpy(),
            }
        )
    )


def _row_messages(rows: pd.DataFrame, id_col: str, details) -> list[str]:
    """'file row N: child 'X': details' for each row (terminal only: names the child)."""
    if rows.empty:
        return []
    text = rows["_file"] + " row " + rows["_line"].astype(str) + ": child '" + rows[id_col] + "': " + details
    return text.astype(str).tolist()


def _combine(parts: list[pd.DataFrame], spec: TableSpec, notes: list | None = None) -> pd.DataFrame:
    """Stack the files of one kind; a record in several files is kept from the most recent extract.

    "Most recent" = the file whose latest date is latest (ties: the later file name). A record is identified by
    :attr:`TableSpec.key`. When two files share records, one line naming both goes to ``notes``.
    """
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    date_cols = [c for c, _ in spec.dates if c in parts[0].columns]
    recency = []
    for i, part in enumerate(parts):
        latest = part[date_cols].max().max() if len(part) else pd.NaT
        recency.append((pd.Timestamp.min if pd.isna(latest) else latest, part["_file"].iloc[0] if len(part) else "", i))
    rank = {i: r for r, (_, _, i) in enumerate(sorted(recency))}
    if notes is not None:
        keys = [pd.MultiIndex.from_frame(p[list(spec.key)]) for p in parts]
        for i in range(len(parts)):
            for j in range(i + 1, len(parts)):
                shared = int(keys[j].isin(keys[i]).sum())
                if shared:
                    a, b = parts[i]["_file"].iloc[0], parts[j]["_file"].iloc[0]
                    newer = b if rank[j] > rank[i] else a
                    notes.append(
                        f"{a} and {b} both hold {spec.label} records ({shared} record{'s' if shared != 1 else ''} "
                        f"in both, by {' and '.join(spec.key)}): each is counted once, from the more recent "
                        f"extract ({newer})"
                    )
    stacked = pd.concat(
        [p.assign(_rank=rank[i]) for i, p in enumerate(parts)], ignore_index=True, sort=False
    )
    top = stacked.groupby(list(spec.key), dropna=False)["_rank"].transform("max")
    return stacked[stacked["_rank"] == top].drop(columns="_rank").reset_index(drop=True)


def _drop_exact_duplicates(table: pd.DataFrame, spec: TableSpec, warnings: list) -> tuple[pd.DataFrame, int]:
    """Rows identical in every column (but file and line) to an earlier row are dropped.

    (Such rows share their key, so only rows whose key is repeated are compared in full.)
    """
    cols = [c for c in table.columns if not c.startswith("_")]
    dup = np.zeros(len(table), bool)
    shared = table.duplicated(list(spec.key), keep=False).to_numpy()
    if shared.any():
        dup[shared] = table[shared].duplicated(cols, keep="first").to_numpy()
    n = int(dup.sum())
    if n:
        warnings += _row_messages(table[dup], spec.id_column,
                                  f"an exact copy of an earlier {spec.label} row; dropped")
        table = table[~dup].reset_index(drop=True)
    return table, n


def _first_row_per_child(table: pd.DataFrame, spec: TableSpec, issues: list) -> tuple[pd.DataFrame, int]:
    """A child listed more than once (rows differing): one warning per child, the first row (file order) kept."""
    ids = table[spec.id_column]
    dup = ids.duplicated(keep="first")
    n = int(dup.sum())
    if n:
        times = ids.map(ids.value_counts())
        first_dup = dup & ~ids.where(dup).duplicated(keep="first")
        first_line = ids.map(table[~dup].set_index(spec.id_column)["_line"])
        details = ("listed " + times.astype(str) + f" times in the {spec.label}; the first row (line "
                   + first_line.astype(str) + ") is used")
        _add_issues(issues, table, first_dup, spec, spec.id_column, "a child listed more than once", details[first_dup])
        table = table[~dup].reset_index(drop=True)
    return table, n


def _resolve_903_overlaps(episodes: pd.DataFrame, warnings: list) -> tuple[pd.DataFrame, int]:
    """Overlapping episodes of one child: the earlier episode ends when the later one starts.

    DfE's rule (903 validation, the 503 family: "a later episode starting before the previous one ends is an error
    in the earlier episode's end date"): with a child's episodes ordered by start (then end, open last), an
    episode whose DEC is after the next episode's DECOM, or blank, is treated as ending on that DECOM. Each child is
    then in at most one episode on any day. Returns the table (same rows and order, plus a boolean column
    ``_DEC_resolved`` marking the changed ends) and how many ends changed.
    """
    if episodes.empty:
        return episodes, 0
    # each child's episodes in order (children in order of first appearance; the rows flagged are sorted below)
    child = pd.factorize(episodes["CHILD"])[0]
    decom, dec = episodes["DECOM"].to_numpy("datetime64[ns]"), episodes["DEC"].to_numpy("datetime64[ns]")
    sort = _stable_order([child, _nat_last(decom), _nat_last(dec), pd.factorize(episodes["_file"], sort=True)[0],
                          episodes["_line"].to_numpy()])
    child, decom, dec = child[sort], decom[sort], dec[sort]
    over = np.zeros(len(sort), bool)
    over[:-1] = (child[1:] == child[:-1]) & (np.isnat(dec[:-1]) | (dec[:-1] > decom[1:]))
    n = int(over.sum())
    if not n:
        return episodes, 0
    order = ["CHILD", "DECOM", "DEC", "_file", "_line"]
    at = np.flatnonzero(over)
    rows = episodes[order].iloc[sort[at]].sort_values(order, kind="stable", na_position="last")  # by CHILD
    nxt = episodes[order].iloc[sort[at + 1]].set_axis(episodes.index[sort[at]]).loc[rows.index]
    details = ("the episode starting " + rows["DECOM"].dt.strftime("%d/%m/%Y") + " (DEC "
               + _fmt_dates(rows["DEC"]) + ") overlaps the next one (row " + nxt["_line"].astype("int64").astype(str)
               + ", DECOM " + nxt["DECOM"].dt.strftime("%d/%m/%Y")
               + "); treated as ending on that date (DfE: the earlier episode's end date is the error)")
    warnings += _row_messages(rows, "CHILD", details)
    out = episodes.copy(deep=False)  # (copy on write: only the columns changed are copied)
    out.loc[rows.index, "DEC"] = nxt["DECOM"]
    out["_DEC_resolved"] = False
    out.loc[rows.index, "_DEC_resolved"] = True
    return out, n


def _stable_order(keys: list) -> np.ndarray:
    """The stable order of rows by integer ``keys`` (first key first), as ``np.lexsort`` gives it.

    The last two keys are usually in order already (file, line): the others are then ranked and combined into one
    integer when it fits, whose stable sort (of mostly ordered data) is much faster than sorting key by key.
    """
    file, line = keys[-2:]
    if len(line) > 1 and not ((file[1:] > file[:-1]) | ((file[1:] == file[:-1]) & (line[1:] >= line[:-1]))).all():
        return np.lexsort(keys[::-1])
    combined, bits = np.zeros(len(line), np.int64), 0
    for key in keys[:-2]:
        rank, found = pd.factorize(key, sort=True)
        size = max(len(found), 1).bit_length()
        if bits + size > 62:
            return np.lexsort(keys[::-1])
        combined = (combined << size) | rank
        bits += size
    return np.argsort(combined, kind="stable")


def _nat_last(dates: np.ndarray) -> np.ndarray:
    """Dates (``datetime64[ns]``) as integers that sort as they do, blank (NaT) last."""
    return np.where(np.isnat(dates), np.iinfo(np.int64).max, dates.view("int64"))


def _count_overlaps(table: pd.DataFrame, id_col: str, start: str, end: str, what: str, warnings: list,
                    exclude=None) -> int:
    """Records of a child starting before that child's previous record ended (left as they are: the counts
    take each child once per date)."""
    t = table if exclude is None else table[~exclude]
    if t.empty:
        return 0
    t = t.sort_values([id_col, start, "_file", "_line"], kind="stable")
    prev_end = t[end].shift()
    over = t[id_col].eq(t[id_col].shift()) & (prev_end.isna() | (t[start] < prev_end))
    n = int(over.sum())
    if n:
        warnings += _row_messages(t[over], id_col, f"this {what} starts before the child's previous one ended; "
                                  "the child is counted once on each date")
    return n


def _check_births(tables: dict) -> None:
    """A date of birth after the child's first 903 episode, or (CIN) more than 280 days after the first referral."""
    header, episodes = tables["header"], tables["episodes"]
    if header is not None and episodes is not None and len(header) and len(episodes):
        first = episodes.groupby("CHILD", sort=False)["DECOM"].min()
        start = header["CHILD"].map(first)
        bad = header["DOB"].notna() & start.notna() & (header["DOB"] > start)
        if bad.any():
            _raise_first(None, header.assign(_first=start), bad, "DOB", lambda r: (
                f"child '{r['CHILD']}': DOB {r['DOB']:%d/%m/%Y} is after the child's first episode starts "
                f"(DECOM {r['_first']:%d/%m/%Y})"))
    children, details = tables["cin_children"], tables["cin_details"]
    if children is not None and details is not None and len(children) and len(details):
        first = details.groupby("LAchildID", sort=False)["CINreferralDate"].min()
        referral = children["LAchildID"].map(first)
        late = children["PersonBirthDate"] - referral > pd.Timedelta(days=PRE_BIRTH_REFERRAL_DAYS)
        bad = children["PersonBirthDate"].notna() & referral.notna() & late
        if bad.any():
            _raise_first(None, children.assign(_first=referral), bad, "PersonBirthDate", lambda r: (
                f"child '{r['LAchildID']}': PersonBirthDate {r['PersonBirthDate']:%Y-%m-%d} is more than "
                f"{PRE_BIRTH_REFERRAL_DAYS} days after the child's first referral (CINreferralDate "
                f"{r['_first']:%Y-%m-%d}); DfE rule 8606 allows a referral up to 40 weeks before birth"))


def _isin(values: pd.Series, among: pd.Series) -> np.ndarray:
    """``values.isin(among)``; for pandas' string dtype (CSV files) by numbering both at once, as its ``isin`` is
    slow on many distinct strings (2 s for a million)."""
    if values.dtype == object and among.dtype == object:
        return values.isin(among).to_numpy()
    codes = pd.factorize(pd.concat([among, values], ignore_index=True), use_na_sentinel=False)[0]
    known = np.zeros(int(codes.max()) + 1 if len(codes) else 0, bool)
    known[codes[:len(among)]] = True
    return known[codes[len(among):]]


def _orphans(issues, table: pd.DataFrame | None, ids: pd.DataFrame | None, spec: TableSpec, parent: TableSpec):
    """Soft issue: rows for a child with no row in the parent (header / child identifiers) table."""
    if table is None or ids is None or table.empty:
        return
    col = spec.id_column
    orphan = ~_isin(table[col], ids[parent.id_column])
    _add_issues(issues, table, orphan, spec, col, f"a child with no {parent.label} row",
                pd.Series(f"no row for this child in the {parent.label}", index=table.index)[orphan])


def _build(loaded: list, folder: Path | None, notes: list | None = None, today: pd.Timestamp | None = None) -> Returns:
    notes = list(notes or [])
    today = _today() if today is None else today
    issues: list[pd.DataFrame] = []
    by_kind: dict[str, list[pd.DataFrame]] = {k: [] for k in TABLES}
    sources = []
    for kind, name, frame, digest in loaded:
        parsed = _parse_table(frame, name, kind, issues, today)
        by_kind[kind].append(parsed)
        sources.append(
            {"file": name, "table": kind, "return": TABLES[kind].return_name, "rows": int(len(parsed)), "sha256": digest}
        )
    tables = {k: (_combine(v, TABLES[k], notes) if v else None) for k, v in by_kind.items()}

    resolved: dict[str, int] = {}
    extra: list[str] = []  # terminal-only lines naming children
    for kind, table in tables.items():
        if table is None:
            continue
        table, n = _drop_exact_duplicates(table, TABLES[kind], extra)
        resolved[_DUPLICATE_KEY[kind]] = n
        if kind in _REPEAT_KEY:
            table, n = _first_row_per_child(table, TABLES[kind], issues)
            resolved[_REPEAT_KEY[kind]] = n
        tables[kind] = table
    _check_births(tables)
    if tables["episodes"] is not None:
        tables["episodes"], n = _resolve_903_overlaps(tables["episodes"], extra)
        resolved[RESOLVED_KEYS[0]] = n
    if tables["cin_details"] is not None:
        resolved[RESOLVED_KEYS[8]] = _count_overlaps(
            tables["cin_details"], "LAchildID", "CINreferralDate", "CINclosureDate", "CIN episode", extra,
            exclude=tables["cin_details"]["ReferralNFA"].to_numpy(bool))
    if tables["cp_plans"] is not None:
        resolved[RESOLVED_KEYS[10]] = _count_overlaps(
            tables["cp_plans"], "LAchildID", "CPPstartDate", "CPPendDate", "CP plan", extra)
    _orphans(issues, tables["episodes"], tables["header"], TABLES["episodes"], TABLES["header"])
    _orphans(issues, tables["missing"], tables["header"], TABLES["missing"], TABLES["header"])
    _orphans(issues, tables["cin_details"], tables["cin_children"], TABLES["cin_details"], TABLES["cin_children"])
    _orphans(issues, tables["cp_plans"], tables["cin_children"], TABLES["cp_plans"], TABLES["cin_children"])

    missing_tables = {}
    where = f" in {folder}" if folder is not None else ""
    for return_name, kinds in RETURN_TABLES.items():
        whole = all(tables[k] is None for k in kinds)
        for k in kinds:
            if tables[k] is None:
                missing_tables[k] = (
                    f"the {return_name} return is absent (no {return_name} table found{where})"
                    if whole
                    else f"no file with the {TABLES[k].label} columns ({', '.join(TABLES[k].required)}) found{where}"
                )
    if all(t is None for t in tables.values()):
        raise ParameterError(f"no SSDA903 or CIN census tables found{where}")

    issue_frame = (
        pd.concat(issues, ignore_index=True) if issues else pd.DataFrame(columns=_ISSUE_COLUMNS)
    )
    return Returns(
        folder=folder,
        warnings=issue_frame["message"].astype(str).tolist() + extra + notes,
        sources=sources,
        missing_tables=missing_tables,
        issues=issue_frame,
        resolved={k: resolved[k] for k in RESOLVED_KEYS if resolved.get(k)},
        notes=notes,
        **tables,
    )


__all__ = [
    "Returns",
    "Coverage",
    "covered_period",
    "TABLES",
    "RETURN_TABLES",
    "RESOLVED_KEYS",
    "TableSpec",
    "read_returns",
    "returns_from_frames",
    "identify_table",
    "LEGAL_STATUS_CODES",
    "SHORT_BREAK_LEGAL_STATUSES",
    "RNE_CODES",
    "REC_CODES",
    "PLACE_CODES",
    "PLACE_PROVIDER_CODES",
    "CATEGORY_OF_NEED_CODES",
    "SEX_CODES",
    "MISSING_CODES",
    "REASON_FOR_CLOSURE_CODES",
    "GENDER_CURRENT_CODES",
    "PRE_BIRTH_REFERRAL_DAYS",
]
