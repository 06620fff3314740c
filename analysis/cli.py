"""The ``needs`` command: ``needs indicators``, ``needs sources``, ``needs pack``, ``needs demo``.

Every user error ends with a one-line message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis import __version__
from analysis.errors import NeedsError


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


def _load(args, data_dir: Path):
    """Read a data folder once, as the options ask; print its warnings."""
    from analysis import indicators
    ds = indicators.load(data_dir, vintage=args.population, indicators=args.indicator or None,
                         neighbour_model=getattr(args, "neighbour_model", None) or None)
    warn(ds.warnings)
    return ds


def cmd_indicators(args) -> int:
    from analysis.indicators import benchmark
    from analysis.present import export
    data_dir = Path(args.data_dir) if args.data_dir else _default_data_dir()
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
    data_dir = Path(args.data_dir) if args.data_dir else _default_data_dir()
    ds = _load(args, data_dir)
    table = indicators.inventory(ds)
    if args.out:
        export.write_table(table, args.out, sheet="sources")
        print(f"wrote {len(table):,} rows to {args.out}", file=sys.stderr)
    else:
        table.to_csv(sys.stdout, index=False)
    return 0


def cmd_demo(args) -> int:
    from analysis.demo import write_demo_data

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = write_demo_data(out)
    print(f"wrote {len(files)} demo files to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="needs", description="Needs analysis for children's services: "
                                     "benchmarked indicators and the evidence pack from official DfE data.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    ind = sub.add_parser("indicators", help="write the tidy benchmarked indicator table")
    ind.add_argument("--data-dir", help="folder of official DfE/ONS files (default: the project's demo data)")
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
    src.add_argument("--data-dir", help="folder of official DfE/ONS files (default: the project's demo data)")
    src.add_argument("--out", help="write to FILE.csv or FILE.xlsx (default: CSV on standard output)")
    src.add_argument("--population", choices=["release", "latest"], default="release", help=argparse.SUPPRESS)
    src.add_argument("--indicator", action="append", help=argparse.SUPPRESS)
    src.add_argument("--neighbour-model", help="a statistical-neighbour model file to use instead of the newest")
    src.set_defaults(func=cmd_sources)

    demo = sub.add_parser("demo", help="write the demo data set (synthetic, in the official layouts)")
    demo.add_argument("--out", required=True, help="folder to write to")
    demo.set_defaults(func=cmd_demo)

    from analysis.pack import add_pack_parser

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
