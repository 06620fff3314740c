"""Reading a folder of published files as analysts keep it: which files hold what, and what each figure is.

:func:`read_folder` finds the table files in a folder (:func:`data_files`), recognises each by its columns, ranks
several releases of a table by their content, parses only what a newer release does not wholly hold, keeps the newest
release of every figure, attaches the population denominators and reads the newest statistical-neighbour model. Files
it cannot use are one warning each, and each file's fate is kept for the inventory
(:func:`analysis.indicators.inventory`).

The registry (:func:`analysis.indicators.registry`) is passed in as data: which layouts and categories an indicator
reads, its multiplier and precision. :func:`analysis.indicators.load` is the call analysts make; it passes the package's
registry.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.read import files as files_mod
from analysis.read import neighbours as neighbours_mod
from analysis.read import areas, population, sources
from analysis.config import DEMO_NOTICE, STAMP_FILE
from analysis.errors import InputError, ParameterError


#: What becomes of each file of a folder (the ``status`` of :func:`analysis.indicators.inventory`).
STATUSES = ("used", "superseded", "identical copy", "not recognised", "unreadable", "not used (older model)")
#: The columns of :func:`analysis.indicators.inventory`, in order: one row per file (:attr:`Dataset.inventory_rows`).
INVENTORY_COLUMNS = ["file", "layout", "publication", "status", "reason", "release", "periods", "areas", "indicators",
                     "rows_used", "rows_superseded", "sha256"]
#: One observation: the newest release wins for each of these.
OBS_KEY = ["indicator", "geographic_level", "area_code", "time_period"]
_SEP = "\x1f"


@dataclass
class Dataset:
    """Everything read from one data folder.

    ``files`` lists the files whose figures were used (``file, layout, publication, sha256, rows, release, years,
    indicators``); ``inventory_rows`` describes every file in the folder (:func:`analysis.indicators.inventory` makes
    them a table). ``neighbour_model`` says which neighbour model was used: ``{"file": name, "layout": ...,
    "description": one line}`` (empty when the folder has none).
    """

    data_dir: Path
    observations: pd.DataFrame
    populations: pd.DataFrame
    neighbours: pd.DataFrame
    files: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    is_demo: bool = False
    vintage: str = "release"
    neighbour_model: dict = field(default_factory=dict)
    inventory_rows: list = field(default_factory=list)
    #: Every folder read, in the order given (``data_dir`` is the first).
    data_dirs: list = field(default_factory=list)

    @property
    def data_kind(self) -> str:
        return "demo" if self.is_demo else "published"

    @property
    def neighbour_model_label(self) -> str:
        """Which neighbour model was used, in one line for tables and pages ("" when the folder has none)."""
        m = self.neighbour_model or {}
        if not m:
            return ""
        return f"{m.get('description', '')} ({m.get('file', '')})".strip()


def data_folders(data_dir) -> list[Path]:
    """The folders ``data_dir`` names: one folder, a list of folders, or folders joined by :data:`os.pathsep` (as
    ``--data-dir`` given more than once passes them on, in one text parameter); each once, in the order given.

    An analyst's published files often sit in more than one folder (the DfE downloads, LAIT's data set): reading
    several folders is reading the files of all of them as one folder.
    """
    if isinstance(data_dir, (list, tuple)):
        found = [f for d in data_dir for f in data_folders(d)]
    else:
        found = [Path(part) for part in str(data_dir).split(os.pathsep) if part.strip()]
    return list(dict.fromkeys(found)) or [Path(str(data_dir))]


def join_folders(folders) -> str:
    """Several folders as one text parameter (:func:`data_folders` reads it back)."""
    return os.pathsep.join(str(f) for f in data_folders(folders))


def folder_words(data_dir) -> str:
    """The folders for a message: ``a``, ``a and b``, ``a, b and c``."""
    names = [str(f) for f in data_folders(data_dir)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def is_demo_folder(data_dir: Path) -> bool:
    """True for a folder written by :mod:`analysis.demo` (its stamp, or its README's notice)."""
    readme = Path(data_dir) / "README.md"
    return (Path(data_dir) / STAMP_FILE).exists() or (readme.is_file() and DEMO_NOTICE in readme.read_text("utf-8"))


#: The file names a data folder's tables may have: CSVs, LAIT's Parquet file and MHCLG's OpenDocument workbooks.
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".ods")


def data_files(data_dir: Path) -> list[Path]:
    """The table files of a data folder (:data:`DATA_SUFFIXES`), sorted by name."""
    return sorted(p for p in Path(data_dir).iterdir() if p.is_file() and p.name.lower().endswith(DATA_SUFFIXES))


# --------------------------------------------------------------------------------------------------------------------
# Reading a folder: scan every file cheaply, parse only what is needed


@dataclass
class _File:
    """What :func:`read_folder` learns about one file (internal)."""

    path: Path
    sha256: str = ""
    text: str = ""
    layout: object = None
    mapping: dict = field(default_factory=dict)
    columns: list = field(default_factory=list)  # the header as read
    positions: dict = field(default_factory=dict)  # canonical name -> column position
    staged: object = None                 # the whole table as read_raw parses it, before filters (sources._stage)
    stage_failed: bool = False
    kind: str = ""                       # data / population / model, or "" when not recognised
    status: str = ""
    reason: str = ""
    release: int | None = None
    periods: list = field(default_factory=list)
    n_rows: int = 0
    keys: frozenset | None = None        # category, level, area and period of every row with an area
    combos: frozenset = frozenset()      # the category combinations (long layouts)
    matched: dict = field(default_factory=dict)  # indicator -> rows whose categories match it exactly
    area_text: str = ""
    obs: pd.DataFrame | None = None
    pops: pd.DataFrame | None = None
    rows_used: int = 0
    rows_superseded: int = 0
    vintage_used: bool = False

    #: The name it is known by when another folder read holds a file of the same name: ``folder/name``.
    alias: str = ""

    @property
    def name(self) -> str:
        return self.alias or self.path.name

    @property
    def rank(self) -> tuple:
        """Newest first: latest period covered, then more periods, then more rows, then SHA-256 (content only)."""
        return (-(self.release or 0), -len(self.periods), -self.n_rows, self.sha256)


def _span(values) -> str:
    values = sorted(set(values))
    if not values:
        return ""
    return values[0] if len(values) == 1 else f"{values[0]} to {values[-1]}"


def _areas_text(level: pd.Series, area: pd.Series) -> str:
    """``152 LAs, 9 regions, England`` for the areas of a file."""
    parts = []
    level, area = level.to_numpy(dtype=object), area.to_numpy(dtype=object)
    n_la = pd.Series(area[level == areas.LEVEL_LA], dtype=object).nunique()
    n_reg = pd.Series(area[level == areas.LEVEL_REGION], dtype=object).nunique()
    if n_la:
        parts.append(f"{n_la} LA{'s' if n_la != 1 else ''}")
    if n_reg:
        parts.append(f"{n_reg} region{'s' if n_reg != 1 else ''}")
    if (level == areas.LEVEL_NATIONAL).any():
        parts.append(areas.ENGLAND_NAME)
    return ", ".join(parts)


def _closest(exc: InputError, columns: list[str]) -> str:
    """One line: the known layout a file's columns come closest to, and what differs."""
    closest, missing = getattr(exc, "closest", None), getattr(exc, "missing", None)
    if isinstance(closest, str):
        closest = sources.LAYOUTS.get(closest, closest)
    shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
    if closest is None:
        return f"unknown layout: its columns ({shown}) match no known table"
    name = getattr(closest, "name", str(closest))
    publication = getattr(closest, "publication", name)
    missing = list(missing or [])
    if len(missing) == 1:
        lacks = f"column '{missing[0]}' is missing"
    else:
        lacks = ("columns " + ", ".join(f"'{m}'" for m in missing[:5])
                 + (f" and {len(missing) - 5} more" if len(missing) > 5 else "") + " are missing")
    return f"unknown layout: closest is {publication} ({name}), but {lacks} (columns found: {shown})"


def _digest(path: Path) -> str:
    """SHA-256 of a file's bytes (:func:`analysis.read.files.sha256`), or "" if it cannot be read."""
    try:
        return files_mod.sha256(path)
    except OSError:
        return ""


def _unreadable(f: "_File", exc: Exception) -> "_File":
    """Mark a file unreadable, saying why in the message of its error."""
    if isinstance(exc, InputError):
        f.sha256 = _digest(f.path)
        f.status, f.reason = "unreadable", exc.message
    else:
        f.status, f.reason = "unreadable", f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
    return f


def _small_text(path: Path, limit: int = 5 << 20) -> str | None:
    """A small file's text (a neighbour model is a few hundred lines), or None if it is large or unreadable."""
    try:
        if path.stat().st_size > limit:
            return None
        return sources._read_text(path)[0]
    except (InputError, OSError):
        return None


def _scan(path: Path, reg: dict) -> _File:
    """Recognise a file and, for an indicator table, what it covers; never raises for a bad file (status says)."""
    f = _File(path)
    measures = lait_measures(reg)
    try:  # the header first: a workbook, a semicolon-delimited file or a broken gzip is named as such, and a large
        columns = sources._header(path, measures)  # unrelated file is turned away without reading its body
    except (InputError, OSError) as exc:
        return _unreadable(f, exc)
    try:  # as sources.detect_layout, keeping the positions: the body is parsed by them without a second look
        columns = [str(c).strip().lstrip("\ufeff") for c in columns]
        f.layout, f.positions = sources._choose(columns, path.name, sources.LAYOUTS)
        f.mapping = {canonical: columns[i] for canonical, i in f.positions.items()}
        f.columns = columns
    except InputError as exc:
        text = _small_text(path)
        if text is not None and neighbours_mod.is_groupings(text):  # the older model, title lines above its header
            f.text, f.sha256 = text, _digest(path)
            f.layout, f.kind = neighbours_mod.GROUPINGS, "model"
            return f
        f.sha256 = _digest(path)
        f.status, f.reason = "not recognised", _closest(exc, columns)
        return f
    try:
        f.text, f.sha256 = sources._read_text(path, measures)
    except (InputError, OSError) as exc:
        return _unreadable(f, exc)
    if f.layout.name in neighbours_mod.MODEL_LAYOUTS:
        f.kind = "model"
    elif f.layout.name == "population":
        f.kind = "population"
    else:
        f.kind = "data"
    return f


def lait_measures(reg: dict) -> frozenset:
    """The LAIT measure codes the registry reads (LAIT's long file is read for these only)."""
    return frozenset(str(e["lait"]) for e in reg.values() if e.get("lait"))


def _staged(f: _File):
    """The file's whole table as :func:`sources.read_raw` parses it (before filters), parsed once from the text read
    by :func:`_scan`; None if it cannot be (the callers then take the path that names the problem)."""
    if f.staged is None and not f.stage_failed:
        try:
            f.staged = sources._stage(f.path, f.columns, f.layout, f.positions, f.text, f.sha256)
        except InputError:
            f.stage_failed = True
    return f.staged


def _staged_plain(f: _File, canonical: list[str]):
    """The staged table if it holds these columns exactly as :func:`_read_columns` reads them (the header parsed as
    its first line, names unique, not category columns, which are relabelled), else None."""
    if (len(set(f.columns)) != len(f.columns) or not all(c in f.positions for c in canonical)
            or any(c in f.layout.categories for c in canonical)):
        return None
    staged = _staged(f)
    return staged if staged is not None and staged.columns == f.columns else None


def _raw(f: _File) -> sources.RawFile:
    """:func:`sources.read_raw` of a scanned file, without reading or parsing it again (same result, same errors)."""
    staged = _staged(f)
    if staged is None:
        return sources.read_raw(f.path)  # raises the error read_raw raises
    return sources._finish(staged)


def _cover(f: _File, reg: dict, cache: bool) -> None:
    """:func:`_coverage`, kept per content for the life of the process when ``cache``."""
    _cached(f, reg, cache, "keys", _coverage, ("status", "reason", "keys", "combos", "matched", "area_text"))


def _span_of(f: _File, reg: dict, cache: bool) -> None:
    """:func:`_periods`, kept per content for the life of the process when ``cache``."""
    _cached(f, reg, cache, "periods", _periods, ("status", "reason", "release", "periods", "n_rows"))


def _cached(f: _File, reg: dict, cache: bool, what: str, func, fields: tuple) -> None:
    cache_key = (f.sha256, f.layout.name, what) if cache else None
    hit = _COVERAGE_CACHE.get(cache_key) if cache_key else None
    if hit is not None:
        for name, value in hit.items():
            setattr(f, name, value)
        return
    func(f, reg)
    if cache_key:
        _remember(_COVERAGE_CACHE, cache_key, {name: getattr(f, name) for name in fields})


#: What a file's content decides, kept per SHA-256 for the life of the process (content, not name: renaming or
#: moving a file reuses it; any change of content misses). Bounded; only when the caller says its registry does
#: not change (``cache``: :func:`analysis.indicators.load` says so for the package's own).
_COVERAGE_CACHE: dict = {}
_PARSE_CACHE: dict = {}
_CACHE_SIZE = 96


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = value


def _read_columns(f: _File, canonical: list[str]) -> pd.DataFrame | None:
    """Some columns of a recognised file, by canonical name, as stripped strings (None, and a status, if unreadable)."""
    wanted = {f.mapping[c]: c for c in canonical if c in f.mapping}
    try:
        t = pd.read_csv(io.StringIO(f.text), dtype=str, keep_default_na=False,
                        usecols=lambda c: str(c).strip().lstrip("\ufeff") in wanted)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        f.status, f.reason = "unreadable", f"is not a well-formed CSV ({str(exc).strip()})"
        return None
    if t.empty:
        f.status, f.reason = "unreadable", "has a header but no data rows"
        return None
    t.columns = [wanted[str(c).strip().lstrip("\ufeff")] for c in t.columns]
    return t.loc[:, ~t.columns.duplicated()]


def _periods(f: _File, reg: dict) -> None:
    """A table's rows, periods and release (its latest period), from two columns: enough to rank releases."""
    staged = _staged_plain(f, ["time_period", "geographic_level"])
    if staged is not None:  # the same, from the table parsed once (stripped already), per distinct value
        t = staged.table
        f.n_rows = len(t)
        lcode, levels = pd.factorize(t["geographic_level"].to_numpy(dtype=object))
        ok = np.append(np.isin(np.asarray(levels, dtype=object),
                               [areas.LEVEL_LA, areas.LEVEL_REGION, areas.LEVEL_NATIONAL]), False)[lcode]
        pcode, values = pd.factorize(t["time_period"].to_numpy(dtype=object)[ok], use_na_sentinel=False)
        year = np.array([isinstance(v, str) and re.fullmatch(r"\d{4}", v) is not None for v in values], dtype=bool)
        f.periods = sorted(v for v, y in zip(values, year) if y)
        f.release = int(f.periods[-1]) if len(f.periods) and year.all() else None
        return
    t = _read_columns(f, ["time_period", "geographic_level"])
    if t is None:
        return
    f.n_rows = len(t)
    level = t["geographic_level"].str.strip()
    period = t["time_period"].str.strip()[level.isin([areas.LEVEL_LA, areas.LEVEL_REGION, areas.LEVEL_NATIONAL])]
    good = period.str.fullmatch(r"\d{4}")
    f.periods = sorted(period[good].unique())
    f.release = int(f.periods[-1]) if len(f.periods) and good.all() else None


def _coverage(f: _File, reg: dict) -> None:
    """The release, periods, areas and keys of an indicator table, from its area, period and category columns only.

    Cheap by design: string work is done once per distinct value (a table repeats a few hundred areas, a dozen years
    and a few categories), never per row.
    """
    layout = f.layout
    wanted = [c for c in dict.fromkeys([*sources.GEO_COLUMNS, *layout.keys]) if c in f.mapping]
    staged = (_staged_plain(f, [c for c in wanted if c not in layout.keys])
              if all(k in f.mapping for k in layout.keys) else None)
    if staged is not None:  # the table parsed once: stripped and relabelled already (stripping again is harmless)
        t = staged.table[wanted]
    else:
        t = _read_columns(f, [*sources.GEO_COLUMNS, *layout.keys])
        if t is None:
            return
        t = sources.canonical_labels(t, layout)  # "on 31 March" and "at 31 March" are one category
    geo_cols = [c for c in sources.GEO_COLUMNS if c in t.columns]
    # one integer per distinct combination of the area and period columns, numbered in order of first appearance
    group = sources._combined_codes([t[c].to_numpy() for c in geo_cols], len(t))
    first = t.iloc[sources._first_rows(group)][geo_cols]  # one row per distinct area and period
    first = pd.DataFrame({c: (first[c] if staged is not None else first[c].str.strip()).to_numpy(dtype=object)
                          for c in geo_cols}, dtype=object)  # staged columns are stripped already
    first["_row"] = np.arange(len(first))
    with_area, slot, area = sources._areas(sources.RawFile(f.path, layout, first, f.sha256, []))  # distinct areas
    level, code = area["geographic_level"][slot], area["area_code"][slot]
    kept = np.zeros(len(first), dtype=bool)
    kept[with_area] = True
    gkey = np.full(len(first), "", dtype=object)
    gkey[with_area] = level + _SEP + code + _SEP + first["time_period"].to_numpy(dtype=object)[with_area]
    rows = kept[group]
    n_rows = int(rows.sum())
    # the category combination of each row as a code; its text (stripped, lower case) once per distinct combination
    if layout.keys:
        factorised = [pd.factorize(t[k].to_numpy()[rows]) for k in layout.keys]
        combo = sources._combined_codes([codes for codes, _ in factorised], n_rows)
        at = sources._first_rows(combo)
        parts = [pd.Index(uniques).str.strip().str.lower().to_numpy(dtype=object)[codes[at]]
                 for codes, uniques in factorised]
        combo_text = parts[0]
        for extra in parts[1:]:
            combo_text = combo_text + _SEP + extra
    else:
        combo = np.zeros(n_rows, dtype=np.int64)
        combo_text = np.full(min(n_rows, 1), "", dtype=object)
    pair = sources._first_rows(sources._combined_codes([combo, group[rows]], n_rows))
    f.keys = frozenset(combo_text[combo[pair]] + _SEP + gkey[group[rows][pair]])
    f.combos = frozenset(pd.unique(combo_text))
    per_combo = np.bincount(combo, minlength=len(combo_text))
    for ind, entry in reg.items():
        if entry["source"] != layout.name:
            continue
        key = (entry.get("numerator") or {}).get("key")
        if layout.keys and key is not None:
            key = key if isinstance(key, list) else [key]
            n = int(per_combo[combo_text == _SEP.join(str(v).strip().lower() for v in key)].sum())
        else:
            n = n_rows
        if n:
            f.matched[ind] = n
    f.area_text = _areas_text(pd.Series(level, dtype=object), pd.Series(code, dtype=object))


def _superseded_by(f: _File, live: list[_File], reg: dict, cache: bool) -> _File | None:
    """A newer release of the same table holding every category, area and period of ``f``, if there is one.

    Periods are compared first (cheap); the areas and categories of both files are read only when a newer release
    covers every period of ``f``.
    """
    if f.release is None or f.status:
        return None
    for g in live:
        if (g is f or g.layout.name != f.layout.name or g.release is None or g.release <= f.release
                or g.status or not set(f.periods) <= set(g.periods)):
            continue
        for h in (f, g):
            if h.keys is None:
                _cover(h, reg, cache)
        if f.status:
            return None  # unreadable after all: parsing it will say why
        if g.status or not f.combos <= g.combos:
            continue
        if f.keys <= g.keys:
            return g
    return None


def _parse(f: _File, kind: str, reg: dict, data_kind: str) -> dict:
    """Read one file fully (observations and its populations); an InputError is returned, not raised."""
    try:
        raw = _raw(f)
        out = {"obs": None, "pops": None}
        if kind == "population":
            out["pops"] = population.from_ons(raw)
        else:
            out["obs"] = sources.observations(raw, reg, data_kind=data_kind)
            if raw.layout.name == "cla_rates":
                out["pops"] = population.from_release(raw)
        out["warnings"] = list(raw.warnings)
        out["n_rows"] = len(raw.table)
        return out
    except InputError as exc:
        return {"error": (exc.file, exc.message, exc.column, exc.row)}


def _parse_all(todo: list[_File], reg: dict, data_kind: str, cache: bool) -> list[dict]:
    """Parse files (read_raw and observations, or the population reader).

    With ``cache``, results are kept per content (SHA-256) for the life of the process, with the file's name swapped
    in on reuse.
    """
    cacheable = cache
    keys = [(f.sha256, f.kind, data_kind) for f in todo]
    results: list = [None] * len(todo)
    for i, (f, key) in enumerate(zip(todo, keys)):
        hit = _PARSE_CACHE.get(key) if cacheable else None
        if hit is not None:
            results[i] = _renamed(hit, f.name)
    missing = [i for i, r in enumerate(results) if r is None]
    fresh = [_parse(todo[i], todo[i].kind, reg, data_kind) for i in missing]
    for i, res in zip(missing, fresh):
        if todo[i].alias:  # parsed under its own name; known by its folder and name
            res = _renamed({**res, "name": todo[i].path.name}, todo[i].name)
        results[i] = res
        if cacheable:  # errors too: content decides them (the name is swapped in on reuse)
            _remember(_PARSE_CACHE, keys[i], {**res, "name": todo[i].name})
    return results


def _renamed(res: dict, name: str) -> dict:
    """A cached parse result for a file now called ``name`` (copies: callers may not change the cache)."""
    old = res["name"]
    if "error" in res:
        file, message, column, row = res["error"]
        return {"error": (name if file == old else file, message.replace(old, name), column, row)}
    out = {"warnings": [w.replace(old, name) for w in res["warnings"]], "n_rows": res["n_rows"]}
    for part in ("obs", "pops"):
        frame = res[part]
        if frame is not None:
            frame = frame.copy()
            frame["source_file"] = name
            if "vintage_label" in frame.columns and old != name:
                frame["vintage_label"] = frame["vintage_label"].str.replace(f"({old})", f"({name})", regex=False)
        out[part] = frame
    return out


def _resolve_model(neighbour_model, data_dir, files: list[_File], reg: dict) -> _File:
    path = Path(neighbour_model)
    candidates = [path] + ([d / path.name for d in data_folders(data_dir)] if not path.is_absolute() else [])
    for cand in candidates:
        if cand.is_file():
            for f in files:
                if f.path.resolve() == cand.resolve():
                    return f
            extra = _scan(cand, reg)
            files.append(extra)
            return extra
    raise ParameterError(f"neighbour model file not found: {neighbour_model} (neither a file nor a file in "
                         f"{folder_words(data_dir)})")


def _check_wanted(wanted, reg: dict) -> list[str]:
    if wanted is None:
        return []
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    unknown = [w for w in wanted if w not in reg]
    if unknown:
        raise ParameterError(f"unknown indicator {', '.join(unknown)}; expected one of {', '.join(reg)}")
    return wanted


def read_folder(data_dir: str | Path, reg: dict, vintage: str = "release", indicators=None, neighbour_model=None,
                cache: bool = False) -> Dataset:
    """Read every official file in a folder into observations, populations and the neighbour model.

    Parameters
    ----------
    data_dir : str, Path or list of them
        A folder of DfE/ONS CSVs as an analyst keeps it: file names and order do not matter (layouts are recognised
        by their columns, releases by their content); several releases of a table, copies and unrelated files may sit
        side by side. Several folders (a list, or joined by :data:`os.pathsep`) are read as one folder holding all
        their files (:func:`data_folders`).
    reg : dict
        The indicator registry (:func:`analysis.indicators.registry`): which layout, categories and columns each
        indicator reads, its multiplier and decimals. Only its indicators are read, in its order.
    vintage : {"release", "latest"}
        Which population estimates to divide by (see :mod:`analysis.read.population`).
    indicators : list of str, optional
        Registry ids the caller needs: the run fails if any has no source in the folder. Others without a source
        give one warning each, naming the table that would provide them.
    neighbour_model : str or Path, optional
        The neighbour model to use: a file path, or the name of a file in ``data_dir``. Default: the newest model in
        the folder (:func:`analysis.read.neighbours.choose`).
    cache : bool
        Keep what each file's content decides (its coverage, its parsed table) for the life of the process, so that
        reading the same content again, under any name, costs nothing. Only for a registry that does not change
        between calls: :func:`analysis.indicators.load` passes True for the package's own.

    Returns
    -------
    Dataset
        ``warnings`` has one line per file not used (unreadable, not recognised, an identical copy), per release pair
        that disagrees, and per indicator without a source; :func:`analysis.indicators.inventory` lists every file.

    Raises
    ------
    ParameterError
        The folder does not exist, holds no CSV files, no file yields any indicator, an indicator in ``indicators``
        has no source, or ``neighbour_model`` is not found or is not a neighbour model.
    InputError
        A file of a recognised table that is broken inside (a bad value, located by file, column and row), unless
        a newer release holds every figure it has; a count above the population it is divided by.

    Notes
    -----
    Several releases of one table: for each indicator, level, area and period the newest release wins, the newest
    being the file whose latest period is latest (its content, never its name). Two files whose latest period is
    the same are ordered by more periods, then more rows, then SHA-256 (smallest first), and a warning says if they
    disagree on any figure. A file every figure of which is also in a newer release of the same table (every
    category, area and period) is *superseded*: it is not parsed at all, so a bad value in it does not stop the run.
    A file of a recognised table that lacks a column the registry reads (a column renamed in another release) is
    reported as not recognised, with the message, and the run goes on. Each release's own population estimates
    (the CLA ``population_estimate``) are kept as that release's vintage, also when its figures are superseded
    but a winning release of the same year divides by them.
    """
    folders = data_folders(data_dir)
    for folder in folders:
        if not folder.is_dir():
            raise ParameterError(f"data folder not found: {folder}")
    paths = [p for folder in folders for p in data_files(folder)]
    if not paths:
        raise ParameterError(f"no CSV files in data folder {folder_words(folders)}")
    data_dir = folders[0]
    wanted = _check_wanted(indicators, reg)
    is_demo = any(is_demo_folder(folder) for folder in folders)  # any synthetic figure makes the whole demo data
    kind = "demo" if is_demo else "published"
    warnings: list[str] = [f"data folder {folder}: no table files, nothing read from it" for folder in folders
                           if not data_files(folder)]
    files = [_scan(p, reg) for p in paths]
    names = pd.Series([p.name for p in paths]).value_counts()
    for f in files:
        if names[f.path.name] > 1:  # one name in two folders: each says which folder it is in
            f.alias = f"{f.path.parent.name}/{f.path.name}"

    # An identical second download is read once: the shortest name is kept ("b1.csv" rather than "b1 (1).csv").
    first_of: dict[str, _File] = {}
    for f in sorted(files, key=lambda f: (len(f.name), f.name)):
        if not f.sha256 or f.status in ("unreadable",):
            continue
        if f.sha256 in first_of:
            f.status, f.reason = "identical copy", f"identical to {first_of[f.sha256].name} (same SHA-256); read once"
            f.kind = ""
        else:
            first_of[f.sha256] = f
    for f in sorted(files, key=lambda f: f.name):
        if f.status in ("unreadable", "not recognised", "identical copy"):
            warnings.append(f"{f.name}: {f.status}, not used: {f.reason}")

    # Which files cover what matters only where a table has several files (releases, copies): scan those.
    per_layout = pd.Series([f.layout.name for f in files if f.kind == "data" and not f.status]).value_counts()
    for f in files:
        if f.kind == "data" and not f.status and per_layout.get(f.layout.name, 0) > 1:
            _span_of(f, reg, cache)
            if f.status:
                warnings.append(f"{f.name}: {f.status}, not used: {f.reason}")

    # Parse what is needed: every population file, and each table not wholly superseded by a newer release.
    ranked = sorted((f for f in files if f.kind in ("data", "population") and not f.status), key=lambda f: f.rank)
    failed: set[str] = set()
    while True:
        live = [f for f in ranked if f.name not in failed and f.kind]
        todo = [f for f in live if f.obs is None and f.pops is None and f.name not in failed
                and (f.kind == "population" or _superseded_by(f, live, reg, cache) is None)]
        if not todo:
            break
        for f, res in zip(todo, _parse_all(todo, reg, kind, cache)):
            if "error" in res:
                file, message, column, row = res["error"]
                if row is not None:
                    raise InputError(file, message, column=column, row=row)
                f.status = "not recognised"
                f.reason = f"column '{column}': {message}" if column else message
                failed.add(f.name)
                warnings.append(f"{f.name}: not recognised, not used: {f.reason}")
                continue
            f.obs, f.pops = res["obs"], res["pops"]
            if f.kind == "population":
                f.n_rows = res["n_rows"]
            if f.obs is None:
                f.obs = pd.DataFrame(columns=sources.OBS_COLUMNS)
            elif f.obs.empty:
                warnings.append(f"{f.name}: not recognised, not used: {_no_match(f)}")
            else:  # what it covers, for the inventory (a table's only file was not scanned)
                if not f.periods:
                    f.n_rows = res["n_rows"]
                    f.periods = sorted(f.obs["time_period"].unique())
                    f.release = int(f.obs["release"].iloc[0])
                if not f.area_text:
                    f.area_text = _areas_text(f.obs["geographic_level"], f.obs["area_code"])
            warnings.extend(res["warnings"])
    live = [f for f in ranked if f.name not in failed]

    # The newest release wins for each indicator, level, area and period.
    parsed = [f for f in live if f.kind == "data" and f.obs is not None and len(f.obs)]
    if parsed:
        allobs = pd.concat([f.obs for f in parsed], ignore_index=True)
        allobs["_rank"] = np.repeat(np.arange(len(parsed)), [len(f.obs) for f in parsed])  # each file's rank
    else:
        allobs = pd.DataFrame(columns=[*sources.OBS_COLUMNS, "_rank"])
    # a figure from counts wins over a published-only one (LAIT) for the same area and period, whatever the release
    # (and a figure its own publication gives wins over LAIT's copy of it)
    rank = allobs["value_basis"].eq(sources.PUBLISHED_ONLY).to_numpy().astype(int) + allobs["source_file"].isin(
        [f.name for f in parsed if f.layout.name == sources.LAIT_LAYOUT]).to_numpy()
    if rank.any():
        allobs = allobs.iloc[np.argsort(rank, kind="stable")]
    lost = allobs.duplicated(OBS_KEY, keep="first")  # parsed is in rank order, so the first is the newest
    observations = allobs[~lost]
    warnings.extend(_disagreements(allobs[lost], observations))
    used = observations["_rank"].value_counts()
    dropped = allobs.loc[lost, "_rank"].value_counts()
    for i, f in enumerate(parsed):
        f.rows_used, f.rows_superseded = int(used.get(i, 0)), int(dropped.get(i, 0))
    observations = observations.drop(columns="_rank")

    # Populations: every vintage read, most trusted first; a superseded release's own estimates when a winning
    # figure of the same release divides by them.
    pops = [f.pops for f in live if f.pops is not None]
    need = observations.loc[observations["denominator_kind"].eq("population"), "release"].astype(int).unique()
    have = {int(v) for p in pops for v in p["vintage"].unique()}
    for f in live:
        if (f.kind == "data" and f.obs is None and f.layout.name == "cla_rates" and f.release in set(need) - have):
            try:
                raw = _raw(f)
                pops.append(population.from_release(raw))
                have.add(f.release)
                f.vintage_used = True
            except InputError as exc:
                warnings.append(f"{f.name}: its population estimates could not be read ({exc}); the {f.release} "
                                "figures are divided by the nearest other vintage")
    populations = population.combine(pops)
    observations = population.attach_denominators(observations.reset_index(drop=True), populations, vintage=vintage)
    observations = sort_rows(observations, reg)
    _check_counts(observations, {f.name: f for f in parsed}, reg)

    # Which indicators have a source.
    present = set(observations["indicator"].unique())
    if not present:
        bad = [f for f in sorted(files, key=lambda f: f.name) if f.status in ("unreadable", "not recognised")]
        why = "; ".join(f"{f.name}: {f.reason}" for f in bad[:3]) + (f"; and {len(bad) - 3} more" if len(bad) > 3
                                                                       else "")
        raise ParameterError(f"no file in {folder_words(folders)} yields any indicator" + (f" ({why})" if why else "")
                             + f"; expected DfE tables such as {sources.LAYOUTS['cin_b1'].publication}")
    absent = [ind for ind in reg if ind not in present]
    asked = [ind for ind in wanted if ind in absent]
    if asked:
        raise ParameterError("no source for " + "; ".join(
            f"{ind} (it comes from {sources.LAYOUTS[reg[ind]['source']].publication})" for ind in asked)
            + f" in {folder_words(folders)}")
    for ind in absent:
        also = (f", or {sources.LAYOUTS[sources.LAIT_LAYOUT].publication} ({sources.LAIT_LAYOUT}, measure "
                f"{reg[ind]['lait']})" if reg[ind].get("lait") and reg[ind]["source"] != sources.LAIT_LAYOUT else "")
        measure = f", measure {reg[ind]['lait']}" if reg[ind]["source"] == sources.LAIT_LAYOUT else ""
        warnings.append(f"{ind} ({reg[ind]['short_title']}): no file provides it; it comes from "
                        f"{sources.LAYOUTS[reg[ind]['source']].publication} ({reg[ind]['source']}{measure}){also}")
    warnings.extend(_missing_populations(observations, reg))
    observations["aggregate_check"], disagree = check_aggregates(observations, reg)
    warnings.extend(disagree)
    observations["indicator"] = pd.Categorical(observations["indicator"], categories=list(reg))

    neighbours, model = _neighbours(files, folders, neighbour_model, reg, warnings)
    for f in files:
        if f.kind in ("data", "population") and not f.status:
            _settle(f, parsed, observations, reg, cache)
    rows = [_inventory_row(f) for f in sorted(files, key=lambda f: f.name)]
    legacy = [_legacy_row(f) for f in sorted(files, key=lambda f: f.name) if f.status == "used"]
    return Dataset(data_dir, observations.reset_index(drop=True), populations, neighbours, legacy, warnings, is_demo,
                   vintage, model, rows, folders)


#: ``aggregate_check`` of an England or regional figure outside the range of its areas' figures.
AGGREGATE_DISAGREES = "disagrees with its areas: left out of comparisons"


def check_aggregates(obs: pd.DataFrame, reg: dict) -> tuple[np.ndarray, list[str]]:
    """Published England and regional figures checked against the areas they are made of.

    An England figure of a rate, percentage or average is a weighted mean of the nine regions' figures, and a region's
    of its LAs', so it lies between the lowest and the highest of them. One outside that range (by more than a unit
    of the published precision) is not what it says: LAIT's England row of first-time entrants, for example, is the
    sum of the regional rates. Checked only where every region (every LA of the region) has a figure.

    Returns
    -------
    (numpy.ndarray of str, list of str)
        ``aggregate_check`` for each row (:data:`AGGREGATE_DISAGREES` or ``""``), and one warning per indicator
        naming the figures and years left out.
    """
    flags = np.full(len(obs), "", dtype=object)
    if obs.empty:
        return flags, []
    only = obs["value_basis"].eq(sources.PUBLISHED_ONLY).to_numpy()
    mult = obs["indicator"].astype(object).map({k: float(e["multiplier"]) for k, e in reg.items()}).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(only, obs["published_value"].to_numpy(float),
                         obs["numerator"].to_numpy(float) / obs["denominator"].to_numpy(float) * mult)
    tol = 10.0 ** -obs["indicator"].astype(object).map({k: int(e["decimals"]) for k, e in reg.items()}).to_numpy(float)
    frame = pd.DataFrame({"ind": obs["indicator"].astype(object).to_numpy(), "year": obs["time_period"].to_numpy(),
                          "level": obs["geographic_level"].to_numpy(), "area": obs["area_code"].to_numpy(),
                          "region": obs["region_code"].to_numpy(), "value": value, "tol": tol})
    regions = set(areas.regions()["region_code"])
    parts = frame[(frame["level"] == areas.LEVEL_LA) | ((frame["level"] == areas.LEVEL_REGION)
                                                        & frame["area"].isin(regions))].copy()
    parts["whole"] = np.where(parts["level"] == areas.LEVEL_LA, parts["region"], areas.ENGLAND_CODE)
    span = parts.groupby(["ind", "year", "whole"]).agg(low=("value", "min"), high=("value", "max"),
                                                       n=("value", "size"), known=("value", "count"))
    span.index = span.index.set_names(["ind", "year", "area"])
    aggregates = frame[frame["level"].isin([areas.LEVEL_NATIONAL, areas.LEVEL_REGION])]
    whole = aggregates.reset_index().merge(span.reset_index(), on=["ind", "year", "area"]).set_index("index")
    complete = (whole["known"] == whole["n"]) & ((whole["level"] != areas.LEVEL_NATIONAL) | (whole["n"] >= 9))
    bad = complete & ((whole["value"] < whole["low"] - whole["tol"]) | (whole["value"] > whole["high"] + whole["tol"]))
    flags[whole.index[bad].to_numpy(dtype=np.int64)] = AGGREGATE_DISAGREES
    out = []
    for ind, rows in whole[bad].groupby("ind", sort=False):
        r = rows.sort_values("year").iloc[-1]
        names = "/".join(sorted(set(obs.loc[rows.index, "area_name"].astype(str))))
        out.append(f"{ind} ({reg[ind]['short_title']}): the published {names} figure lies outside the range of its "
                   f"areas' figures in {', '.join(sorted(set(rows['year'])))} (e.g. {r['year']}: {r['value']:g} "
                   f"against {r['low']:g} to {r['high']:g}); flagged and left out of comparisons")
    return flags, out


def _missing_populations(obs: pd.DataFrame, reg: dict) -> list[str]:
    """One warning per rate that has counts but no population to divide them by (no value, no limits)."""
    lacking = obs["denominator_kind"].eq("population") & obs["numerator"].notna() & obs["denominator"].isna()
    out = []
    for ind, rows in obs[lacking].groupby("indicator", observed=True, sort=False):
        years = _span(rows["time_period"].astype(str))
        names = list(pd.unique(rows["area_name"].astype(str)))
        where = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        out.append(f"{ind} ({reg[ind]['short_title']}): {len(rows)} count(s) ({where}; {years}) have no population "
                   "estimate to divide by, so no rate; the ONS mid-year estimates (0-17) or a CLA numbers-and-rates "
                   "release for those areas and years would provide it")
    return out


def _disagreements(losers: pd.DataFrame, winners: pd.DataFrame) -> list[str]:
    """One warning per pair of files of the same release that give different figures for the same observation."""
    if losers.empty:
        return []
    cols = ["numerator", "denominator", "published_value", "status", "release", "source_file", "area_name",
            "value_basis"]
    both = losers[OBS_KEY + cols].merge(winners[OBS_KEY + cols], on=OBS_KEY, suffixes=("", "_w"))
    both = both[both["release"] == both["release_w"]]
    # a published-only figure (LAIT) beside the counts it was published from is expected to differ in precision
    both = both[both["value_basis"].ne(sources.PUBLISHED_ONLY) & both["value_basis_w"].ne(sources.PUBLISHED_ONLY)]
    if both.empty:
        return []
    differs = pd.Series(False, index=both.index)
    for c in ("numerator", "denominator", "published_value"):
        a, b = both[c].astype(float), both[f"{c}_w"].astype(float)
        differs |= ~(np.isclose(a, b, rtol=0, atol=1e-9) | (a.isna() & b.isna()))
    differs |= both["status"].fillna("") != both["status_w"].fillna("")
    out = []
    for (lose, win), grp in both[differs].groupby(["source_file", "source_file_w"], sort=True):
        r = grp.iloc[0]
        out.append(f"{lose} and {win} are both the {r['release']} release but differ on {len(grp)} figure(s) "
                   f"(e.g. {r['indicator']} {r['area_name']} {r['time_period']}: numerator {r['numerator']:g} vs "
                   f"{r['numerator_w']:g}); using {win} (same latest period: more periods, then more rows, then "
                   "SHA-256 decide)")
    return out


def _check_counts(obs: pd.DataFrame, by_name: dict, reg: dict) -> None:
    """A count above the population it is divided by is an error, located in the count's file."""
    ratio = obs["indicator"].astype(object).map({k: e["method"] == "ratio" for k, e in reg.items()}).fillna(False)
    over = obs["denominator_kind"].eq("population") & (obs["numerator"] > obs["denominator"]) & ~ratio.astype(bool)
    if not over.any():
        return
    r = obs[over].iloc[0]
    f = by_name[r["source_file"]]
    spec = reg[r["indicator"]]["numerator"]
    column, row = spec["column"], None
    try:
        raw = _raw(f)
        geo = sources._geography(raw)
        t = raw.table.loc[geo.index]
        mask = (t["time_period"].eq(r["time_period"]) & geo["area_code"].eq(r["area_code"])
                & geo["geographic_level"].eq(r["geographic_level"]))
        key = spec.get("key")
        if key is not None and raw.layout.keys:
            key = key if isinstance(key, list) else [key]
            for k, v in zip(raw.layout.keys, key):
                mask &= t[k].str.lower().eq(str(v).lower())
        if mask.any():
            row = int(t.loc[mask, "_row"].iloc[0])
    except InputError:
        pass
    column = f.mapping.get(column, column)
    raise InputError(f.name, f"{r['indicator']}: count {r['numerator']:g} for {r['area_name']} {r['time_period']} is "
                             f"above the population it is divided by ({r['denominator']:g}, "
                             f"{r['population_vintage']}); expected a count no larger than the population",
                     column=column, row=row)


def _neighbours(files: list[_File], data_dir, named, reg: dict, warnings: list) -> tuple[pd.DataFrame, dict]:
    """The neighbour table of the chosen model, and which model it is; other models are marked not used."""
    chosen_file = _resolve_model(named, data_dir, files, reg) if named is not None else None
    if chosen_file is not None and chosen_file.kind != "model":
        what = chosen_file.layout.publication if chosen_file.layout is not None else chosen_file.reason
        raise ParameterError(f"{chosen_file.name} is not a statistical-neighbour model (it looks like {what})")
    raws, facts = {}, {}
    for f in files:
        if f.kind != "model" or f.status:
            continue
        try:
            raws[f.name] = neighbours_mod.read_model(f.path, f.text)
            facts[f.name] = neighbours_mod.model_facts(raws[f.name], f.text)
        except InputError as exc:
            if f is chosen_file:
                raise
            f.status, f.reason = "unreadable", exc.message
            warnings.append(f"{f.name}: unreadable, not used: {exc.message}")
    empty = pd.DataFrame(columns=neighbours_mod.NEIGHBOUR_COLUMNS)
    if not facts:
        return empty, {}
    order = neighbours_mod.choose(facts)
    best = chosen_file.name if chosen_file is not None else order[0]
    table = neighbours_mod.to_table(raws[best])
    by_name = {f.name: f for f in files}
    top = by_name[best]
    top.status = "used"
    top.reason = "named" if chosen_file is not None else ("the only model" if len(order) == 1 else
                                                           "the model that fits today's LAs best")
    top.rows_used = len(table)
    top.n_rows = len(raws[best].table)
    description = neighbours_mod.describe(raws[best], facts[best])
    for name in order:
        if name != best:
            f = by_name[name]
            f.status = "not used (older model)"
            f.reason = f"{best} was named" if chosen_file is not None else f"{best} fits today's LAs better"
    for f in by_name.values():
        if f.name in facts:
            fx = facts[f.name]
            f.release = fx["year"] or None
            f.area_text = f"{len(fx['las'])} LAs" + (f" ({fx['stale']} former)" if fx["stale"] else "")
    return table, {"file": best, "layout": raws[best].layout.name, "description": description}


def _settle(f: _File, parsed: list[_File], observations: pd.DataFrame, reg: dict, cache: bool) -> None:
    """Final status and reason of a data or population file."""
    if f.kind == "population":
        f.status = "used"
        if f.pops is not None and len(f.pops):
            f.release = int(f.pops["vintage"].max())
            f.periods = sorted(f.pops["time_period"].unique())
            f.area_text = _areas_text(f.pops["geographic_level"], f.pops["area_code"])
            f.rows_used = len(f.pops)
        return
    if f.obs is None:
        newer = _superseded_by(f, parsed, reg, cache)
        f.status = "superseded"
        f.rows_superseded = sum(f.matched.values())
        by = f"{newer.name} (the {newer.release} release)" if newer is not None else "a newer release"
        f.reason = f"every figure it holds is also in {by}; not read"
        if f.vintage_used:
            f.reason += f"; its population estimates are used as the {f.release} vintage"
        return
    if f.obs is not None and f.obs.empty:
        f.status, f.reason = "not recognised", _no_match(f)
        return
    if f.rows_used:
        f.status = "used"
        f.reason = (f"{f.rows_superseded} figure(s) replaced by a newer release" if f.rows_superseded else "")
    else:
        f.status = "superseded"
        mine = f.obs[OBS_KEY].astype({"indicator": str})
        rivals = observations[observations["indicator"].isin(mine["indicator"].unique())]  # its indicators only
        won = rivals[OBS_KEY + ["source_file", "release"]].astype({"indicator": str}).merge(mine, on=OBS_KEY)
        winner = won["source_file"].mode()
        winner = winner.iloc[0] if len(winner) else "another file"
        same = len(won) and (won["release"] == str(f.release)).all()
        f.reason = (f"every figure it holds is also in {winner}, "
                    + ("the same release, chosen by content (more periods, then more rows, then SHA-256)" if same
                       else "a newer release"))


def _no_match(f: _File) -> str:
    return (f"read as {f.layout.publication}, but no row matches the categories an indicator reads "
            f"({', '.join(f.layout.keys) or 'no category column'})")


def _inventory_row(f: _File) -> dict:
    if f.obs is not None and len(f.obs):
        inds = sorted(f.obs["indicator"].astype(str).unique())
    else:
        inds = sorted(f.matched)
    return {"file": f.name, "layout": f.layout.name if f.layout is not None and f.status not in
            ("not recognised", "unreadable") else "",
            "publication": f.layout.publication if f.layout is not None and f.status not in
            ("not recognised", "unreadable") else "",
            "status": f.status, "reason": f.reason, "release": str(f.release) if f.release else "",
            "periods": _span(f.periods), "areas": f.area_text, "indicators": ", ".join(inds),
            "rows_used": int(f.rows_used), "rows_superseded": int(f.rows_superseded), "sha256": f.sha256[:12]}


def _legacy_row(f: _File) -> dict:
    """The row :attr:`Dataset.files` has always had for a file whose figures are used."""
    row = {"file": f.name, "layout": f.layout.name, "publication": f.layout.publication, "sha256": f.sha256,
           "rows": f.n_rows, "release": str(f.release or ""), "years": "", "path": str(f.path)}
    if f.kind == "population" and f.periods:
        row["years"] = f"mid-{int(f.periods[0]) - 1} to mid-{int(f.periods[-1]) - 1}"
    elif f.kind == "data":
        row["years"] = _span(f.periods)
        row["indicators"] = ", ".join(sorted(f.obs["indicator"].astype(str).unique())) if f.obs is not None else ""
    return row

def sort_rows(table: pd.DataFrame, reg: dict) -> pd.DataFrame:
    """Rows in reading order: indicator (the order of ``reg``), England, regions, LAs (by code), then period.

    Works on positions, so any index (duplicated, not starting at 0) is fine; the result has a fresh index.
    """
    order = pd.Series(np.arange(len(reg)), index=list(reg))
    level = table["geographic_level"].map({"National": 0, "Regional": 1, "Local authority": 2}).fillna(3)
    keys = pd.DataFrame({"i": table["indicator"].astype(object).map(order).fillna(len(order)).to_numpy(),
                         "l": level.to_numpy(), "a": table["area_code"].to_numpy(),
                         "p": table["period_end"].to_numpy()})
    positions = keys.sort_values(["i", "l", "a", "p"], kind="stable").index.to_numpy()
    return table.iloc[positions].reset_index(drop=True)
