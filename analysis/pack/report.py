"""What the notebooks call: a report context for one LA and year, and the pieces of each page.

A notebook holds parameters, calls into this module, and narrative. Every piece here returns an object that
displays as accessible HTML in JupyterLab and in the rendered pack (:class:`Html`), and registers the data behind it
so the pack can write it to the workbook.
"""

from __future__ import annotations

import html
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config, indicators
from analysis.errors import ParameterError
from analysis.indicators import benchmark, local
from analysis.numbers import SYMBOLS, format_values
from analysis.present import charts, export, narrative
from analysis.read import areas, folder as folders, neighbours as neighbours_mod, sources
from analysis.stats import funnel as funnel_stats, rates

SERIES_NAMES = {"sn": "Statistical neighbours (average)", "england": "England"}


class Html:
    """A piece of HTML that displays itself in Jupyter (and is copied as-is into the pack)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


def esc(text) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class Context:
    """Everything a page needs: the LA, the year, the benchmarked table for all areas and years, and provenance."""

    la: pd.Series
    year: str
    table: pd.DataFrame
    neighbours: pd.DataFrame
    files: list
    warnings: list
    is_demo: bool
    data_dir: str
    vintage: str
    confidence: float
    targets: pd.DataFrame
    output_dir: Path | None = None
    tables: dict = field(default_factory=dict)
    local: pd.DataFrame | None = None
    period: str = ""
    returns_files: list = field(default_factory=list)
    returns_notes: list = field(default_factory=list)
    inventory: pd.DataFrame | None = None
    neighbour_model: str = ""

    @property
    def la_name(self) -> str:
        return self.la["area_name"]

    @property
    def la_code(self) -> str:
        return self.la["area_code"]

    def registry(self) -> dict:
        return indicators.registry()

    def _cache(self) -> dict:
        """What :meth:`indicator_rows`, :meth:`rows` and :meth:`latest` found, for the table as it is now: a page
        asks for the same rows many times, and the table holds every indicator and area (an analyst may put a
        filtered table in ``ctx.table``: the cache starts again)."""
        t = self.table
        cache = self.__dict__.setdefault("_by_indicator", {})
        if cache.get("table") is not t:
            cache.clear()
            cache["table"] = t
        return cache

    def indicator_rows(self, indicator: str) -> pd.DataFrame:
        """Every area's rows for an indicator, in the table's order."""
        cache = self._cache()
        found = cache.get(indicator)
        if found is None:
            t = self.table
            found = cache[indicator] = t[t["indicator"] == indicator]
        return found

    def rows(self, indicator: str, area_code: str | None = None) -> pd.DataFrame:
        """One area's rows for an indicator, all years, oldest first (a copy: the caller may change it)."""
        cache = self._cache()
        key = ("rows", indicator, area_code or self.la_code)
        found = cache.get(key)
        if found is None:
            t = self.indicator_rows(indicator)
            by_area = cache.get(("areas", indicator))
            if by_area is None:
                by_area = cache["areas", indicator] = t.groupby("area_code", sort=False, observed=True).indices
            found = cache[key] = t.take(by_area.get(key[2], [])).sort_values("period_end", kind="stable")
        return found.copy(deep=False)

    def latest(self, indicator: str) -> pd.Series | None:
        """The LA's latest row up to the report year (releases come out at different times), or None."""
        cache = self._cache()
        key = ("latest", indicator)
        if key not in cache:
            r = self.rows(indicator)
            r = r[r["time_period"] <= self.year]
            cache[key] = r.iloc[-1] if len(r) else None
        found = cache[key]
        return None if found is None else found.copy(deep=False)

    def register(self, name: str, frame: pd.DataFrame, title: str = "", source: str = "", formats: dict | None = None,
                 label: str = "") -> pd.DataFrame:
        """Keep a table for the workbook (and save it when an output folder is set); return it.

        Parameters
        ----------
        name : str
            The table's key (``cin_rate_trend``).
        frame : pandas.DataFrame
            Numbers unrounded, a published symbol as text where there is no number (see :func:`cells`).
        title, source, label : str
            What the sheet holds, its source file(s) and release, and a short name for its tab.
        formats : dict, optional
            Number columns -> decimals to show (an int, one per row, or None for General); see
            :class:`analysis.present.export.Sheet`.
        """
        self.tables[name] = frame
        if self.output_dir:
            export.save_table(Path(self.output_dir) / "tables", name,
                              export.Sheet(frame, title, source, dict(formats or {}), label))
        return frame

    def sources_of(self, rows: pd.DataFrame) -> str:
        """The source line for a sheet built from ``rows`` of the table: each file with its release."""
        pairs = rows[["source_file", "release"]].astype(object).fillna("").astype(str).drop_duplicates()
        files = "; ".join(f"{f} (release {r})" if r else f for f, r in pairs.itertuples(index=False) if f)
        kind = "Demo data (synthetic, not official statistics)" if self.is_demo else "Source: DfE"
        return f"{kind}: {files or 'x'}."


def national_data(data_dir: str = "", neighbour_model: str = "", population: str = "release",
                  confidence: float = 0.95) -> dict:
    """Read a data folder and benchmark the national table once, without targets: what every LA's context shares.

    The table does not depend on the LA except through its targets, which :func:`build_context_data` attaches
    per LA (:func:`analysis.indicators.benchmark.with_targets`), so packs for many LAs read and benchmark once.

    Returns
    -------
    dict
        ``folder, dataset, table, inventory`` and the arguments it was made from (``key``).

    Raises
    ------
    ParameterError
        No data folder given and the demo data is not there yet, or a missing neighbour model file.
    """
    folder = (folders.join_folders([f.resolve() for f in folders.data_folders(data_dir)]) if data_dir
              else config.DEMO_DATA_DIR)
    if not data_dir and not (folder / config.STAMP_FILE).exists():
        raise ParameterError(f"no data folder given, and the demo data is not in {folder} yet: run `needs demo` "
                             "(or `make pack`) first, or give data_dir")
    ds = indicators.load(str(folder), vintage=population, neighbour_model=neighbour_model or None)
    table = benchmark.benchmark(indicators.compute(ds.observations), ds.neighbours, confidence=confidence,
                                neighbour_model=ds.neighbour_model_label)
    return {"key": national_key(data_dir, neighbour_model, population, confidence), "folder": folder, "dataset": ds,
            "table": table, "inventory": indicators.inventory(ds)}


def national_key(data_dir: str = "", neighbour_model: str = "", population: str = "release",
                 confidence: float = 0.95) -> tuple:
    """What :func:`national_data` depends on: packs whose keys are equal can share it."""
    return (folders.join_folders([f.resolve() for f in folders.data_folders(data_dir)]) if data_dir else "",
            neighbour_model or "", population, float(confidence))


def build_context_data(la: str, year, data_dir: str = "", neighbour_model: str = "", targets: str = "",
                       population: str = "release", confidence: float = 0.95, period: str = "",
                       returns_dir: str = "", national: dict | None = None) -> dict:
    """Read and benchmark everything once; the result can be pickled and shared by every notebook of a pack.

    ``national`` (from :func:`national_data` with the same folder, neighbour model, population and confidence)
    skips reading and benchmarking: only the LA's own parts (its year, targets and returns) are added.

    Raises
    ------
    ParameterError
        Unknown LA, a year with no data for it, a missing data folder or neighbour model file.
    """
    if national is None or national["key"] != national_key(data_dir, neighbour_model, population, confidence):
        national = national_data(data_dir, neighbour_model, population, confidence)
    folder, ds = national["folder"], national["dataset"]
    neighbour_table = ds.neighbours
    las = ds.observations[ds.observations["geographic_level"] == areas.LEVEL_LA][["area_code", "old_la_code", "area_name"]]
    la_row = areas.resolve_la(la, las.drop_duplicates("area_code"))
    years = sorted(ds.observations.loc[ds.observations["area_code"] == la_row["area_code"], "time_period"].unique())
    year = str(year).strip().lower()
    if year in ("", "latest", "none") and years:
        # the year most indicators have reached (releases come out at different times; ties go to the later)
        obs = ds.observations
        mine = obs[(obs["area_code"] == la_row["area_code"]) & obs["numerator"].notna()]
        latest = mine.groupby("indicator", observed=True)["time_period"].max()
        year = max(latest.value_counts().items(), key=lambda kv: (kv[1], kv[0]))[0] if len(latest) else years[-1]
    if year not in years:
        where = folders.folder_words(folder)
        raise ParameterError(f"no data for {la_row['area_name']} in {year} in {where}; years available: "
                             f"{years[0]} to {years[-1]}" if years else f"no data for {la_row['area_name']} in {where}")
    tg = benchmark.read_targets(targets) if targets else benchmark.load_targets(la_row["area_name"])
    table = benchmark.with_targets(national["table"], tg)
    data = {"la": la_row, "year": year, "table": table, "neighbours": neighbour_table, "files": ds.files,
            "warnings": ds.warnings, "is_demo": ds.is_demo, "data_dir": str(folder), "vintage": population,
            "confidence": confidence, "targets": tg, "inventory": national["inventory"],
            "neighbour_model": ds.neighbour_model_label}
    if returns_dir or period:
        data.update(local.from_returns_folder(returns_dir, la_row, period, table, ds.populations, confidence))
    return data


def load(la: str = "Stockton-on-Tees", year=2024, data_dir: str = "", neighbour_model: str = "",
         confidence: float = 0.95, targets: str = "", output_dir: str = "", population: str = "release",
         table_cache: str = "", period: str = "", returns_dir: str = "") -> Context:
    """The report context for one LA and year (from the pack's shared cache when it gives one).

    Parameters
    ----------
    la : str
        LA by name, code or old code.
    year : int or str
        The report year (year ending 31 March; for NEET, the calendar year of the December-February average).
    data_dir : str
        Folder of official files; empty for the project's demo data.
    neighbour_model : str
        A neighbour model file to use instead of the one in ``data_dir``.
    confidence : float
        0.95 or 0.998: the confidence level of the intervals shown and of every significance judgement.
    targets : str
        A targets YAML file; empty for ``targets/<la>.yaml`` when it exists.
    output_dir : str
        Folder to write the tables behind the charts to (as CSV); empty for none.
    population : {"release", "latest"}
        Population vintage for denominators.
    table_cache : str
        A pickle written by :func:`analysis.pack` so that a pack's notebooks read the data once.
    period : str
        A quarter (``2025Q2``) or ``latest``: adds in-year figures from ``returns_dir``.
    returns_dir : str
        Folder of the LA's record-level returns (SSDA903 and CIN census CSVs).
    """
    if confidence not in (0.95, 0.998):
        raise ParameterError(f"confidence must be 0.95 or 0.998, not {confidence}")
    if table_cache and Path(table_cache).is_file():
        with open(table_cache, "rb") as fh:
            data = pickle.load(fh)
    else:
        data = build_context_data(la, year, data_dir, neighbour_model, targets, population, confidence, period,
                                  returns_dir)
    return Context(output_dir=Path(output_dir) if output_dir else None, **data)


# ----------------------------------------------------------------------------------------------------------------
# HTML pieces


def title(ctx: Context, section: str) -> Html:
    """The page's one ``<h1>`` and the demo-data notice where it applies."""
    notice = demo_notice(ctx)
    when = f"{ctx.period} (published benchmarks {ctx.year})" if ctx.period else ctx.year
    return Html(f"<h1>{esc(section)}: {esc(ctx.la_name)}, {esc(when)}</h1>{notice}{local_notice(ctx)}")


def local_notice(ctx: Context) -> str:
    if not ctx.period:
        return ""
    return (f'<p class="local-notice"><strong>Unpublished local figures.</strong> The in-year figures for '
            f'{esc(ctx.period)} come from {esc(narrative.possessive(ctx.la_name))} own returns (SSDA903 and CIN census) and are not '
            f'official statistics; they are set beside the latest published figures for its statistical neighbours, '
            f'region and England. Counts from 1 to 5 are shown as c.</p>')


def demo_notice(ctx: Context) -> str:
    if not ctx.is_demo:
        return ""
    return ('<p class="demo-notice"><strong>Demo data.</strong> Every figure on this page is synthetic, generated by '
            'this project for illustration. These are not official statistics.</p>')


def data_description(ctx: Context) -> str:
    """Which data the pack holds, in a sentence or two (its first page, manifest and workbook all say it)."""
    kind, words = _data_words(ctx)
    return f"{kind}. {words}"


def _data_words(ctx: Context) -> tuple[str, str]:
    releases = sorted({str(f.get("release", "")) for f in ctx.files} - {""})
    span = f"releases {releases[0]} to {releases[-1]}" if len(releases) > 1 else f"release {''.join(releases) or 'x'}"
    if ctx.is_demo:
        kind, words = "Demo data", (f"Synthetic figures generated by this project for illustration, in the official "
                                    f"layouts ({len(ctx.files)} files in {folders.folder_words(ctx.data_dir)}); not "
                                    f"official statistics.")
    else:
        kind, words = "Published data", (f"Official statistics from {len(ctx.files)} DfE and ONS files in "
                                         f"{folders.folder_words(ctx.data_dir)} ({span}), each listed on the data and "
                                         f"methods page.")
    if ctx.period:
        words += f" In-year figures for {ctx.period}: {narrative.possessive(ctx.la_name)} own returns, unpublished."
    return kind, words


def data_notice(ctx: Context) -> str:
    """The first page's statement of which data the pack holds: the demo notice, or where the published data came
    from."""
    if ctx.is_demo:
        return demo_notice(ctx)
    kind, words = _data_words(ctx)
    return f'<p class="data-notice"><strong>{esc(kind)}.</strong> {esc(words)}</p>'


def table_html(frame: pd.DataFrame, caption: str, numeric: list[str] | None = None, row_header: str | None = None,
               cls: str = "data") -> str:
    """An accessible HTML table: caption, column headers with scope, optional row headers, numbers right-aligned."""
    numeric = set(numeric or [])
    head = "".join(f'<th scope="col"{" class=num" if c in numeric else ""}>{esc(c)}</th>' for c in frame.columns)
    body = []
    for values in frame.astype(object).where(frame.notna(), "").itertuples(index=False):
        cells = []
        for col, v in zip(frame.columns, values):
            attr = ' class="num"' if col in numeric else ""
            if col == row_header:
                cells.append(f'<th scope="row">{esc(v)}</th>')
            else:
                cells.append(f"<td{attr}>{esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="{cls}"><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def data_details(frame: pd.DataFrame, caption: str, numeric: list[str]) -> str:
    return (f'<details class="chart-data"><summary>Data behind this chart</summary>'
            f'{table_html(frame, caption, numeric)}</details>')


def cells(values, status=None, missing: str = "x") -> np.ndarray:
    """A column for the workbook and the page: the unrounded number where there is one, else the published symbol
    in ``status`` (``c``, ``x``, ...), else ``missing`` (``x``, not available, or empty)."""
    vals = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce").to_numpy(dtype=float,
                                                                                                 na_value=np.nan)
    out = vals.astype(object)
    finite = np.isfinite(vals)
    out[~finite] = missing
    if status is not None:
        stat = pd.Series(np.asarray(status, dtype=object)).fillna("").astype(str).to_numpy(dtype=object)
        symbol = ~finite & np.isin(stat, list(SYMBOLS))
        out[symbol] = stat[symbol]
    return out


def displayed(frame: pd.DataFrame, formats: dict) -> pd.DataFrame:
    """The table as a page shows it: the numbers in ``formats``' columns rounded half up to their decimals and
    thousands separated (:func:`analysis.numbers.format_values`); text (a symbol, an empty cell) as it is."""
    out = frame.copy()
    for col, d in formats.items():
        if d is None:
            continue
        values = frame[col].astype(object)
        number = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        out[col] = np.where(np.isfinite(number), format_values(number, d).to_numpy(), values.astype(str).to_numpy())
    return out


def _lim(ctx: Context):
    return rates.limit_columns(ctx.confidence)


def trend_data(ctx: Context, ind: str, years: int = 10) -> pd.DataFrame:
    """Tidy series for the trend chart: the LA with its interval, its neighbours' average, region and England."""
    lo, hi = _lim(ctx)
    la = ctx.rows(ind)
    la = la[la["time_period"] <= ctx.year].tail(years)
    periods = la["time_period"].tolist()
    region = ctx.rows(ind, ctx.la["region_code"])
    england = ctx.rows(ind, areas.ENGLAND_CODE)
    parts = [
        pd.DataFrame({"time_period": la["time_period"], "series": ctx.la_name, "role": "la", "value": la["value"],
                      "lower": la[lo], "upper": la[hi]}),
        pd.DataFrame({"time_period": la["time_period"], "series": SERIES_NAMES["sn"], "role": "sn",
                      "value": la["sn_mean"], "lower": np.nan, "upper": np.nan}),
        pd.DataFrame({"time_period": region["time_period"], "series": ctx.la["region_name"], "role": "region",
                      "value": region["value"], "lower": np.nan, "upper": np.nan}),
        pd.DataFrame({"time_period": england["time_period"], "series": "England", "role": "england",
                      "value": england["value"], "lower": np.nan, "upper": np.nan}),
    ]
    out = pd.concat(parts, ignore_index=True)
    out = out[out["time_period"].isin(periods)].reset_index(drop=True)
    out["time_period"] = _years(out["time_period"])
    return out


def _years(periods: pd.Series) -> pd.Series:
    """Periods as the integer year they end in (sortable and plottable), where every one is a year."""
    years = pd.to_numeric(periods.astype(str), errors="coerce")
    return years.astype(int) if len(years) and years.notna().all() else periods


#: The columns of :func:`theme_frame`, in order.
THEME_FRAME_COLUMNS = ["indicator", "short_title", "time_period", "period_label", "period_end", "area_code",
                       "area_name", "role", "value", "lower", "upper", "numerator", "denominator", "status", "unit",
                       "decimals", "polarity", "vs_england", "vs_sn", "rank", "rank_of", "quartile_band", "trend",
                       "target", "source_file", "release"]


def theme_frame(ctx: Context, theme: str | None = None, ids: list[str] | None = None) -> pd.DataFrame:
    """The tidy benchmarked table behind a theme's page: the LA, its statistical neighbours, their average, its region
    and England, every year up to the report year.

    Parameters
    ----------
    ctx : Context
        From :func:`load`.
    theme : str, optional
        A registry theme (``"looked_after"``); its indicators in registry order.
    ids : list of str, optional
        Indicator ids instead of a theme.

    Returns
    -------
    pandas.DataFrame
        One row per indicator, area and period, columns :data:`THEME_FRAME_COLUMNS`: ``time_period`` is the year
        the period ends as an integer (``period_label`` is how DfE writes it, ``period_end`` a date), ``role`` is
        ``la``, ``neighbour``, ``sn`` (the neighbours' average: value only), ``region`` or ``england``, ``lower`` and
        ``upper`` the limits at the pack's confidence. Sorted by indicator (registry order), role, area and period.
    """
    wanted = list(ids or theme_indicators(theme or ""))
    if not wanted:
        raise ParameterError(f"no indicators for theme {theme!r}; themes: "
                             f"{', '.join(dict.fromkeys(e['theme'] for e in ctx.registry().values()))}")
    lo, hi = _lim(ctx)
    near = neighbours_mod.neighbours_of(ctx.neighbours, ctx.la_code)
    roles = {ctx.la_code: "la", **{c: "neighbour" for c in near["neighbour_code"]}, ctx.la["region_code"]: "region",
             areas.ENGLAND_CODE: "england"}
    t = ctx.table
    rows = t[t["indicator"].isin(wanted) & t["area_code"].isin(list(roles))]
    rows = rows[rows["time_period"].astype(str) <= str(ctx.year)]
    out = rows.rename(columns={lo: "lower", hi: "upper"}).assign(role=rows["area_code"].map(roles))
    la = out[out["role"] == "la"]
    sn = la.assign(role="sn", area_code="", area_name=SERIES_NAMES["sn"], value=la["sn_mean"], lower=np.nan,
                   upper=np.nan, numerator=np.nan, denominator=np.nan, status="", vs_england="", vs_sn="",
                   rank=pd.NA, rank_of=pd.NA, quartile_band="", trend="", target=np.nan)
    out = pd.concat([out.astype({c: object for c in ("vs_england", "vs_sn", "quartile_band", "trend", "status")}),
                     sn.astype({c: object for c in ("vs_england", "vs_sn", "quartile_band", "trend", "status")})],
                    ignore_index=True)
    for c in ("vs_england", "vs_sn", "quartile_band", "trend", "status"):
        out[c] = out[c].fillna("").astype(str)
    out[["rank", "rank_of"]] = out[["rank", "rank_of"]].astype("Int64")
    out["short_title"] = out["indicator"].astype(str).map({k: v["short_title"] for k, v in ctx.registry().items()})
    out["time_period"] = _years(out["time_period"].astype(str))
    order = {ind: i for i, ind in enumerate(wanted)}
    role_order = {"la": 0, "sn": 1, "region": 2, "england": 3, "neighbour": 4}
    out = out.assign(_i=out["indicator"].astype(str).map(order), _r=out["role"].map(role_order))
    out = out.sort_values(["_i", "_r", "area_name", "time_period"], kind="stable")
    out = out[THEME_FRAME_COLUMNS].reset_index(drop=True)
    out["indicator"] = out["indicator"].astype(str)
    return out


def _year_of(ctx: Context, ind: str) -> str:
    row = ctx.latest(ind)
    return row["time_period"] if row is not None else ctx.year


def benchmark_data(ctx: Context, ind: str) -> pd.DataFrame:
    """The LA, its ten neighbours, their average, the region and England for the indicator's latest year."""
    lo, hi = _lim(ctx)
    year = _year_of(ctx, ind)
    t = ctx.indicator_rows(ind)
    t = t[t["time_period"] == year].set_index("area_code")
    near = neighbours_mod.neighbours_of(ctx.neighbours, ctx.la_code)
    rows = [(ctx.la_code, ctx.la_name, "la")] + [(c, n, "neighbour") for c, n in
                                                  zip(near["neighbour_code"], near["neighbour_name"])]
    out = []
    for code, name, role in rows:
        r = t.loc[code] if code in t.index else None
        out.append({"area_name": name, "role": role, "value": r["value"] if r is not None else np.nan,
                    "lower": r[lo] if r is not None else np.nan, "upper": r[hi] if r is not None else np.nan,
                    "status": r["status"] if r is not None else "x"})
    la_row = t.loc[ctx.la_code] if ctx.la_code in t.index else None
    extra = [("Statistical neighbours (average)", "sn", la_row["sn_mean"] if la_row is not None else np.nan),
             (ctx.la["region_name"], "region", t.loc[ctx.la["region_code"], "value"] if ctx.la["region_code"] in t.index else np.nan),
             ("England", "england", t.loc[areas.ENGLAND_CODE, "value"] if areas.ENGLAND_CODE in t.index else np.nan)]
    out += [{"area_name": n, "role": r, "value": v, "lower": np.nan, "upper": np.nan, "status": ""} for n, r, v in extra]
    return pd.DataFrame(out)


def funnel_data(ctx: Context, ind: str) -> pd.DataFrame:
    t = ctx.indicator_rows(ind)
    la = t[(t["time_period"] == _year_of(ctx, ind)) & (t["geographic_level"] == areas.LEVEL_LA)
           & t["value"].notna() & t["denominator"].gt(0)]
    return pd.DataFrame({"area_name": la["area_name"], "numerator": la["numerator"], "denominator": la["denominator"],
                         "value": la["value"], "role": np.where(la["area_code"] == ctx.la_code, "la", "other")})


def _academic(year) -> str:
    """The academic year ending in ``year`` as DfE writes it: 2024 -> ``2023/24``."""
    y = int(year)
    return f"{y - 1}/{y % 100:02d}"


def _period_words(entry: dict, first, last) -> str:
    """The periods a chart or table covers, in the words of the indicator's kind of year (``period`` in the
    registry): years ending 31 March, academic years (2023/24), calendar years, or NEET's December-February
    averages."""
    kind = entry.get("period")
    same = str(first) == str(last)
    if kind == "calendar":
        return f"{last} (December to February average)" if same else f"{first} to {last} (December to February averages)"
    if kind == "academic" and str(first).isdigit() and str(last).isdigit():
        return f"academic year {_academic(last)}" if same else f"academic years {_academic(first)} to {_academic(last)}"
    if kind == "calendar_year":
        return f"calendar year {last}" if same else f"calendar years {first} to {last}"
    return f"year ending 31 March {last}" if same else f"years ending 31 March {first} to {last}"


def _source(ctx: Context, ind: str) -> str:
    row = ctx.latest(ind)
    file = row["source_file"] if row is not None else ""
    kind = "Demo data (synthetic)" if ctx.is_demo else "Source: DfE"
    return f"{kind}: {file}"


class Section(Html):
    """One indicator's part of a theme page: shown as the pack shows it, holding the figures and tables it is made of.

    Attributes
    ----------
    figures : dict
        ``{"trend" | "benchmark" | "funnel": ChartFigure}``: matplotlib Figures an analyst can restyle.
    data : dict
        The tidy frames drawn (``trend_data``, ``benchmark_data``, ``funnel_data``), by the same keys.
    """

    def __init__(self, markup: str, figures: dict | None = None, data: dict | None = None):
        super().__init__(markup)
        self.figures = figures or {}
        self.data = data or {}


def trend_words(ctx: Context, ind: str, data: pd.DataFrame) -> dict:
    """The words and number format of an indicator's trend chart, as keywords for :func:`charts.trend`.

    ``data`` is :func:`trend_data`'s frame (its periods give the subtitle).
    """
    entry = ctx.registry()[ind]
    row = ctx.latest(ind)
    interval = _interval(ctx)
    first, last = data["time_period"].min(), data["time_period"].max()
    return dict(title=_trend_title(ctx, row, entry) if row is not None else entry["short_title"],
                subtitle=f"{_measure(entry)}, {_period_words(entry, first, last)}; shaded: {interval} confidence "
                         "interval",
                unit=entry["unit"], decimals=entry["decimals"], source=_source(ctx, ind), la_name=ctx.la_name,
                interval=interval)


def benchmark_words(ctx: Context, ind: str) -> dict:
    """The words of an indicator's neighbour chart, as keywords for :func:`charts.benchmark`."""
    entry = ctx.registry()[ind]
    row = ctx.latest(ind)
    year = _year_of(ctx, ind)
    interval = _interval(ctx)
    return dict(title=_bench_title(ctx, row, entry) if row is not None else entry["short_title"],
                subtitle=f"{_measure(entry)}, {_period_words(entry, year, year)}; lines: {interval} confidence "
                         "intervals",
                unit=entry["unit"], decimals=entry["decimals"], source=_source(ctx, ind), la_name=ctx.la_name,
                interval=interval)


def funnel_words(ctx: Context, ind: str, data: pd.DataFrame) -> dict:
    """The words, comparator and method of an indicator's funnel plot, as keywords for :func:`charts.funnel`.

    ``data`` is :func:`funnel_data`'s frame (the headline counts the LAs outside the limits).
    """
    entry = ctx.registry()[ind]
    year = _year_of(ctx, ind)
    row = ctx.latest(ind)
    eng = row.get("england_value") if row is not None else np.nan
    return dict(comparator=eng, comparator_name="England", method=entry["method"], multiplier=entry["multiplier"],
                title=_funnel_title(ctx, entry, data, eng),
                subtitle=f"{_measure(entry)}, all local authorities, {_period_words(entry, year, year)}",
                unit=entry["unit"], decimals=entry["decimals"], source=_source(ctx, ind), la_name=ctx.la_name,
                x_label=_denominator_label(entry))


def _sheet(entry: dict, suffix: str) -> str:
    """The workbook tab for one of an indicator's tables: its ``sheet_title`` (or short title) and ``suffix``."""
    return export.sheet_label(entry.get("sheet_title") or entry["short_title"], suffix)


def _interval(ctx: Context) -> str:
    return "95%" if ctx.confidence == 0.95 else "99.8%"


def _group_heading(ind: str) -> str:
    """The registry's ``group`` heading, for the first of a theme's indicators in that group."""
    reg = indicators.registry()
    entry = reg[ind]
    group = entry.get("group")
    if not group:
        return ""
    first = next(k for k, v in reg.items() if v["theme"] == entry["theme"] and v.get("group") == group)
    return f'<h2 class="group">{esc(group)}</h2>' if first == ind else ""


def section(ctx: Context, ind: str, funnel: bool | None = None) -> Section:
    """One indicator's part of a theme page: finding, sentences, trend, benchmark and funnel charts, with data.

    The charts are drawn by :func:`charts.trend`, :func:`charts.benchmark` and :func:`charts.funnel` from
    :func:`trend_data`, :func:`benchmark_data` and :func:`funnel_data` with :func:`trend_words`,
    :func:`benchmark_words` and :func:`funnel_words`: the same calls an analyst makes in a notebook. The funnel plot
    of every LA is drawn for the theme's headline indicator (``headline: true`` in the registry) unless ``funnel``
    says otherwise. An indicator that starts a ``group`` of its theme (in the registry) is preceded by the group's
    heading.
    """
    reg = ctx.registry()
    entry = reg[ind]
    if funnel is None:
        funnel = bool(entry.get("headline"))
    row = ctx.latest(ind)
    slug = ind.replace("_", "-")
    group = _group_heading(ind)
    if row is None:
        return Section(f'{group}<section id="{slug}"><h2>{esc(entry["short_title"])}</h2><p>There is no '
                       f'{esc(ctx.year)} figure for {esc(ctx.la_name)} in the data.</p></section>')
    history = ctx.rows(ind)
    parts = [group, f'<section id="{slug}" class="indicator">',
             f"<h2>{esc(narrative.headline(row, entry, ctx.la_name))}</h2>",
             f'<p class="definition">{esc(entry["definition"])}</p>',
             f"<p>{esc(narrative.paragraph(row, entry, ctx.la_name, ctx.confidence, history))}</p>"]
    figures, frames = {}, {}
    lo_words = _interval(ctx)
    td = trend_data(ctx, ind)
    first, last = td["time_period"].min(), td["time_period"].max()
    la_trend = td[td["role"] == "la"]
    if la_trend["value"].notna().sum() >= 2:
        fig = figures["trend"] = charts.trend(td, **trend_words(ctx, ind, td))
        frames["trend"] = td
        data = _readable_trend(td, entry)
        formats = {"Year": None, **{c: entry["decimals"] for c in data.columns[1:]}}
        shown = set(td["time_period"].astype(str))
        ctx.register(f"{ind}_trend", data, formats=formats, label=_sheet(entry, "trend"),
                     title=f"{_measure(entry, brackets=True)} in {ctx.la_name}, {_period_words(entry, first, last)}, "
                           f"with its {lo_words} confidence interval, its statistical neighbours' average, "
                           f"{ctx.la['region_name']} and England",
                     source=ctx.sources_of(history[history["time_period"].astype(str).isin(shown)]))
        parts += ["<h3>Over time</h3>", fig.chart().to_html(),
                  data_details(displayed(data, formats), f"{_measure(entry, brackets=True)} over time",
                               list(data.columns[1:]))]
    bd = frames["benchmark"] = benchmark_data(ctx, ind)
    fig = figures["benchmark"] = charts.benchmark(bd, **benchmark_words(ctx, ind))
    data = _readable_bench(bd, entry)
    formats = {c: entry["decimals"] for c in ("Value", "Lower limit", "Upper limit")}
    year_rows = ctx.indicator_rows(ind)
    year_rows = year_rows[year_rows["time_period"] == row["time_period"]]
    ctx.register(f"{ind}_neighbours", data, formats=formats,
                 label=_sheet(entry, "SN"),
                 title=f"{_measure(entry, brackets=True)} in {ctx.la_name} and its statistical neighbours, "
                       f"{_period_words(entry, row['time_period'], row['time_period'])}, with {lo_words} confidence "
                       f"intervals", source=ctx.sources_of(year_rows))
    parts += ["<h3>Compared with statistical neighbours</h3>", fig.chart().to_html(),
              data_details(displayed(data, formats), f"{entry['short_title']} in {row['time_period']}: {ctx.la_name} and "
                           "its statistical neighbours", ["Value", "Lower limit", "Upper limit"])]
    if funnel:
        fd = funnel_data(ctx, ind)
        eng = row.get("england_value")
        if len(fd) >= 10 and pd.notna(eng):
            fig = figures["funnel"] = charts.funnel(fd, **funnel_words(ctx, ind, fd))
            frames["funnel"] = fd
            chart = fig.chart()
            data = _readable_funnel(chart.data, entry)
            formats = {"Numerator": 0 if entry["method"] == "rate" else 1, "Denominator": 0,
                       "Value": entry["decimals"]}
            ctx.register(f"{ind}_funnel", data, formats=formats, label=_sheet(entry, "LAs"),
                         title=f"{_measure(entry, brackets=True)}, every local authority against England, "
                               f"{_period_words(entry, row['time_period'], row['time_period'])}",
                         source=ctx.sources_of(year_rows))
            parts += ["<h3>All local authorities</h3>", chart.to_html(),
                      data_details(displayed(data, formats), f"{entry['short_title']} in {row['time_period']}: every "
                                   "local authority against England", ["Numerator", "Denominator", "Value"])]
    parts.append("</section>")
    return Section("".join(parts), figures, frames)


def _denominator_label(entry: dict) -> str:
    return "Children aged 0-17" if entry["denominator"] == "population" else "Denominator (number of children or cases)"


def _measure(entry: dict, brackets: bool = False) -> str:
    """The indicator's name and unit, ``Referrals, per 10,000 children aged 0-17`` (or ``Referrals (per ...)``),
    without the unit where the name already says it (missing incidents per child who went missing)."""
    name, unit = entry["short_title"], entry["unit"]
    if unit != "%" and unit.lower() in name.lower():
        return name
    return f"{name} ({unit})" if brackets else f"{name}, {unit}"


def _trend_title(ctx, row, entry) -> str:
    """The trend chart's headline: the tested recent trend (or the untested last five years) as the table has it."""
    return narrative.trend_headline(row, entry, ctx.la_name, ctx.rows(row["indicator"]))


def _bench_title(ctx, row, entry) -> str:
    return narrative.benchmark_headline(row, entry, ctx.la_name)


def _funnel_title(ctx, entry, fd, eng) -> str:
    positions = charts.funnel_positions(fd, eng, entry["method"], entry["multiplier"])
    outside = int(positions.str.startswith("outside 99.8%").sum())
    mine = positions[fd["role"] == "la"]
    adjusted = funnel_stats.funnel(pd.to_numeric(fd["value"], errors="coerce").to_numpy(dtype=float),
                                   pd.to_numeric(fd["denominator"], errors="coerce").to_numpy(dtype=float), eng,
                                   entry["method"], entry["multiplier"]).adjusted
    return narrative.funnel_headline(mine.iloc[0] if len(mine) else "", outside, len(fd), entry, ctx.la_name,
                                     adjusted=adjusted)


def _readable_trend(td: pd.DataFrame, entry: dict) -> pd.DataFrame:
    wide = td.pivot_table(index="time_period", columns="series", values="value", sort=False, aggfunc="first")
    order = td.drop_duplicates("series")["series"].tolist()
    wide = wide.reindex(columns=order)
    la = td[td["role"] == "la"].set_index("time_period")
    out = wide.copy()
    for col in out.columns:
        out[col] = cells(out[col])
    first = order[0]
    out.insert(1, f"{first}: lower limit", cells(la["lower"].reindex(out.index)))
    out.insert(2, f"{first}: upper limit", cells(la["upper"].reindex(out.index)))
    return out.reset_index().rename(columns={"time_period": "Year"})


def _readable_bench(bd: pd.DataFrame, entry: dict) -> pd.DataFrame:
    """The benchmark chart's data: unrounded values, the published symbol where there is none, no limits for the
    averages."""
    return pd.DataFrame({"Area": bd["area_name"],
                         "Role": bd["role"].map({"la": "Local authority", "neighbour": "Statistical neighbour",
                                                 "sn": "Neighbours' average", "region": "Region",
                                                 "england": "England"}),
                         "Value": cells(bd["value"], bd["status"]),
                         "Lower limit": cells(bd["lower"], missing=""),
                         "Upper limit": cells(bd["upper"], missing="")})


def _readable_funnel(fd: pd.DataFrame, entry: dict) -> pd.DataFrame:
    """The funnel plot's data, highest value first: unrounded counts and values, each LA's position."""
    fd = fd.sort_values("value", ascending=False)
    return pd.DataFrame({"Local authority": fd["area_name"].to_numpy(), "Numerator": cells(fd["numerator"]),
                         "Denominator": cells(fd["denominator"]), "Value": cells(fd["value"]),
                         "Position against England": fd.get("position", pd.Series("", index=fd.index)).to_numpy()})


# ----------------------------------------------------------------------------------------------------------------
# Summary page


#: Class, symbol and word for each comparison result: a tick and a cross only for better and worse (where the
#: indicator has a polarity), triangles only for higher and lower (where it has none), so no symbol means both.
RUG_STYLES = {
    "better": ("better", "&#10003;&#xFE0E;", "Better"), "worse": ("worse", "&#10007;&#xFE0E;", "Worse"),
    "similar": ("similar", "&#9679;&#xFE0E;", "Similar"), "higher": ("higher", "&#9650;&#xFE0E;", "Higher"),
    "lower": ("lower", "&#9660;&#xFE0E;", "Lower"), "not compared": ("none", "", "Not compared"), "": ("none", "", "-"),
}

_QUARTERS = {True: dict(zip("ABCD", ("best", "2nd best", "2nd worst", "worst"))),
             False: dict(zip("ABCD", ("lowest", "2nd lowest", "2nd highest", "highest")))}


def _judged(polarity: str) -> bool:
    """Whether an indicator has a better and a worse direction."""
    return polarity in ("low_is_good", "high_is_good")


def _rank_cells(r: pd.Series) -> str:
    """Rank and band cells in LAIT's order: with a polarity 1 and A are the best (A green, D red, as LAIT colours
    them); without one they count from the lowest, uncoloured, and the cell says so."""
    judged = _judged(r["polarity"])
    rank = esc(f"{int(r['rank'])} of {int(r['rank_of'])}") if pd.notna(r["rank"]) else "x"
    if pd.notna(r["rank"]) and not judged:
        rank += '<br><span class="unit">lowest first</span>'
    band = r["quartile_band"]
    if band not in _QUARTERS[judged]:
        return f'<td class="num">{rank}</td><td>x</td>'
    cls = {"A": "better", "D": "worse"}.get(band, "none") if judged else "none"
    return f'<td class="num">{rank}</td><td class="rug {cls}">{esc(band)}<br>{esc(_QUARTERS[judged][band])}</td>'


def _trend_cell(trend: str, polarity: str) -> str:
    """The recent trend: an arrow for the direction, better or worse (and its colour) only where there is a
    polarity."""
    if trend not in ("increasing", "decreasing"):
        words = {"no significant change": "&#8594;&#xFE0E; No significant change"}.get(trend, "Not tested")
        return f"<td>{words}</td>"
    up = trend == "increasing"
    text = f"{'&#8599;&#xFE0E; Rising' if up else '&#8600;&#xFE0E; Falling'}"
    if not _judged(polarity):
        return f"<td>{text}</td>"
    better = up == (polarity == "high_is_good")
    return f'<td class="rug {"better" if better else "worse"}">{text},<br>{"better" if better else "worse"}</td>'


def _rug_cell(result: str, number: str = "") -> str:
    cls, symbol, word = RUG_STYLES.get(result, ("none", "", result))
    inner = f'<span aria-hidden="true">{symbol}</span> {word}' if symbol else word
    if number:
        inner = f"{esc(number)}<br>{inner}"
    return f'<td class="rug {cls}">{inner}</td>'


def summary_rows(ctx: Context) -> pd.DataFrame:
    """The LA's row for every indicator in the report year, in registry order (the summary table's data)."""
    t = ctx.table
    rows = t[(t["area_code"] == ctx.la_code) & (t["time_period"] == ctx.year)]
    # NEET is published by calendar year; use its latest year up to the report year.
    order = list(ctx.registry())
    latest = []
    for ind in order:
        r = ctx.rows(ind)
        r = r[r["time_period"] <= ctx.year]
        if len(r):
            latest.append(r.iloc[-1])
    return pd.DataFrame(latest) if latest else rows


def tartan_rug(ctx: Context) -> Html:
    """Every indicator for the LA against its neighbours, region and England: colour, symbol and word together."""
    reg = ctx.registry()
    rows = summary_rows(ctx)
    head = ["Indicator", "Year", ctx.la_name, "Neighbours' average", ctx.la["region_name"], "England",
            "Compared with England", "Compared with neighbours", "Rank", "Quartile band",
            "Five-year trend", "Target"]
    out = ['<table class="rug-table"><caption>Summary of every indicator for ' + esc(ctx.la_name) +
           " (significance at " + ("95%" if ctx.confidence == 0.95 else "99.8%") +
           " confidence; where lower or higher is better, rank 1 and band A are the best, as in DfE's LAIT; where "
           "neither is, they are the lowest)</caption><thead><tr>" +
           "".join(f'<th scope="col">{esc(h)}</th>' for h in head) + "</tr></thead><tbody>"]
    for _, r in rows.iterrows():  # one row per indicator
        e = reg[r["indicator"]]
        d = e["decimals"]
        unit = "%" if e["unit"] == "%" else ""
        val = narrative.fmt(r["value"], d, r["status"]) + (unit if pd.notna(r["value"]) else "")
        sn = narrative.fmt(r["sn_mean"], d) + unit if pd.notna(r["sn_mean"]) else "x"
        rg = narrative.fmt(r["region_value"], d) + unit if pd.notna(r["region_value"]) else "x"
        en = narrative.fmt(r["england_value"], d) + unit if pd.notna(r["england_value"]) else "x"
        target = ""
        if r.get("target_status"):
            target = f'{narrative.fmt(r["target"], d)}{unit}: {r["target_status"]}'
        cls = {"on track": "better", "off track": "worse"}.get(r.get("target_status", ""), "none")
        out.append(f'<tr><th scope="row"><a href="{_theme_page(e["theme"])}#{r["indicator"].replace("_", "-")}">'
                   f'{esc(e["short_title"])}</a><br><span class="unit">{esc(e["unit"])}</span></th>'
                   f'<td>{esc(r["time_period"])}</td><td class="num"><strong>{esc(val)}</strong></td>'
                   f'<td class="num">{esc(sn)}</td><td class="num">{esc(rg)}</td><td class="num">{esc(en)}</td>'
                   f'{_rug_cell(r["vs_england"])}{_rug_cell(r["vs_sn"])}{_rank_cells(r)}'
                   f'{_trend_cell(r["trend"], r["polarity"])}'
                   f'<td class="rug {cls}">{esc(target) or "-"}</td></tr>')
    out.append("</tbody></table>")
    _register_summary(ctx, rows)
    return Html("".join(out))


def _register_summary(ctx: Context, rows: pd.DataFrame) -> None:
    """The summary's figures for the workbook: unrounded numbers, each row shown to its indicator's decimals."""
    reg = ctx.registry()
    entries = [reg[i] for i in rows["indicator"]]
    decimals = np.array([e["decimals"] for e in entries], dtype=int)

    def text(col):
        return rows[col].astype(object).where(rows[col].notna(), "").to_numpy()

    values = {ctx.la_name: cells(rows["value"], rows["status"]), "Neighbours' average": cells(rows["sn_mean"]),
              ctx.la["region_name"]: cells(rows["region_value"]), "England": cells(rows["england_value"])}
    frame = pd.DataFrame({"Indicator": [e["short_title"] for e in entries], "Unit": [e["unit"] for e in entries],
                          "Year": rows["time_period"].to_numpy(), **values,
                          "Compared with England": text("vs_england"), "Compared with neighbours": text("vs_sn"),
                          "Rank": cells(rows["rank"]), "Rank out of": cells(rows["rank_of"]),
                          "Quartile band": text("quartile_band"),
                          "Rank and band order": ["1 and A are the best (the " + ("highest" if e["polarity"] ==
                                                  "high_is_good" else "lowest") + " values)" if _judged(e["polarity"])
                                                  else "1 and A are the lowest values (no better or worse)"
                                                  for e in entries],
                          "Trend": text("trend"),
                          "Target": cells(rows["target"], missing=""), "Target year": text("target_year"),
                          "Target status": text("target_status"), "Source file": text("source_file"),
                          "Release": text("release")})
    formats = {"Year": None, **{c: decimals for c in values}, "Rank": 0, "Rank out of": 0,
               "Target": decimals, "Target year": None, "Release": None}
    ctx.register("summary", frame, formats=formats, label="Summary", source=ctx.sources_of(rows),
                 title=f"Every indicator for {ctx.la_name}, latest year to {ctx.year}, with its statistical "
                       f"neighbours' average, {ctx.la['region_name']} and England; significance at "
                       f"{'95%' if ctx.confidence == 0.95 else '99.8%'} confidence; rank 1 and quartile band A are "
                       "the best values where lower or higher is better (as DfE's LAIT), else the lowest")


PAGES = {
    "children_in_need": "10_children_in_need.html", "child_protection": "20_child_protection.html",
    "looked_after": "30_looked_after.html", "missing": "40_missing.html", "neet": "50_neet.html",
    "care_leavers": "60_care_leavers.html", "early_years": "70_early_years.html", "education": "05_scorecard.html",
    "wider": "05_scorecard.html",
}


def _theme_page(theme: str) -> str:
    return PAGES.get(theme, "")


def key_findings(ctx: Context, n: int = 5) -> Html:
    rows = summary_rows(ctx)
    items = narrative.key_findings(rows, ctx.registry(), ctx.la_name, n=n, confidence=ctx.confidence,
                                   history=ctx.table[ctx.table["area_code"] == ctx.la_code])
    ctx.register("key_findings", pd.DataFrame({"Finding": items}), label="Key findings",
                 title=f"Key findings for {ctx.la_name}, {ctx.year}", source=ctx.sources_of(rows))
    return Html("<ol class=\"findings\">" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ol>")


def theme_indicators(theme: str) -> list[str]:
    """The registry's indicators for one theme, in order."""
    return [k for k, v in indicators.registry().items() if v["theme"] == theme]


def theme_summary(ctx: Context, theme: str) -> Html:
    """A short list of the theme's indicators with their headline finding, linking to each section."""
    reg = ctx.registry()
    items = []
    for ind in theme_indicators(theme):
        row = ctx.latest(ind)
        if row is None:
            continue
        items.append(f'<li><a href="#{ind.replace("_", "-")}">{esc(narrative.headline(row, reg[ind], ctx.la_name))}</a></li>')
    return Html(f'<nav aria-label="On this page"><ul class="toc">{"".join(items)}</ul></nav>')


# ----------------------------------------------------------------------------------------------------------------
# Data and methods page


def sources_table(ctx: Context) -> Html:
    """Every file in the data folder (``needs sources``): what it is, which release, what it fed, what was superseded."""
    if ctx.inventory is None:  # a context pickled by an older version
        files = pd.DataFrame(ctx.files)
        cols = {"file": "File", "publication": "Publication", "release": "Release", "years": "Periods",
                "indicators": "Indicators", "rows": "Rows used", "sha256": "SHA-256"}
    else:
        files = ctx.inventory
        cols = {"file": "File", "publication": "Publication", "status": "Status", "reason": "Why",
                "release": "Release", "periods": "Periods", "areas": "Areas", "indicators": "Indicators",
                "rows_used": "Rows used", "rows_superseded": "Rows superseded", "sha256": "SHA-256"}
    files = files.reindex(columns=list(cols)).rename(columns=cols).fillna("")
    files["SHA-256"] = files["SHA-256"].astype(str).str[:12]
    folder_word = "data folders" if len(folders.data_folders(ctx.data_dir)) > 1 else "data folder"
    ctx.register("sources", files, formats={"Release": None, "Rows used": 0, "Rows superseded": 0},  # every column
                 label="Data sources", title=f"Every file in the {folder_word} {_folder_names(ctx)}: release, "
                 "periods and areas covered, indicators fed, rows used and superseded, SHA-256 (first 12 characters)",
                 source=_folder_line(ctx))
    shown = files.copy()
    if "Why" in shown:  # on the page: the status says why in the same cell, and the publication is in the workbook
        why = shown["Why"].astype(str)
        shown["Status"] = shown["Status"].astype(str).where(why.eq(""), shown["Status"].astype(str) + ": " + why)
        shown = shown.drop(columns=["Why", "Publication"])
    model = (f"<p>Statistical neighbours: {esc(ctx.neighbour_model)}.</p>" if ctx.neighbour_model else "")
    return Html(table_html(shown, f"Every file in the {folder_word}: release, periods and areas covered, indicators fed, "
                                  "rows used and rows a newer release superseded, and the first 12 characters of its "
                                  "SHA-256 (in full in manifest.json)", ["Rows used", "Rows superseded"]) + model)


def _folder_line(ctx: Context) -> str:
    """Which data a table comes from: the data folder, and whether it is the demo data."""
    kind = "Demo data (synthetic, not official statistics)" if ctx.is_demo else "Published DfE and ONS files"
    return f"{kind} in {folders.folder_words(ctx.data_dir)}."


def _folder_names(ctx: Context) -> str:
    return folders.folder_words([f.name for f in folders.data_folders(ctx.data_dir)])


def vintages_table(ctx: Context) -> Html:
    t = ctx.table
    rows = t[(t["area_code"] == ctx.la_code) & t["population_vintage"].ne("")]
    v = (rows.groupby(["indicator", "population_vintage"], sort=False)["time_period"]
         .agg(["min", "max"]).reset_index())
    v["Years"] = v["min"] + " to " + v["max"]
    v = v.rename(columns={"indicator": "Indicator", "population_vintage": "Population estimate used"})[
        ["Indicator", "Years", "Population estimate used"]]
    ctx.register("population_vintages", v, label="Population estimates",
                 title=f"Population denominators used for {ctx.la_name}'s rates (vintage: {ctx.vintage})",
                 source="ONS mid-year population estimates, as each release used them (population_vintage).")
    return Html(table_html(v, f"Population denominators used for {ctx.la_name}'s rates (vintage: {ctx.vintage})"))


def indicator_definitions(ctx: Context) -> Html:
    reg = ctx.registry()
    frame = pd.DataFrame([{"Indicator": e["short_title"], "Definition": e["definition"], "Unit": e["unit"],
                           "Method": "Rate: exact Poisson limits below 10 events, Byar's method from 10"
                           if e["method"] == "rate" else "Proportion: Wilson score limits",
                           "Polarity": {"low_is_good": "Lower is better", "high_is_good": "Higher is better",
                                        "none": "No judgement (higher or lower)"}[e["polarity"]],
                           "Shown to": f"{e['decimals']} decimal places" if e["decimals"] else "whole numbers",
                           "Outcome": e.get("outcome", "")} for e in reg.values()])
    ctx.register("definitions", frame, label="Definitions", title="Indicators, their definitions and methods",
                 source="The indicator registry (analysis/indicators.yaml); definitions from the DfE publications.")
    return Html(table_html(frame, "Indicators, their definitions and methods", row_header="Indicator"))


def caveats(ctx: Context) -> Html:
    items = [esc(w) for w in ctx.warnings]
    if not items:
        items = ["The input files were read without warnings."]
    return Html("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")


# ----------------------------------------------------------------------------------------------------------------
# In-year figures (quarterly run)


def _local_rows(ctx: Context, ind: str) -> pd.DataFrame:
    if ctx.local is None or ctx.local.empty:
        return pd.DataFrame()
    return ctx.local[ctx.local["indicator"] == ind].sort_values("period_end")


def in_year(ctx: Context, theme: str) -> Html:
    """The theme's in-year figures by quarter from the LA's returns, beside the latest published benchmarks.

    Empty in an annual pack (no returns given). Indicators a missing return cannot give are named.
    """
    if not ctx.period:
        return Html("")
    reg = ctx.registry()
    from analysis.indicators import local
    parts = [f'<section id="in-year" class="in-year"><h2>Latest local figures: {esc(ctx.period)} (unpublished)</h2>']
    shown = 0
    for ind in theme_indicators(theme):
        if ind not in local.LOCAL_INDICATORS:
            continue
        entry = reg[ind]
        rows = _local_rows(ctx, ind)
        if rows.empty:
            parts.append(f"<p>{esc(entry['short_title'])}: the return this needs was not supplied.</p>")
            continue
        shown += 1
        last = rows.iloc[-1]
        parts.append(f"<h3>{esc(entry['short_title'])}</h3><p>{esc(_local_sentence(ctx, last, entry))}</p>")
        lo, hi = _lim(ctx)
        td = pd.concat([
            pd.DataFrame({"time_period": rows["time_period"], "series": f"{ctx.la_name} (local, unpublished)",
                          "role": "la", "value": rows["value"], "lower": rows[lo], "upper": rows[hi]}),
            *[pd.DataFrame({"time_period": rows["time_period"], "series": f"{name} (published {rows['source_file'].iloc[-1].rsplit(' ', 1)[-1]})",
                            "role": role, "value": rows[col], "lower": np.nan, "upper": np.nan})
              for name, role, col in (("Statistical neighbours (average)", "sn", "sn_mean"),
                                      (ctx.la["region_name"], "region", "region_value"), ("England", "england", "england_value"))],
        ], ignore_index=True)
        if rows["value"].notna().sum() >= 2:
            chart = charts.trend_chart(td, title=f"{entry['short_title']} in {ctx.la_name} by quarter, to {ctx.period}",
                                       subtitle=f"{_measure(entry)}, rolling figures at each quarter "
                                                f"end (local returns, unpublished); comparators: latest published",
                                       unit=entry["unit"], decimals=entry["decimals"],
                                       source="Local returns (SSDA903, CIN census), unpublished; comparators: DfE",
                                       la_name=f"{ctx.la_name} (local, unpublished)")
            parts.append(chart.to_html())
        status = rows["status"].to_numpy()
        data = pd.DataFrame({"Quarter": rows["time_period"].to_numpy(),
                             "Numerator": cells(rows["numerator"], status),
                             "Denominator": cells(rows["denominator"], status),
                             "Value": cells(rows["value"], status),
                             "Compared with England": rows["vs_england"].to_numpy()})
        formats = {"Numerator": 0, "Denominator": 0, "Value": entry["decimals"]}
        caption = f"{_measure(entry, brackets=True)} by quarter, {ctx.la_name} local returns (unpublished)"
        published = ctx.latest(ind)
        ctx.register(f"{ind}_in_year", data, formats=formats, label=_sheet(entry, "qtr"),
                     title=f"{caption}; counts from 1 to 5 are suppressed (c)",
                     source=_local_source(ctx, published.to_frame().T if published is not None else rows.iloc[:0]))
        parts.append(data_details(displayed(data, formats), caption, ["Numerator", "Denominator", "Value"]))
    if not shown:
        parts.append("<p>No in-year figures for this theme: the returns given do not cover it.</p>")
    parts.append("</section>")
    return Html("".join(parts))


def _local_source(ctx: Context, published: pd.DataFrame) -> str:
    """The source line of an in-year sheet: the LA's own returns, and the published rows set beside them."""
    return (f"{narrative.possessive(ctx.la_name)} own returns (SSDA903, CIN census), unpublished. Comparators: "
            f"{ctx.sources_of(published)}")


def _local_sentence(ctx: Context, row: pd.Series, entry: dict) -> str:
    subject = f"In the local returns for {ctx.period}, {narrative.possessive(ctx.la_name)} figure for {narrative.as_noun(entry['short_title'])}"
    if pd.isna(row["value"]):
        return f"{subject} is suppressed (c): it rests on 5 children or fewer."
    text = f"{subject} was {narrative.figure(row['value'], entry, unit=not narrative.unit_said(entry, subject))}"
    comps = []
    for col, comp, name in (("vs_sn", "sn_mean", "the statistical neighbours' latest published average"),
                            ("vs_england", "england_value", "England's latest published figure")):
        if pd.notna(row.get(comp)) and row.get(col) in ("higher", "lower", "better", "worse", "similar"):
            comps.append(f"{narrative._judgement(row[col])} {name} ({narrative.figure(row[comp], entry, unit=False)})")
    if comps:
        text += ", " + " and ".join(comps)
    if pd.notna(row.get("previous_value")):
        text += f"; the quarter before it was {narrative.figure(row['previous_value'], entry, unit=False)}"
    return text + "."


def in_year_summary(ctx: Context) -> Html:
    """Every in-year indicator for the period, beside the latest published figures (the summary page)."""
    if not ctx.period:
        return Html("")
    reg = ctx.registry()
    rows = ctx.local[ctx.local["time_period"] == ctx.period] if ctx.local is not None else pd.DataFrame()
    if rows.empty:
        return Html(f"<h2>Where things stand now: {esc(ctx.period)}</h2><p>The returns given hold no figures for "
                    f"{esc(ctx.period)}.</p>")
    latest = []
    for ind in rows["indicator"]:  # one per indicator: its latest published figure up to the report year
        published = ctx.rows(ind)
        published = published[(published["time_period"] <= ctx.year) & published["value"].notna()]
        latest.append((published["value"].iloc[-1], published["time_period"].iloc[-1]) if len(published)
                      else (np.nan, ""))
    decimals = np.array([reg[i]["decimals"] for i in rows["indicator"]], dtype=int)
    values = {f"{ctx.period} (local)": cells(rows["value"], rows["status"]),
              "Quarter before": cells(rows["previous_value"]),
              "Latest published": cells([v for v, _ in latest]), "Year published": [y for _, y in latest],
              "Neighbours' average (published)": cells(rows["sn_mean"]),
              "England (published)": cells(rows["england_value"])}
    frame = pd.DataFrame({"Indicator": [reg[i]["short_title"] for i in rows["indicator"]],
                          "Unit": [reg[i]["unit"] for i in rows["indicator"]], **values,
                          "Compared with England": rows["vs_england"].to_numpy()})
    formats = {c: (None if c == "Year published" else decimals) for c in values}
    ctx.register("in_year_summary", frame, formats=formats, label="In-year summary",
                 title=f"In-year figures for {ctx.la_name} from its own returns, {ctx.period} (unpublished), beside "
                       "the latest published figures",
                 source=_local_source(ctx, summary_rows(ctx)))
    frame = displayed(frame, formats)
    notes = "".join(f"<li>{esc(n)}</li>" for n in ctx.returns_notes)
    return Html(f"<h2>Where things stand now: {esc(ctx.period)} (unpublished local figures)</h2>"
                + table_html(frame, f"In-year figures for {ctx.la_name} from its own returns, {ctx.period}, beside the "
                                    "latest published figures", row_header="Indicator")
                + (f"<p>Notes on the returns:</p><ul>{notes}</ul>" if notes else ""))


def returns_table(ctx: Context) -> Html:
    """The record-level files read (names, tables, rows, fingerprints: never their contents)."""
    if not ctx.returns_files:
        return Html("")
    frame = pd.DataFrame(ctx.returns_files).rename(columns={"file": "File", "table": "Table", "rows": "Rows",
                                                             "sha256": "SHA-256"})
    frame["SHA-256"] = frame["SHA-256"].astype(str).str[:16] + "…"
    ctx.register("returns_files", frame, formats={"Rows": 0}, label="Local returns read",
                 title="Record-level files read for the in-year figures (names, tables, rows and fingerprints only)",
                 source="The LA's own returns (SSDA903, CIN census), unpublished.")
    return Html("<h2>The LA's own returns (unpublished)</h2>" + table_html(frame, "Record-level files read for the "
                "in-year figures (their contents never leave the analysis; counts from 1 to 5 are suppressed)",
                ["Rows"]))


# ----------------------------------------------------------------------------------------------------------------
# The council's scorecard (issue 10)

#: The KPI table of the council's strategy (CONTEXT.md), in its order: the KPI as the council words it and the
#: registry indicator that measures it (None where no published source measures it).
SCORECARD_KPIS = [
    ("Uptake of funded early education by disadvantaged 2-year-olds", "early_ed_2yo_pct"),
    ("Children under 5 registered with a children's centre", None),
    ("Good level of development in the Early Years Foundation Stage", "eyfs_gld_pct"),
    ("Primary pupils in good or better schools", None),
    ("Secondary pupils in good or better schools", None),
    ("Assessments completed in 45 days", "assessments_45d_pct"),
    ("Children becoming subject of a CP plan for a second or subsequent time", "cp_subsequent_pct"),
    ("Looked-after children in their current placement for 2 years", "stability_same_carer_pct"),
    ("Care leavers in education, employment or training", "care_leavers_eet_19_21_pct"),
    ("Average days between entering care and moving in with the adoptive family", None),
    ("16-19 NEET or not known", "neet_nk_pct"),
]
#: The strategic outcomes' further measures, shown after the KPI table.
SCORECARD_OUTCOMES = ["cla_rate", "cp_rate", "cin_rate", "missing_pct", "ks2_rwm_pct", "attainment8",
                      "cla_ks2_rwm_pct", "cla_attainment8", "cla_progress8", "ehc_20wk_pct", "cla_sdq_concern_pct",
                      "cla_sdq_score", "excess_weight_reception_pct", "excess_weight_y6_pct", "cla_convicted_pct",
                      "fte_youth_justice_rate", "child_poverty_pct", "csc_spend_per_child"]
_TREND_WORDS = {"increasing": "Rising", "decreasing": "Falling", "no significant change": "No significant change"}


def _scorecard_trend(trend: str, polarity: str, untested: bool) -> str:
    """The recent trend in words, with whether it is improving where the indicator has a polarity (as the
    summary's trend column says better or worse)."""
    words = _TREND_WORDS.get(trend)
    if words is None:
        return "Not tested" if untested else "Too few years"
    if trend in ("increasing", "decreasing") and _judged(polarity):
        words += " (improving)" if (trend == "increasing") == (polarity == "high_is_good") else " (worsening)"
    return words


def _scorecard_record(ctx: Context, kpi: str, ind: str | None) -> dict:
    """One row of the scorecard: numbers unrounded (the page rounds them to ``_decimals``), symbols as text."""
    reg = ctx.registry()
    blank = {"KPI": kpi, "Indicator": "", "Unit": "", "Year": "", "Period as published": "", ctx.la_name: "", "Target": "", "Target status": "",
             "Neighbours' average": "", "England": "", "Compared with England": "", "Trend": "", "Note": "",
             "_decimals": 0, "_indicator": ind or ""}
    if ind is None:
        return {**blank, "Note": "No published source in the data folder measures this KPI"}
    e = reg[ind]
    row = ctx.latest(ind)
    named = {**blank, "Indicator": e["short_title"], "Unit": e["unit"], "_decimals": int(e["decimals"])}
    if row is None:
        return {**named, ctx.la_name: "x", "Note": f"No figure: {sources_note(ind)}"}
    note = "published figure only (not tested)" if row.get("value_basis") == "published only" else ""
    untested = bool(note) or e["method"] == "ratio"  # no limits: no trend test (an average, spend, a published value)
    if str(row.get("aggregate_check", "")):
        note = "England's published figure disagrees with its regions: not used"
    has_target = pd.notna(row.get("target"))
    label = str(row.get("period_label") or "")  # kept where the publication words it otherwise
    if len(label) == 6 and label.isdigit():  # DfE's code for a two-year period: 202324 is 2023/24
        label = f"{label[:4]}/{label[4:]}"
    return {**named, "Year": int(row["time_period"]), "Period as published": "" if label == row["time_period"] else label,
            ctx.la_name: cells([row["value"]], [row["status"]])[0],
            **_target_cells(ctx, ind, row, has_target),
            "Neighbours' average": cells([row["sn_mean"]])[0], "England": cells([row["england_value"]])[0],
            "Compared with England": str(row["vs_england"]), "Trend": _scorecard_trend(row["trend"], e["polarity"], untested),
            "Note": note}


def _target_cells(ctx: Context, ind: str, row: pd.Series, has_target: bool) -> dict:
    """The scorecard's target and its status: the target in force for the row's year, or, where none is yet, the
    next one the council has set, shown with the year it is due (it judges nothing before then)."""
    if has_target:
        return {"Target": row["target"], "Target status": row["target_status"]}
    tg = ctx.targets
    if tg is None or not len(tg):
        return {"Target": "", "Target status": ""}
    year = pd.to_numeric(tg["target_year"], errors="coerce")
    later = tg[(tg["indicator"] == ind) & (tg["area_code"] == ctx.la_code) & (year > int(row["time_period"]))]
    if not len(later):
        return {"Target": "", "Target status": ""}
    nxt = later.loc[pd.to_numeric(later["target_year"]).idxmin()]
    return {"Target": float(nxt["target"]), "Target status": f"due {nxt['target_year']}"}


def _scorecard_table(ctx: Context, name: str, records: list[dict], title: str, label: str) -> pd.DataFrame:
    """Register a scorecard table for the workbook (numbers, each row's published decimals) and return it as the
    page shows it (rounded half up, thousands separated)."""
    frame = pd.DataFrame(records)
    decimals = frame.pop("_decimals").astype(int).tolist()
    wanted = [i for i in frame.pop("_indicator") if i]
    numeric = [ctx.la_name, "Target", "Neighbours' average", "England"]
    latest = [ctx.latest(i) for i in wanted]
    mine = pd.DataFrame([r for r in latest if r is not None], columns=ctx.table.columns)
    ctx.register(name, frame, title=title, formats={"Year": None, **{c: decimals for c in numeric}}, label=label,
                 source=ctx.sources_of(mine))
    page = displayed(frame, {c: decimals for c in numeric})  # each row at its own published decimals
    # the page leaves out a column no row uses (the workbook keeps it), so the table fits a laptop's screen
    optional = ["Period as published", "Target", "Target status", "Note"]
    return page.drop(columns=[c for c in optional if (page[c].astype(str).str.strip() == "").all()])


def sources_note(ind: str) -> str:
    """Which publication would provide an indicator (for a KPI without a figure)."""
    e = indicators.registry()[ind]
    text = sources.LAYOUTS[e["source"]].publication
    if e.get("lait") and e["source"] != sources.LAIT_LAYOUT:
        text += f", or LAIT (measure {e['lait']})"
    return text


def scorecard(ctx: Context) -> Html:
    """The council's KPI table and its strategic outcomes' measures: latest value, target, neighbours, England, trend."""
    kpis = [_scorecard_record(ctx, k, i) for k, i in SCORECARD_KPIS]
    reg = ctx.registry()
    outcomes = [_scorecard_record(ctx, reg[i].get("outcome", "") or reg[i]["short_title"], i)
                for i in SCORECARD_OUTCOMES if i in reg]
    a = _scorecard_table(ctx, "scorecard_kpis", kpis, f"The council's KPIs: {ctx.la_name}, latest figure up to "
                         f"{ctx.year}, with targets, statistical neighbours and England", "Scorecard KPIs")
    b = _scorecard_table(ctx, "scorecard_outcomes", outcomes, f"Strategic outcomes: {ctx.la_name}, the measures "
                         f"behind them, latest figure up to {ctx.year}", "Scorecard outcomes")
    numeric = [ctx.la_name, "Target", "Neighbours' average", "England"]
    on_page = [i for i, e in reg.items() if PAGES.get(e["theme"]) == "05_scorecard.html"]
    shown = list(dict.fromkeys([i for _, i in SCORECARD_KPIS if i] + SCORECARD_OUTCOMES + on_page))
    definitions = "".join(f'<dt id="{i.replace("_", "-")}">{esc(reg[i]["short_title"])}</dt>'
                          f'<dd>{esc(reg[i]["definition"])}</dd>' for i in shown if i in reg)
    return Html("<h2>The council's KPI table</h2>"
                + table_html(a, f"{ctx.la_name}: the council's KPIs, latest published figure up to {ctx.year}, with "
                                f"targets, statistical neighbours and England", numeric, row_header="KPI")
                + "<h2>Strategic outcomes</h2>"
                + table_html(b, f"{ctx.la_name}: the measures behind the strategic outcomes, latest published figure "
                                f"up to {ctx.year}", numeric, row_header="KPI")
                + f"<h2>What each measure is</h2><dl>{definitions}</dl>")


def scorecard_multiples(ctx: Context, years: int = 8) -> Html:
    """A small trend per KPI (one chart) and per outcome measure (another) that has figures: the LA beside England."""
    kpis = [i for _, i in SCORECARD_KPIS if i]
    out = ["<h2>Trends</h2>"]
    for what, wanted in (("The council's KPIs", kpis), ("Strategic outcomes", [i for i in SCORECARD_OUTCOMES
                                                                              if i not in kpis])):
        data = _multiples_data(ctx, wanted, years)
        if data.empty:
            out.append(f"<p>{esc(what)}: no measure has figures for this authority.</p>")
            continue
        chart = charts.small_multiples(data, title=f"{what}: {ctx.la_name} over time",
                                       subtitle=f"Each measure on its own scale, up to {ctx.year}",
                                       source=("Demo data (synthetic)" if ctx.is_demo else "Source: DfE, LAIT, MHCLG"),
                                       la_name=ctx.la_name)
        name = "scorecard_kpi_trends" if wanted is kpis else "scorecard_outcome_trends"
        decimals = data["decimals"].astype(int).tolist()
        sheet = data.drop(columns="decimals")
        sheet["time_period"] = pd.to_numeric(sheet["time_period"], errors="coerce")  # years as numbers
        ctx.register(name, sheet, formats={"value": decimals, "time_period": None}, label=export.sheet_label(what, "trends"),
                     title=f"{what}: {ctx.la_name} over time, up to {ctx.year}, beside England",
                     source=ctx.sources_of(ctx.table[(ctx.table["area_code"] == ctx.la["area_code"])
                                                     & ctx.table["indicator"].isin(wanted)
                                                     & (ctx.table["time_period"] <= ctx.year)]))
        out += [chart.to_html(), data_details(displayed(sheet, {"value": decimals}), f"{what} over time", ["value"])]
    return Html("".join(out))


def _multiples_data(ctx: Context, wanted: list[str], years: int) -> pd.DataFrame:
    """Tidy rows for :func:`charts.small_multiples`: the LA's last ``years`` figures and England's (if trusted)."""
    reg = ctx.registry()
    parts = []
    for ind in dict.fromkeys(wanted):
        if ind not in reg or ctx.latest(ind) is None:
            continue
        e = reg[ind]
        la = ctx.rows(ind)
        la = la[la["time_period"] <= ctx.year].tail(years)
        eng = ctx.rows(ind, areas.ENGLAND_CODE)
        eng = eng[eng["time_period"].isin(la["time_period"]) & eng["aggregate_check"].astype(str).eq("")]
        panel = f"{e['short_title']} ({e['unit']})"
        for role, rows in (("la", la), ("england", eng)):
            parts.append(pd.DataFrame({"panel": panel, "time_period": rows["time_period"], "role": role,
                                       "value": rows["value"], "decimals": e["decimals"]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
