"""The ``needs`` command: ``needs indicators``, ``needs sources``, ``needs pack``, ``needs demo``.

Every user error ends with a one-line message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis import __version__
from analysis.errors import NeedsError, ParameterError


def _default_data_dir() -> Path:
    from analysis.demo import ensure_demo_data

    return ensure_demo_data()


def warn(lines) -> None:
    """Warnings go to the terminal only (stderr), one line each; they may name files, never children."""
    for line in lines:
        print(f"needs: warning: {line}", file=sys.stderr)


def warn_returns(returns) -> None:
    """The returns' problems: counts by file and problem always; the children concerned only on an interactive
    terminal, so that identifiers never reach a log file (a scheduled run redirects stderr to one)."""
    warn(returns.warning_summary())
    if sys.stderr.isatty():
        warn(returns.warnings)


def _data_dir(args):
    """The ``--data-dir`` folders (repeatable) as one parameter, or the demo data."""
    from analysis.read.folder import join_folders

    return join_folders(args.data_dir) if args.data_dir else _default_data_dir()


def _load(args, data_dir):
    """Read a data folder once, as the options ask; print its warnings."""
    from analysis import indicators
    ds = indicators.load(data_dir, vintage=args.population, indicators=args.indicator or None,
                         neighbour_model=getattr(args, "neighbour_model", None) or None)
    warn(ds.warnings)
    return ds


def cmd_indicators(args) -> int:
    from analysis.indicators import benchmark
    from analysis.present import export
    data_dir = _data_dir(args)
    if args.returns or args.period:
        table = _local_rows(args, data_dir)
    else:
        ds = _load(args, data_dir)
        table = benchmark.indicator_table(data_dir, years=args.year, las=args.la, vintage=args.population,
                                          dataset=ds)
    if args.indicator:
        table = table[table["indicator"].astype(str).isin(args.indicator)].reset_index(drop=True)
    if args.out:
        export.write_table(table, args.out)
        print(f"wrote {len(table):,} rows to {args.out}", file=sys.stderr)
    else:
        table.to_csv(sys.stdout, index=False)
    return 0


def _local_rows(args, data_dir):
    """In-year rows from the LA's returns for one quarter (``--returns DIR --la CODE --period 2025Q1``)."""
    from analysis.read import areas
    from analysis.indicators import benchmark, local
    from analysis import indicators
    from analysis.errors import ParameterError
    from analysis.read.returns import read_returns

    returns_dir = args.returns
    if not returns_dir and not args.data_dir and args.period:
        from analysis.demo.returns import ensure_demo_returns  # the embedded default: the demo LA's synthetic returns
        returns_dir = str(ensure_demo_returns()[0].parent)
    if not (returns_dir and args.period and args.la and len(args.la) == 1):
        raise ParameterError("in-year figures need --returns DIR, one --la and --period (e.g. 2025Q1 or latest)")
    folder = Path(returns_dir)
    if not folder.is_dir():
        raise ParameterError(f"returns folder not found: {folder}")
    returns = read_returns(folder)
    period = local.resolve_period(args.period, returns=returns)
    ds = _load(args, data_dir)
    if ds.is_demo:
        warn(["the comparators (neighbours, region, England) are the project's demo data, not published statistics: "
              "give --data-dir with the DfE files for real ones (the rows say data_kind 'local, demo comparators')"])
    la = areas.resolve_la(args.la[0])
    published = benchmark.benchmark(indicators.compute(ds.observations), ds.neighbours,
                                    neighbour_model=ds.neighbour_model_label)
    warn_returns(returns)
    table = local.local_table(returns, la, period, published, ds.populations, quarters=max(args.quarters, 2))
    return table if args.quarters > 1 else local.for_period(table, period)


def cmd_sources(args) -> int:
    from analysis.present import export
    from analysis import indicators
    ds = _load(args, _data_dir(args))
    table = indicators.inventory(ds)
    if args.out:
        export.write_table(table, args.out, sheet="sources")
        print(f"wrote {len(table):,} rows to {args.out}", file=sys.stderr)
    else:
        table.to_csv(sys.stdout, index=False)
    return 0


def cmd_demo(args) -> int:
    from analysis.demo import ensure_demo_data, write_demo_data

    if not args.out:  # the project's own demo folder, (re)written only when missing or out of date
        print(f"demo data ready in {ensure_demo_data()}")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = write_demo_data(out)
    print(f"wrote {len(files)} demo files to {out}")
    return 0


def add_pack_parser(sub) -> None:
    from analysis.pack.params import help_for  # the options' help is the notebooks' parameter definitions

    p = sub.add_parser("pack", help="build the evidence pack (HTML, workbook, manifest, executed notebooks)")
    p.add_argument("-f", "--params", help="YAML file of parameters (values are read as text; options given on the "
                                          "command line win)")
    p.add_argument("--la", nargs="+", help=help_for("la", "several, or 'all' (default Stockton-on-Tees)"))
    p.add_argument("--year", help=help_for("year", "or 'latest' (default 2024)"))
    p.add_argument("--data-dir", action="append", help=help_for("data_dir", "repeat it for files kept in several "
                                                                            "folders, read as one"))
    p.add_argument("--out", help="output folder (default: outputs/ for published data, outputs/demo/ for the demo "
                                 "data); the pack goes to OUT/<la>/<year>/")
    p.add_argument("--neighbour-model", help=help_for("neighbour_model"))
    p.add_argument("--confidence", help=help_for("confidence", "default 0.95"))
    p.add_argument("--targets", help=help_for("targets"))
    p.add_argument("--population", choices=["release", "latest"], help=help_for("population", "default release"))
    p.add_argument("--jobs", type=int, help="parallel builds (default: all cores)")
    p.add_argument("--period", help=help_for("period", "needs --returns"))
    p.add_argument("--returns", help=help_for("returns_dir", "CSV or XML, optionally .gz"))
    p.add_argument("--force", action="store_true", help="rebuild even if the inputs have not changed, and replace "
                                                        "a pack built from the other kind of data (demo or published)")
    p.add_argument("--notebooks", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_pack)


def cmd_pack(args) -> int:
    from analysis.demo import ensure_demo_data
    from analysis.indicators import local
    from analysis.pack import PackParams, build_many, build_pack, read_params_file, validate
    from analysis.pack.build import _as_confidence, _as_year, check_data_dirs, national_data, prestart_kernels
    from analysis.pack.params import check_keys
    from analysis.read import areas

    doc = read_params_file(args.params) if args.params else {}
    if args.params:
        check_keys(doc, Path(args.params).name)
    if getattr(args, "jobs", None) is not None and args.jobs < 1:
        raise ParameterError(f"--jobs {args.jobs}: expected 1 or more parallel builds")
    get = lambda name, default=None: getattr(args, name) if getattr(args, name, None) not in (None, []) else doc.get(name, default)  # noqa: E731
    las = get("la", ["Stockton-on-Tees"])
    las = [las] if isinstance(las, str) else list(las)
    from analysis.read.folder import data_folders, join_folders

    data_dir = get("data_dir", "") or ""  # repeated --data-dir: a list; a YAML file: text or a list
    period = str(get("period", "") or "")
    year_text = str(get("year", "") or "latest")
    year = year_text if year_text.lower() == "latest" else _as_year(year_text)
    returns_dir = str(get("returns", "") or get("returns_dir", "") or "")
    if period and not returns_dir:
        if data_dir:
            raise ParameterError("--period needs --returns DIR (the LA's SSDA903 and CIN census extracts)")
        # the embedded default: demo data and the demo LA's synthetic returns
        from analysis.demo.returns import ensure_demo_returns
        returns_dir = str(ensure_demo_returns()[0].parent)
    if returns_dir and not Path(returns_dir).is_dir():
        raise ParameterError(f"returns folder not found: {returns_dir}")
    if period and period.lower() != "latest":
        period = local.resolve_period(period)
    elif returns_dir and not period:
        period = "latest"
    check_data_dirs(data_dir)
    out = get("out", "") or ""
    if out and Path(out).exists() and not Path(out).is_dir():
        raise ParameterError(f"output folder {out} is a file; expected a folder")
    absolute = lambda v: str(Path(v).resolve()) if v else ""  # noqa: E731  (paths mean the same from anywhere)
    data_dir = (join_folders([absolute(f) for f in data_folders(data_dir)]) if data_dir
                else str(ensure_demo_data()))  # the embedded default
    returns_dir = absolute(returns_dir)
    base = dict(year=year, data_dir=data_dir, neighbour_model=absolute(get("neighbour_model", "") or ""),
                confidence=_as_confidence(get("confidence", "0.95")), targets=absolute(get("targets", "") or ""),
                population=get("population", "release") or "release", out=out, notebooks=get("notebooks", "") or "",
                period=period, returns_dir=returns_dir, force=bool(getattr(args, "force", False)))
    national = None
    if [x.lower() for x in las] == ["all"]:
        national = national_data(PackParams(la="", **base))  # read and benchmarked once, for every LA's pack
        obs = national["dataset"].observations
        la_rows = obs["geographic_level"] == areas.LEVEL_LA
        if year != "latest":
            la_rows &= obs["time_period"] == str(year)
        las = sorted(obs.loc[la_rows, "area_name"].unique())
        if not las:
            raise ParameterError(f"no local authority has data for {year}")
    if len(las) == 1:
        params = PackParams(la=las[0], **base)
        status = {}
        prestart_kernels(params.notebooks)  # the notebooks' kernels start while the folder is read
        data = validate(params)
        for line in [*data.get("warnings", []), *data.get("returns_notes", [])]:  # counts only: no child is named
            print(f"needs: warning: {line}", file=sys.stderr)
        folder = build_pack(params, data, status)
        if status.get("skipped"):
            print(f"pack up to date (inputs unchanged): {folder / 'index.html'}")
        else:
            print(f"pack built: {folder / 'index.html'}")
        return 0
    # Several LAs: check each name first, so a typo fails before anything runs.
    for la in las:
        areas.resolve_la(la)
    results = build_many([PackParams(la=la, **base) for la in las], jobs=getattr(args, "jobs", None),
                         national=national)
    failed = [r for r in results if r[2]]
    for la, folder, error in results:
        print(f"{'ok    ' if not error else 'FAILED'} {la}: {folder + '/index.html' if folder else error}")
    print(f"{len(results) - len(failed)} of {len(results)} packs built" + (f"; {len(failed)} failed" if failed else ""))
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="needs", description="Needs analysis for children's services: "
                                     "benchmarked indicators and the evidence pack from official DfE data.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    ind = sub.add_parser("indicators", help="write the tidy benchmarked indicator table")
    ind.add_argument("--data-dir", action="append",
                     help="folder of official DfE/ONS files (default: the project's demo data); repeat it for "
                          "files kept in several folders, read as one")
    ind.add_argument("--year", action="append", help="keep this year (repeatable); default all years")
    ind.add_argument("--la", nargs="+", action="extend", help="keep these LAs, by code, old code or name")
    ind.add_argument("--out", help="write to FILE.csv or FILE.xlsx (default: CSV on standard output)")
    ind.add_argument("--population", choices=["release", "latest"], default="release",
                     help="denominators: each release's own population estimates (reproduces published rates; "
                          "default) or the latest revised estimates for every year")
    ind.add_argument("--indicator", action="append", help="keep this indicator (registry id, repeatable); the run "
                     "fails if no file in the folder provides it")
    ind.add_argument("--neighbour-model", help="a statistical-neighbour model file (path, or a file name in the data "
                     "folder) to use instead of the newest model in the folder")
    ind.add_argument("--returns", help="folder of the LA's own returns (SSDA903 and CIN census, CSV or XML, "
                     "optionally .gz): in-year rows")
    ind.add_argument("--period", help="with --returns: the quarter, e.g. 2025Q1 (financial-year quarters), or latest")
    ind.add_argument("--quarters", type=int, default=1, help="with --returns: how many quarters up to --period")
    ind.set_defaults(func=cmd_indicators)

    src = sub.add_parser("sources", help="list every file in a data folder: layout, release, periods, areas, "
                         "indicators fed, rows used and superseded, SHA-256")
    src.add_argument("--data-dir", action="append",
                     help="folder of official DfE/ONS files (default: the project's demo data); repeat it for "
                          "files kept in several folders, read as one")
    src.add_argument("--out", help="write to FILE.csv or FILE.xlsx (default: CSV on standard output)")
    src.add_argument("--population", choices=["release", "latest"], default="release", help=argparse.SUPPRESS)
    src.add_argument("--indicator", action="append", help=argparse.SUPPRESS)
    src.add_argument("--neighbour-model", help="a statistical-neighbour model file to use instead of the newest")
    src.set_defaults(func=cmd_sources)

    demo = sub.add_parser("demo", help="write the demo data set (synthetic, in the official layouts)")
    demo.add_argument("--out", help="folder to write to (default: the project's data/demo, written only when missing "
                                    "or out of date)")
    demo.set_defaults(func=cmd_demo)

    add_pack_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except NeedsError as exc:
        print(f"needs: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # permission denied, disk full, a file vanishing mid-run: a user's problem, not a bug
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"needs: error: cannot read or write{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("needs: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
