"""Benchmarking: each LA against its statistical neighbours, its region and England, over time and against targets.

One function, :func:`benchmark`, turns the indicator table (values with confidence intervals) into the benchmarked
table for every LA, indicator and year at once, vectorised; :func:`indicator_table` is the whole pipeline from a
data folder.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import compress
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.read import areas
from analysis.read import targets as targets_mod
from analysis.read.folder import folder_words
from analysis.stats import compare, rates, trends
from analysis import indicators
from analysis import numbers
from analysis.errors import ParameterError

#: The benchmarked table's columns, in order. They never vary with arguments.
TABLE_COLUMNS = [
    "indicator", "time_period", "period_end", "geographic_level", "area_code", "old_la_code", "area_name",
    "region_code", "region_name", "numerator", "denominator", "value", "lower_95", "upper_95", "lower_99_8",
    "upper_99_8", "status", "published_value", "sn_mean", "sn_n", "sn_missing", "region_value",
    "england_value", "vs_england", "vs_sn", "vs_region", "rank", "rank_of", "quartile_band", "previous_value",
    "change", "trend", "target", "target_year", "target_status", "target_direction", "unit", "decimals", "polarity", "ci_method",
    "population_vintage", "denominator_kind", "source_file", "release", "data_kind", "value_basis", "neighbour_model",
    "period_label", "year_type", "aggregate_check",
]

#: The columns :func:`benchmark` works out (from the registry, the neighbour model, the comparators and the targets):
#: they replace any column of the same name in its input.
_WORKED_OUT = frozenset({
    "sn_mean", "sn_n", "sn_missing", "region_value", "england_value", "vs_england", "vs_sn", "vs_region", "rank",
    "rank_of", "quartile_band", "previous_value", "change", "trend", "target", "target_year", "target_status",
    "target_direction", "unit", "decimals", "polarity", "neighbour_model"})

#: How many rows' neighbours :func:`benchmark` gathers at once.
_GATHER_ROWS = 2048

#: The comparison word for a figure with no confidence interval to test it by (a published-only figure, an average).
NOT_TESTED = "not tested"


def load_targets(la_name: str, targets_dir: Path | None = None) -> pd.DataFrame:
    """An LA's local targets from ``targets/<la-slug>.yaml`` (empty if it has none), checked against the package's
    registry: :func:`analysis.read.targets.load_targets`.

    Returns
    -------
    pandas.DataFrame
        ``area_code, indicator, target, target_year, direction, baseline, baseline_year, description, source``.

    Raises
    ------
    InputError
        A target names an unknown indicator or has no number.
    """
    return targets_mod.load_targets(la_name, indicators.registry(), targets_dir)


def read_targets(path: str | Path) -> pd.DataFrame:
    """Read a targets YAML file (see ``targets/stockton-on-tees.yaml`` for the format), checked against the
    package's registry: :func:`analysis.read.targets.read_targets`."""
    return targets_mod.read_targets(path, indicators.registry())


def benchmark(table: pd.DataFrame, neighbours: pd.DataFrame, reg: dict | None = None,
              targets: pd.DataFrame | None = None, confidence: float = 0.95,
              neighbour_model: str = "") -> pd.DataFrame:
    """Benchmark every row of an indicator table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`analysis.indicators.compute`: observations with ``value`` and confidence limits, for every area
        (LAs, regions, England) and year.
    neighbours : pandas.DataFrame
        The neighbour model (:data:`analysis.read.neighbours.NEIGHBOUR_COLUMNS`).
    reg : dict, optional
        The registry.
    targets : pandas.DataFrame, optional
        Local targets (:func:`load_targets`).
    confidence : {0.95, 0.998}
        The interval used for every comparison.
    neighbour_model : str
        Which statistical-neighbour model ``neighbours`` is (file and description), for the ``neighbour_model``
        column.

    Returns
    -------
    pandas.DataFrame
        :data:`TABLE_COLUMNS`, one row per indicator, area and year, in the order of ``table``:

        - ``sn_mean``, ``sn_n``, ``sn_missing``: unweighted mean of the LA's ten neighbours that have a value, how
          many contributed, and the names of those that did not (LAIT's method);
        - ``region_value``, ``england_value``;
        - ``vs_england``, ``vs_sn``, ``vs_region``: whether the comparator lies outside the area's 95% confidence
          interval (Fingertips' overlapping-CI comparison): ``better``, ``similar``, ``worse`` with the indicator's
          polarity, ``higher``, ``similar``, ``lower`` where it has none, ``not compared`` without a CI;
        - ``rank`` of ``rank_of`` LAs with a value and ``quartile_band`` A to D by type-7 quartiles, as LAIT
          ranks and bands: with a polarity, rank 1 is the best value (the highest where high is good, else the
          lowest) and band A the best quarter; without one, rank 1 is the lowest value and band A the lowest
          quarter. Ties share the best rank (:func:`analysis.stats.compare.rank_and_quantiles`,
          :func:`analysis.stats.compare.quartile_codes`);
        - ``previous_value``, ``change``: last year's value and the change since;
        - ``trend``: the recent trend over the last five points to this year, by Fingertips' method (each point
          weighted by its 95% interval, significant above qchisq(0.998, 1) and only if leaving out any one point
          keeps the slope's sign: :func:`analysis.stats.trends.trend_codes`); ``increasing``, ``decreasing``,
          ``no significant change`` or ``cannot be calculated``;
        - ``target``, ``target_year``, ``target_status``: ``on track`` / ``off track`` against a local target (the
          latest target set on or before the year), compared on the published precision; ``target_direction``
          ``lower`` or ``higher`` (which side of the target is on track).
    """
    reg = reg or indicators.registry()
    if confidence not in (0.95, 0.998):
        raise ParameterError(f"confidence must be 0.95 or 0.998, not {confidence}")
    lo, hi = rates.limit_columns(confidence)
    # Work on numpy arrays throughout and build the output table once, in its final order. Text columns are
    # never turned into Python strings: each is factorized (codes and a few distinct values) once.
    c = {col: table[col].to_numpy() for col in ("value", "numerator", "denominator", lo, hi)}
    n = len(table)
    ind_i, ind_list = pd.factorize(table["indicator"])  # instant when the column is categorical
    ind_list = ind_list.tolist()
    fields = _package_fields() if reg is indicators.registry() else _indicator_fields(indicators.registry_frame(reg))
    unknown = [i for i in ind_list if i not in fields]
    if unknown:
        raise ParameterError(f"indicator {', '.join(str(i) for i in unknown)} is not in the registry; expected one "
                             f"of {', '.join(fields)}")
    unit, decimals, polarity, untested = ([fields[i][f] for i in ind_list] for f in range(4))
    unit_codes, unit_names = pd.factorize(np.array(unit, dtype=object))
    c["unit"] = pd.Categorical.from_codes(unit_codes[ind_i], dtype=_categories(tuple(unit_names)))
    c["decimals"] = np.array(decimals, dtype=int)[ind_i]
    pol_codes, pol_names = pd.factorize(np.array(polarity, dtype=object))
    pol_dtype = _categories(tuple(pol_names))
    c["polarity"] = pd.Categorical.from_codes(pol_codes[ind_i], dtype=pol_dtype)
    level_i, levels = pd.factorize(table["geographic_level"])
    is_la = level_i == _position(levels, areas.LEVEL_LA)
    not_national = level_i != _position(levels, areas.LEVEL_NATIONAL)

    # The values as one dense array, indicator x area x year: every lookup below is array indexing.
    area_i, area_list = pd.factorize(table["area_code"])
    area_at = {code: i for i, code in enumerate(area_list.tolist())}  # looked up as Python strings: quicker
    year = _period_year(table)
    year_i = year - year.min()
    shape = (len(ind_list), len(area_at), year_i.max() + 1)

    V = np.full(shape, np.nan)
    V[ind_i, area_i, year_i] = np.asarray(c["value"], dtype=float)
    # England and regional figures that disagree with their areas (indicators.check_aggregates): not comparators
    flagged = (table["aggregate_check"].ne("").to_numpy(dtype=bool, na_value=True)
               if "aggregate_check" in table.columns else np.zeros(n, dtype=bool))
    VC = V.copy()
    VC[ind_i[flagged], area_i[flagged], year_i[flagged]] = np.nan

    # England and region
    eng = area_at.get(areas.ENGLAND_CODE, -1)
    c["england_value"] = VC[ind_i, eng, year_i] if eng >= 0 else np.full(n, np.nan)
    region_i, regions = pd.factorize(table["region_code"])
    # -1: no region, or not an area here
    region_area = np.array([area_at.get(r, -1) for r in regions.tolist()] + [-1])[region_i]
    region = is_la & (region_area >= 0)
    c["region_value"] = np.full(n, np.nan)
    c["region_value"][region] = VC[ind_i[region], region_area[region], year_i[region]]

    # Statistical neighbours: unweighted mean of those with a value, how many, and which had none (LAIT)
    c["sn_mean"], c["sn_n"] = np.full(n, np.nan), np.full(n, np.nan)
    sn_missing = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), dtype=_categories(("",)))
    if len(neighbours):
        nb = neighbours
        slot = nb["neighbour_rank"].to_numpy(dtype=int) - 1
        k = int(slot.max()) + 1
        owners = np.array([area_at.get(a, -1) for a in nb["area_code"].tolist()], dtype=np.int64)
        keep = owners >= 0
        no_area = shape[1]  # an area after the last, never filled: where a slot has no neighbour in the table
        NB = np.full((no_area, k), no_area)                      # each area's neighbours by slot
        NB[owners[keep], slot[keep]] = np.array([area_at.get(a, no_area) for a in nb["neighbour_code"].tolist()],
                                                dtype=np.int64)[keep]
        NAMES = np.full((no_area, k), "", dtype=object)
        NAMES[owners[keep], slot[keep]] = nb["neighbour_name"].to_numpy(dtype=object)[keep]
        real = NB < no_area
        rows = np.flatnonzero(is_la & real.any(axis=1)[area_i])
        owner = area_i[rows]
        VN = np.full((shape[0], no_area + 1, shape[2]), np.nan)
        VN[:, :no_area] = V
        step = NB * shape[2]                                      # each neighbour's place in VN, flat, but for
        cell = (ind_i[rows] * (no_area + 1)) * shape[2] + year_i[rows]  # the row's indicator and year
        have = np.empty((len(rows), k), dtype=bool)
        total = np.empty(len(rows))
        for part in range(0, len(rows), _GATHER_ROWS):  # a few thousand rows at a time: the memory is used again
            at = slice(part, part + _GATHER_ROWS)
            vals = VN.ravel().take(step[owner[at]] + cell[at, None])  # (rows, k)
            np.isfinite(vals, out=have[at])
            vals[~have[at]] = 0
            total[at] = vals.sum(axis=1)
        count = np.zeros(len(rows), dtype=np.int64)
        for j in range(k):  # ten neighbour slots, not rows
            count += have[:, j]
        c["sn_mean"][rows] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        c["sn_n"][rows] = count
        lacking = count < real.sum(axis=1)[owner]                # a neighbour in the table without a value
        sn_missing = _missing_names(n, rows[lacking], owner[lacking], real[owner[lacking]] & ~have[lacking], NAMES)

    # Significance by CI overlap
    value, lower, upper = (np.asarray(c[x], dtype=float) for x in ("value", lo, hi))
    # a figure with no interval to test it by (published only, or an average) is "not tested", never guessed
    untestable = np.isfinite(value) & ~np.isfinite(lower)
    some = np.flatnonzero(untestable)
    if len(some):  # the basis, text, is read only for the rows with a value and no interval: few or none
        untestable[some] = np.array(untested, dtype=bool)[ind_i[some]] | (
            table["value_basis"].iloc[some].eq("published only").to_numpy(dtype=bool, na_value=False)
            if "value_basis" in table.columns else False)
    words = _categories((*compare.RESULT_WORDS, NOT_TESTED))
    for col, comparator, keep in (("vs_england", c["england_value"], not_national),
                                  ("vs_sn", c["sn_mean"], is_la), ("vs_region", c["region_value"], is_la)):
        codes = compare.compare_ci_codes(value, lower, upper, comparator, c["polarity"])
        codes[untestable & np.isfinite(comparator)] = len(compare.RESULT_WORDS)
        codes[~keep] = 0
        c[col] = pd.Categorical.from_codes(codes, dtype=words)

    # Rank and quartile band among LAs, per indicator and year, as LAIT: with a polarity, rank 1 and band A are
    # the best; without one, the lowest (ties share the rank)
    c["rank"], c["rank_of"] = np.full(n, np.nan), np.full(n, np.nan)
    r_rows = np.flatnonzero(is_la)
    if not len(r_rows):
        c["quartile_band"] = np.full(n, "", dtype=object)
    else:
        la_areas, _ = _distinct(area_i[r_rows], shape[1])
        # One row of LAs per indicator and year that has LA rows, ranked along it
        groups, g = _distinct(ind_i[r_rows] * shape[2] + year_i[r_rows], shape[0] * shape[2])
        gi, gy = np.divmod(groups, shape[2])
        VL = V[gi[:, None], la_areas, gy[:, None]]
        ranks, (q1, q2, q3), rank_of = compare.rank_and_quantiles(
            VL, (0.25, 0.5, 0.75), axis=1, polarity=pd.Categorical.from_codes(pol_codes[gi], dtype=pol_dtype))
        pos = np.full(shape[1], -1)
        pos[la_areas] = np.arange(len(la_areas))
        c["rank"][r_rows] = ranks[g, pos[area_i[r_rows]]]
        c["rank_of"][r_rows] = rank_of[g]
        band = np.zeros(n, dtype=np.int8)
        band[r_rows] = compare.quartile_codes(value[r_rows], q1[g], q2[g], q3[g], c["polarity"][r_rows])
        c["quartile_band"] = pd.Categorical.from_codes(band, dtype=_categories(compare.QUARTILE_BANDS))

    # Change on last year
    prev = np.full(n, np.nan)
    has_prev = year_i > 0
    prev[has_prev] = V[ind_i[has_prev], area_i[has_prev], year_i[has_prev] - 1]
    c["previous_value"] = prev
    c["change"] = value - prev

    # Recent trend to each year, from the series' records up to that year (Fingertips' method, its 95% limits);
    # averages, spend and published-only figures have no limits, so no trend is tested for them
    trend_code, _, _ = trends.trend_codes(ind_i * shape[1] + area_i, year_i, value, table["lower_95"].to_numpy(),
                                          table["upper_95"].to_numpy(), c["numerator"], c["denominator"])
    c["trend"] = pd.Categorical.from_codes(trend_code, dtype=_categories(trends.TREND_VALUES))

    # Targets
    if targets is not None and len(targets):
        c["indicator"] = np.array(ind_list, dtype=object)[ind_i]
        c["area_code"] = np.append(np.asarray(area_list, dtype=object), None)[area_i]
    c.update(_target_columns(c, year, targets))

    for col in ("sn_n", "rank", "rank_of"):
        c[col] = _whole_numbers(c[col])
    c["sn_missing"] = sn_missing
    c["neighbour_model"] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8),
                                                     dtype=_categories((neighbour_model or "",)))
    for col in ("period_label", "year_type", "aggregate_check"):  # tables made before the scorecard's files
        if col not in table.columns:
            c[col] = (table["time_period"].astype(str).to_numpy() if col == "period_label"
                      else np.full(n, "", dtype=object))
    if "value_basis" not in table.columns:  # observations made before releases could omit the published figure
        c["value_basis"] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=["published"])
    # One construction, in the contract's column order, reusing the input's columns (no copies, no re-inference).
    # What this function works out always replaces a column of that name in the input (a table benchmarked
    # before, with another neighbour model or targets); the input's own figures are reused as they are.
    out = {col: (c[col] if col in c and (col in _WORKED_OUT or col not in table.columns) else table[col].array)
           for col in TABLE_COLUMNS}
    return pd.DataFrame(out, index=table.index, copy=False)


def _indicator_fields(frame: pd.DataFrame) -> dict:
    """What benchmarking needs of each indicator in a registry table: ``{id: (unit, decimals, polarity, untested)}``,
    ``untested`` where the method gives no interval to compare by (an average or spend, a published figure)."""
    return {ind: (unit, decimals, polarity, method in ("ratio", "published")) for ind, unit, decimals, polarity, method
            in zip(frame.index, frame["unit"], frame["decimals"], frame["polarity"], frame["method"])}


@lru_cache(maxsize=1)
def _package_fields() -> dict:
    """:func:`_indicator_fields` of the package's registry, read once (it does not change between calls)."""
    return _indicator_fields(indicators.registry_frame())


def _distinct(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(codes, return_inverse=True)`` for whole numbers below ``size``, by counting rather than sorting."""
    if not len(codes) or codes.min() < 0:
        return np.unique(codes, return_inverse=True)
    values = np.flatnonzero(np.bincount(codes, minlength=size))
    at = np.zeros(size, dtype=np.int64)
    at[values] = np.arange(len(values))
    return values, at[codes]


def _position(values: pd.Index, value: str) -> int:
    """Where ``value`` is among the distinct ``values`` of a factorized column, or -2 (matches no code)."""
    values = list(values)
    return values.index(value) if value in values else -2


_DTYPES: dict = {}


def _categories(words: tuple) -> pd.CategoricalDtype:
    """The categorical type of a column of ``words`` (made once per process: building one checks its words)."""
    dtype = _DTYPES.get(words)
    if dtype is None:
        dtype = _DTYPES[words] = pd.CategoricalDtype(list(words))
    return dtype


def _whole_numbers(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Whole numbers held as floats (NaN where missing) as a nullable ``Int64`` array."""
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype("int64"), missing)


def _missing_names(n: int, rows: np.ndarray, owners: np.ndarray, gaps: np.ndarray,
                   names: np.ndarray) -> pd.Categorical:
    """The ``sn_missing`` column: for each of ``rows`` (positions, ascending), the names of the neighbours (in rank
    order, ``; `` between) whose slot is set in ``gaps``; empty elsewhere.

    ``owners`` is each row's area (a row of ``names``, its neighbours' names by slot). The names are joined once
    per distinct area and set of gaps, not once per row.
    """
    if not len(rows):
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), dtype=_categories(("",)))
    k = gaps.shape[1]
    _, first, which = np.unique(owners * (1 << k) + (gaps * (1 << np.arange(k))).sum(axis=1),
                                return_index=True, return_inverse=True)
    # The names, joined once per distinct area and set of gaps (a few hundred), not once per row
    listed = names[owners[first]].tolist()
    gapped = gaps[first].tolist()
    joined = ["; ".join(compress(slots, gap_row)) for slots, gap_row in zip(listed, gapped)]
    # Categories in order of first appearance, as factorizing the whole column gives them (two areas' gaps may
    # read the same); "" where a row lacks none, if any row does.
    blank = np.ones(n, dtype=bool)
    blank[rows] = False
    seen = [(int(p), word) for p, word in zip(rows[first], joined)] + [(int(p), "") for p in np.flatnonzero(blank)[:1]]
    words = list(dict.fromkeys(word for _, word in sorted(seen)))
    position = {word: i for i, word in enumerate(words)}
    codes = np.full(n, position.get("", -1), dtype=np.int64)
    codes[rows] = np.array([position[word] for word in joined], dtype=np.int64)[which]
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(words), validate=False)


def with_targets(table: pd.DataFrame, targets: pd.DataFrame | None) -> pd.DataFrame:
    """The benchmarked table with local targets attached, exactly as :func:`benchmark` attaches them.

    Targets touch only ``target, target_year, target_status, target_direction`` (of the rows of the LAs that set
    them), so a table benchmarked once without targets can serve every LA: each gets its own targets here, at the
    cost of one pass over four columns, instead of benchmarking the whole table again.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`benchmark` (:data:`TABLE_COLUMNS`), benchmarked without targets or with others. Not modified.
    targets : pandas.DataFrame or None
        Local targets (:func:`load_targets`); None or empty gives the table without targets.

    Returns
    -------
    pandas.DataFrame
        A new table equal to ``benchmark(..., targets=targets)`` on the same inputs.
    """
    c = {"indicator": table["indicator"].to_numpy(), "area_code": table["area_code"].to_numpy(),
         "value": table["value"].to_numpy(dtype=float), "decimals": table["decimals"].to_numpy(dtype=int)}
    return table.assign(**_target_columns(c, _period_year(table), targets))


def _period_year(table: pd.DataFrame) -> np.ndarray:
    """The year of each row's period end: 31 March Y, or the end of February Y for NEET (December-February)."""
    codes, ends = pd.factorize(table["period_end"].to_numpy(), use_na_sentinel=False)  # a few distinct dates
    return (ends.astype("datetime64[Y]").astype(int) + 1970)[codes]


def _target_columns(c: dict, year: np.ndarray, targets: pd.DataFrame | None) -> dict:
    """``target, target_year, target_status, target_direction`` for the rows in the column arrays ``c``
    (``indicator, area_code, value, decimals``), in their final types."""
    n = len(year)
    t = {"target": np.full(n, np.nan)}
    words = ("target_year", "target_status", "target_direction")
    if targets is None or not len(targets):
        none = np.zeros(n, dtype=np.int8)
        t.update({col: pd.Categorical.from_codes(none, dtype=_categories(("",))) for col in words})
        return t
    t.update({col: np.full(n, "", dtype=object) for col in words})
    _apply_targets({**c, **t}, year, targets)
    for col in words:
        codes, found = pd.factorize(t[col])
        t[col] = pd.Categorical.from_codes(codes, categories=found)
    return t


def _apply_targets(c: dict, year: np.ndarray, targets: pd.DataFrame) -> None:
    """Fill target, target_year and target_status in the column arrays ``c`` (the latest target set by the year)."""
    tg = targets.assign(_tyear=pd.to_numeric(targets["target_year"], errors="coerce").fillna(0))
    rows = pd.DataFrame({"indicator": c["indicator"], "area_code": c["area_code"], "_year": year})
    rows = rows[rows["area_code"].isin(tg["area_code"])].reset_index()
    cand = rows.merge(tg, on=["indicator", "area_code"])
    cand = cand[cand["_year"] >= cand["_tyear"]].sort_values(["index", "_tyear"]).drop_duplicates("index", keep="last")
    idx = cand["index"].to_numpy()
    if not len(idx):
        return
    c["target"][idx] = cand["target"].to_numpy(dtype=float)
    c["target_year"][idx] = cand["target_year"].to_numpy()
    c["target_direction"][idx] = cand["direction"].to_numpy()
    shown = numbers.round_half_up(np.asarray(c["value"], dtype=float)[idx], c["decimals"][idx])
    lower = cand["direction"].to_numpy() == "lower"
    target = cand["target"].to_numpy(dtype=float)
    met = np.where(lower, shown <= target, shown >= target)
    c["target_status"][idx] = np.where(np.isnan(shown), "", np.where(met, "on track", "off track"))


def gap_trends(rows: pd.DataFrame, comparator: str) -> pd.Series:
    """Whether each row's gap with a comparator (value minus comparator) is widening or closing: its recent trend.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows of the benchmarked table (any indicators, areas and years) with ``indicator, area_code, period_end,
        value, lower_95, upper_95, numerator, denominator`` and the comparator column. Not modified.
    comparator : str
        ``"england_value"``, ``"sn_mean"`` or ``"region_value"``.

    Returns
    -------
    pandas.Series
        For each row (index of ``rows``), the trend of the gap over the latest five points to it, as the ``trend``
        column words it (:data:`analysis.stats.trends.TREND_VALUES`): ``increasing``, ``decreasing``,
        ``no significant change`` or ``cannot be calculated``.

    Notes
    -----
    The gap series is tested exactly as the ``trend`` column tests the value (Fingertips' recent-trend method,
    :func:`analysis.stats.trends.trend_codes`), each point weighted by the area's own 95% interval: the comparator
    is taken as known, as the ``vs_`` comparisons take it (England's interval is narrow; the neighbours' average
    is the mean of ten). A year without a comparator value breaks the run of points, as a missing value does.
    """
    comp = rows[comparator].to_numpy(dtype=float, na_value=np.nan)
    # one key per (indicator, area): each column's codes are below len(rows), so code * len + code is unique
    series = pd.factorize(rows["indicator"])[0] * len(rows) + pd.factorize(rows["area_code"])[0]
    value, lower, upper, num, den = (rows[c].to_numpy(dtype=float, na_value=np.nan) for c in
                                     ("value", "lower_95", "upper_95", "numerator", "denominator"))
    codes, _, _ = trends.trend_codes(series, rows["period_end"].to_numpy(), value - comp, lower - comp,
                                     upper - comp, num, den)
    return pd.Series(np.asarray(trends.TREND_VALUES, dtype=object)[codes], index=rows.index, name="gap_trend")


def with_display(table: pd.DataFrame) -> pd.DataFrame:
    """The table with ``display``: each value as readers see it (DfE rounding, separators, symbols), after status."""
    out = table.copy()
    out.insert(out.columns.get_loc("status") + 1, "display",
               numbers.format_values(out["value"], out["decimals"], out["status"]).to_numpy())
    return out


def indicator_table(data_dir, years=None, las=None, vintage: str = "release", targets: bool = True,
                    dataset: indicators.Dataset | None = None) -> pd.DataFrame:
    """The whole pipeline: read a data folder, compute every indicator with limits, benchmark, then filter.

    Parameters
    ----------
    data_dir : str or Path
        Folder of official (or demo) files.
    years : list of int or str, optional
        Keep these years (every year is still used for the change and the trend).
    las : list of str, optional
        Keep these LAs (by code, old code or name); default every area: LAs, regions and England.
    vintage : {"release", "latest"}
        Population vintage for the denominators.
    targets : bool
        Attach each kept LA's local targets from ``targets/``.
    dataset : Dataset, optional
        Already-loaded data (skips reading).

    Returns
    -------
    pandas.DataFrame
        :data:`TABLE_COLUMNS`.

    Raises
    ------
    ParameterError
        Unknown LA, or a year the data do not hold.
    """
    ds = dataset or indicators.load(data_dir, vintage=vintage)
    table = indicators.compute(ds.observations)
    available = table[table["geographic_level"].eq(areas.LEVEL_LA)][["area_code", "old_la_code", "area_name"]]
    chosen = [areas.resolve_la(la, available.drop_duplicates("area_code")) for la in (las or [])]
    tg = None
    if targets and chosen:
        tg = pd.concat([load_targets(c["area_name"]) for c in chosen], ignore_index=True)
    out = with_display(benchmark(table, ds.neighbours, targets=tg, neighbour_model=ds.neighbour_model_label))
    if years:
        wanted = [str(y) for y in years]
        have = set(out["time_period"])
        missing = [y for y in wanted if y not in have]
        if missing:
            raise ParameterError(f"no data for year {', '.join(missing)} in {folder_words(ds.data_dirs or ds.data_dir)}; years available: "
                                 f"{min(have)} to {max(have)}")
        out = out[out["time_period"].isin(wanted)]
    if chosen:
        out = out[out["area_code"].isin([c["area_code"] for c in chosen])]
    return out.reset_index(drop=True)
