"""Read and validate child-level statutory returns: the SSDA903 (children looked after) and the CIN census.

The quarterly run needs in-year figures that the annual DfE releases cannot give, so this module reads
the council's own record-level extracts and checks them at the edge; :mod:`analysis.records` turns the
checked tables into counts.

Tables and how they are recognised
----------------------------------
Every ``*.csv`` file directly inside the folder is read and recognised **by its columns**, never by its
name (column names are matched ignoring case and surrounding spaces, then renamed to the spelling below):

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

A file is assigned to the table whose required columns it holds the largest share of (at least half,
including the child identifier); a file that is then short of a required column is a structural error.
903 dates are ``dd/mm/yyyy``; CIN census dates may be ``yyyy-mm-dd`` (the census XML convention) or
``dd/mm/yyyy``. Several files of one kind (e.g. two years' 903 extracts) are combined: where the same
record (key below) is in more than one file, the copy in the most recent extract (latest dates) is kept.

Either return, or any table, may be absent; that is recorded in :attr:`Returns.missing_tables` and the
measures that need it are left out by :mod:`analysis.records`.

Validation
----------
*Structural* problems raise :class:`analysis.errors.InputError` naming the file, column, line (header =
line 1) and child: a missing required column, a blank child identifier or mandatory date, an
unparseable or impossible date (``31/02/2024``; dates before 1900), an end date before its start date,
and overlapping 903 episodes for one child (an episode starting before the previous one ended, or after
one left open). The message gives the first problem in file order and how many more of the same kind
there are. Non-UTF-8 files, empty files and files whose columns match no known table also raise.

*Soft* problems are recorded, one line each, in :attr:`Returns.warnings` and the row is still used:
unknown codes (checked against the DfE code sets below), a blank code where the 903 requires one,
a blank REC on a closed episode, a child in episodes/missing with no header row (and a child in CIN
details/CP plans with no child-identifiers row), a child listed twice in a header table.

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

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError, ParameterError

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

DMY = ("%d/%m/%Y",)
CIN_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
_FORMAT_TEXT = {"%d/%m/%Y": "dd/mm/yyyy", "%Y-%m-%d": "yyyy-mm-dd"}
_EARLIEST = pd.Timestamp("1900-01-01")


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


@dataclass(repr=False)
class Returns:
    """The tables found in a folder of record-level returns, validated.

    Table attributes hold a DataFrame, or ``None`` when the table is absent. Dates are parsed to
    ``datetime64[ns]`` (blank -> NaT), codes are trimmed strings, ``ReferralNFA`` is boolean; two
    columns are added: ``_file`` (file name) and ``_line`` (line number in that file, header = 1).

    ``warnings`` (one line per soft problem) and ``issues`` (the same, structured) name children:
    keep them on the analyst's console, never in a pack. ``warning_summary()`` is the pack-safe form.
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

    def warning_summary(self) -> list[str]:
        """Soft problems counted by file, column and problem, naming no child: safe for a pack."""
        if self.issues.empty:
            return []
        grouped = (
            self.issues.groupby(["file", "column", "problem"], sort=True, dropna=False)
            .size()
            .reset_index(name="n")
        )
        return [
            f"{r.file}: {r.n} row{'s' if r.n != 1 else ''} with {r.problem} ({r.column})"
            for r in grouped.itertuples(index=False)
        ]

    def __repr__(self) -> str:  # never show identifiers
        parts = []
        for kind in TABLES:
            df = getattr(self, kind)
            parts.append(f"{kind}={'absent' if df is None else f'{len(df)} rows'}")
        return f"Returns({', '.join(parts)}, warnings={len(self.warnings)})"


# --- reading -----------------------------------------------------------------------------------------


def read_returns(folder) -> Returns:
    """Read every ``*.csv`` in ``folder`` (not subfolders), recognise each by its columns, validate.

    Raises
    ------
    ParameterError
        The folder does not exist or holds no CSV file.
    InputError
        A structural problem in a file (see the module docstring).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError(f"returns folder not found: {folder}")
    paths = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv" and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    if not paths:
        raise ParameterError(f"no CSV files in returns folder {folder}; expected SSDA903 and/or CIN census tables")
    loaded = []
    for path in paths:
        raw = path.read_bytes()
        frame = _read_csv_bytes(raw, path.name)
        kind = identify_table(frame.columns, path.name)
        loaded.append((kind, path.name, frame, hashlib.sha256(raw).hexdigest()))
    return _build(loaded, folder)


def returns_from_frames(frames: dict, folder=None) -> Returns:
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
    return _build(loaded, None if folder is None else Path(folder))


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


def _parse_table(frame: pd.DataFrame, name: str, kind: str, issues: list) -> pd.DataFrame:
    """Canonical columns, blank lines dropped, dates parsed, codes checked (soft issues appended)."""
    spec = TABLES[kind]
    canon = {c.lower(): c for c in spec.required}
    canon.update({c.lower(): c for c, _ in spec.dates})
    frame = frame.rename(columns={c: canon.get(c.lower(), c) for c in frame.columns})
    absent = [c for c in spec.required if c not in frame.columns]
    if absent:
        raise InputError(
            name,
            f"recognised as the {spec.label} table but the required column"
            f"{'s' if len(absent) > 1 else ''} {', '.join(absent)} "
            f"{'are' if len(absent) > 1 else 'is'} missing. Columns found: {', '.join(frame.columns)}",
            column=absent[0],
        )
    frame = frame.loc[:, ~pd.Index(frame.columns).duplicated()]
    frame = frame[(frame != "").any(axis=1)].copy()  # blank lines keep their numbering
    frame["_file"] = name
    frame["_line"] = (frame.index.to_numpy() + 2).astype("int64")
    child = frame[spec.id_column]

    blank_id = child == ""
    if blank_id.any():
        _raise_first(name, frame, blank_id, spec.id_column, lambda r: f"{spec.id_column} is blank")

    for col, mandatory in spec.dates:
        if col not in frame.columns:
            continue
        raw = frame[col]
        parsed = _parse_dates(raw, spec.date_formats)
        if mandatory:
            blank = raw == ""
            if blank.any():
                _raise_first(
                    name, frame, blank, col, lambda r, col=col: f"child '{r[spec.id_column]}': {col} is blank"
                )
        bad = (raw != "") & parsed.isna()
        if bad.any():
            fmt = " or ".join(_FORMAT_TEXT[f] for f in spec.date_formats)
            _raise_first(
                name, frame, bad, col,
                lambda r, col=col, fmt=fmt: (
                    f"child '{r[spec.id_column]}': {col} '{r[col]}' is not a valid date (expected {fmt})"
                ),
            )
        frame[f"_raw_{col}"] = raw
        frame[col] = parsed

    for start, end in spec.date_pairs:
        before = frame[end].notna() & (frame[end] < frame[start])
        if before.any():
            _raise_first(
                name, frame, before, end,
                lambda r, start=start, end=end: (
                    f"child '{r[spec.id_column]}': {end} {r[f'_raw_{end}']} is before {start} {r[f'_raw_{start}']}"
                ),
            )

    for col, codes, desc, blank_ok in spec.codes:
        raw = frame[col]
        unknown = (raw != "") & ~raw.isin(codes)
        _add_issues(issues, frame, unknown, spec, col, f"an unknown {col} code",
                    f"{col} '" + raw[unknown] + f"' is not a valid {desc} code")
        if not blank_ok:
            blank = raw == ""
            _add_issues(issues, frame, blank, spec, col, f"a blank {col}", pd.Series(f"{col} is blank", index=raw.index)[blank])

    if kind == "episodes":
        no_rec = frame["DEC"].notna() & (frame["REC"] == "")
        _add_issues(issues, frame, no_rec, spec, "REC", "a blank REC on a closed episode",
                    pd.Series("REC is blank but DEC is given", index=frame.index)[no_rec])
    if kind == "cin_details":
        text = frame["ReferralNFA"].str.lower()
        unknown = (text != "") & ~text.isin(NFA_TRUE | NFA_FALSE)
        _add_issues(issues, frame, unknown, spec, "ReferralNFA", "an unknown ReferralNFA value",
                    "ReferralNFA '" + frame["ReferralNFA"][unknown] + "' is not true/false (read as false)")
        frame["_raw_ReferralNFA"] = frame["ReferralNFA"]
        frame["ReferralNFA"] = text.isin(NFA_TRUE).astype(bool)
    if kind in ("header", "cin_children"):
        dup = child.duplicated(keep="first")
        _add_issues(issues, frame, dup, spec, spec.id_column, "a child listed more than once",
                    pd.Series(f"listed more than once in this {spec.label} table; the first row is used",
                              index=frame.index)[dup])
    raw_cols = [c for c in frame.columns if c.startswith("_raw_") and c != "_raw_ReferralNFA"]
    return frame.drop(columns=raw_cols)


def _parse_dates(raw: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """Parse text dates trying each format in turn; blank, unparseable or pre-1900 dates give NaT."""
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = out.isna() & (raw != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(raw[todo], format=fmt, errors="coerce").astype("datetime64[ns]")
    return out.where(out >= _EARLIEST)


def _raise_first(name, frame, mask, column, describe):
    """Raise an InputError for the first flagged row, saying how many more rows have the problem."""
    flagged = frame[mask]
    first = flagged.iloc[0]
    message = describe(first)
    more = len(flagged) - 1
    if more:
        message += f" ({more} more row{'s' if more > 1 else ''} in this column with the same problem)"
    raise InputError(name, message, column=column, row=int(first["_line"]))


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


def _combine(parts: list[pd.DataFrame], spec: TableSpec) -> pd.DataFrame:
    """Stack the files of one kind; a record in several files is kept from the most recent extract."""
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    date_cols = [c for c, _ in spec.dates if c in parts[0].columns]
    recency = []
    for i, part in enumerate(parts):
        latest = part[date_cols].max().max() if len(part) else pd.NaT
        recency.append((pd.Timestamp.min if pd.isna(latest) else latest, part["_file"].iloc[0] if len(part) else "", i))
    rank = {i: r for r, (_, _, i) in enumerate(sorted(recency))}
    stacked = pd.concat(
        [p.assign(_rank=rank[i]) for i, p in enumerate(parts)], ignore_index=True, sort=False
    )
    top = stacked.groupby(list(spec.key), dropna=False)["_rank"].transform("max")
    return stacked[stacked["_rank"] == top].drop(columns="_rank").reset_index(drop=True)


def _check_overlaps(episodes: pd.DataFrame) -> None:
    """Raise if a child's episode starts before that child's previous episode ended."""
    e = episodes.sort_values(["CHILD", "DECOM", "_file", "_line"], kind="stable")
    same = e["CHILD"].eq(e["CHILD"].shift())
    prev_dec = e["DEC"].shift()
    prev_start = e["DECOM"].shift()
    prev_line = e["_line"].shift()
    overlap = same & (prev_dec.isna() | (e["DECOM"] < prev_dec))
    if not overlap.any():
        return
    idx = overlap[overlap].index
    first = e.loc[idx].sort_values(["_file", "_line"]).iloc[0]
    i = first.name
    prev_end_text = "is still open (DEC blank)" if pd.isna(prev_dec[i]) else f"ends {prev_dec[i]:%d/%m/%Y}"
    message = (
        f"child '{first['CHILD']}': the episode starting {first['DECOM']:%d/%m/%Y} overlaps the previous "
        f"episode (DECOM {prev_start[i]:%d/%m/%Y}, line {int(prev_line[i])}), which {prev_end_text}"
    )
    more = len(idx) - 1
    if more:
        message += f" ({more} more overlapping episode{'s' if more > 1 else ''})"
    raise InputError(first["_file"], message, column="DECOM", row=int(first["_line"]))


def _orphans(issues, table: pd.DataFrame | None, ids: pd.DataFrame | None, spec: TableSpec, parent: TableSpec):
    """Soft issue: rows for a child with no row in the parent (header / child identifiers) table."""
    if table is None or ids is None or table.empty:
        return
    col = spec.id_column
    orphan = ~table[col].isin(ids[parent.id_column])
    _add_issues(issues, table, orphan, spec, col, f"a child with no {parent.label} row",
                pd.Series(f"no row for this child in the {parent.label}", index=table.index)[orphan])


def _build(loaded: list, folder: Path | None) -> Returns:
    issues: list[pd.DataFrame] = []
    by_kind: dict[str, list[pd.DataFrame]] = {k: [] for k in TABLES}
    sources = []
    for kind, name, frame, digest in loaded:
        parsed = _parse_table(frame, name, kind, issues)
        by_kind[kind].append(parsed)
        sources.append(
            {"file": name, "table": kind, "return": TABLES[kind].return_name, "rows": int(len(parsed)), "sha256": digest}
        )
    tables = {k: (_combine(v, TABLES[k]) if v else None) for k, v in by_kind.items()}
    if tables["episodes"] is not None:
        _check_overlaps(tables["episodes"])
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
        warnings=issue_frame["message"].astype(str).tolist(),
        sources=sources,
        missing_tables=missing_tables,
        issues=issue_frame,
        **tables,
    )


__all__ = [
    "Returns",
    "TABLES",
    "RETURN_TABLES",
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
]
