"""A deterministic synthetic SSDA903 and CIN census extract for the demo local authority.

Nothing here describes a real child. The extract is shaped like a Stockton-on-Tees-sized authority
(0-17 population about 45,000): about 550-600 children looked after at any date, 240-290 on a child
protection plan and 2,300-2,500 children in need, with

* periods of care made of episode chains (placement moves, legal status changes, X1 between episodes),
  care ending at 18 at the latest, some children returning to care after going home;
* a few children on agreed series of short breaks (legal status V3, one episode per break, or V4, one
  agreement), which the DfE counts leave out;
* missing and away-from-placement episodes for teenagers (about 13% of children looked after in a year
  go missing, about 8 times each), some spanning a quarter end;
* CIN episodes for every looked-after child, children-in-need-only children with repeat referrals,
  child protection plans inside CIN episodes, and no-further-action (NFA) referrals;
* unborn children on referral (CIN child identifiers with only an expected birth date).

Identifiers look like identifiers (``DEMO000123``); UPNs are a check letter and 12 digits with the
impossible LA number 999 (so they can never be a real pupil's); postcodes use Stockton (TS) districts
and are random. 903 dates are dd/mm/yyyy, CIN census dates yyyy-mm-dd.

Coverage: the files hold every record open at any time from ``start`` minus 12 months to ``end`` (a
one-year lead-in, so rolling 12-month measures are complete from the first quarter ending after
``start``); nothing after ``end`` is known (episodes open at ``end`` have blank end dates).

Same arguments -> byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import ParameterError

FILES = {
    "header": "SSDA903_Header.csv",
    "episodes": "SSDA903_Episodes.csv",
    "missing": "SSDA903_Missing.csv",
    "cin_children": "CIN_ChildIdentifiers.csv",
    "cin_details": "CIN_CINdetails.csv",
    "cp_plans": "CIN_ChildProtectionPlans.csv",
}

#: The generator's version, written beside the files (a ``.txt``, which :func:`analysis.read.returns.read_returns` does
#: not read): a cached demo from an older generator is written again.
DEMO_VERSION = "2"
VERSION_FILE = "demo_version.txt"

# --- calibration (per year unless stated) ---------------------------------------------------------------
BURN_IN_YEARS = 12  # simulate from this long before the extract so stocks are settled
CLA_FIRST_ENTRIES = 215.0  # children entering care for the first time
REENTRY_SHARE = 0.13  # of periods ending in a return home, share followed by a new period of care
SHORT_BREAK_CHILDREN = 7.0  # children starting a series of short breaks
MISSER_SHARE = 0.30  # of children in care at 11+, share who go missing at some point
MISSING_RATE = 11.0  # mean missing/away episodes per year in care at 11+ for those who do
CIN_ONLY_CHILDREN = 1890.0  # children referred (not NFA) who do not become looked after
NFA_REFERRALS = 650.0
CIN_CP_SHARE = 0.16  # of CIN-only episodes with a child protection plan

DAY = 365.25
_EPOCH = np.datetime64("1970-01-01", "D")
_LOCAL_DISTRICTS = np.array(["TS16", "TS17", "TS18", "TS19", "TS20", "TS21", "TS22", "TS23"])
_OTHER_DISTRICTS = np.array(
    ["TS1", "TS3", "TS5", "TS7", "TS10", "TS24", "TS25", "DL1", "DL3", "DL14", "DH1", "SR2", "NE6", "YO21", "LS9", "M14"]
)
_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def write_demo_returns(
    out_dir, la_code: str = "E06000004", seed: int = 2025, start: str = "2016-04-01", end: str = "2025-09-30"
) -> list[Path]:
    """Write the six demo tables as CSV into ``out_dir`` (created if needed); return their paths.

    ``la_code`` is recorded nowhere in the files (903 and CIN extracts carry no LA code) but varies the
    random stream, so two demo LAs do not share children.
    """
    t_start, t_end = _day(start), _day(end)
    if t_end <= t_start:
        raise ParameterError(f"demo end {end} must be after start {start}")
    seeds = np.random.SeedSequence([int(seed), _code_number(la_code)])
    tables = _simulate(seeds, _day(pd.Timestamp(start) - pd.DateOffset(years=1)), t_end)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, name in FILES.items():
        path = out / name
        tables[kind].to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        paths.append(path)
    return paths


def ensure_demo_returns(out_dir=None) -> list[Path]:
    """The demo extract in ``config.DEMO_RETURNS_DIR`` (or ``out_dir``), written atomically if missing.

    The files are written to a temporary sibling folder that is then renamed into place, so a reader
    never sees a half-written extract and two processes racing both end with a complete one.
    """
    target = Path(config.DEMO_RETURNS_DIR if out_dir is None else out_dir)
    wanted = [target / name for name in FILES.values()]
    stamp = target / VERSION_FILE
    if all(p.is_file() for p in wanted) and stamp.is_file() and stamp.read_text().strip() == DEMO_VERSION:
        return wanted
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        write_demo_returns(tmp)
        (tmp / VERSION_FILE).write_text(DEMO_VERSION + "\n")
        if target.exists():  # incomplete: move it aside, then swap
            trash = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            try:
                os.replace(target, trash)
            except OSError:
                trash = None
            try:
                os.replace(tmp, target)
            finally:
                if trash is not None:
                    shutil.rmtree(trash, ignore_errors=True)
        else:
            try:
                os.replace(tmp, target)
            except OSError:
                if not all(p.is_file() for p in wanted):  # not another process's complete copy
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return wanted


# --- helpers -------------------------------------------------------------------------------------------


def _day(text) -> int:
    return int((np.datetime64(pd.Timestamp(text).date(), "D") - _EPOCH).astype(np.int64))


def _code_number(code: str) -> int:
    return int.from_bytes(str(code).encode("utf-8"), "big") % (2**31)


def _pick(rng, codes, weights, size) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return np.asarray(codes)[rng.choice(len(p), size=size, p=p / p.sum())]


def _pick_by(rng, group: np.ndarray, tables: dict, default=None) -> np.ndarray:
    """Draw a code per row from the distribution of the row's group (loop over groups, not rows)."""
    out = np.empty(len(group), dtype=object)
    if default is not None:
        out[:] = default
    for key, (codes, weights) in tables.items():
        mask = group == key
        if mask.any():
            out[mask] = _pick(rng, codes, weights, int(mask.sum()))
    return out


def _eighteenth(dob: np.ndarray) -> np.ndarray:
    d = pd.to_datetime(dob, unit="D") + pd.DateOffset(years=18)
    return ((d.to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64))


def _group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (groups are consecutive runs of length ``counts``)."""
    cs = np.cumsum(values)
    first = np.cumsum(counts) - counts
    base = np.repeat(cs[first] - values[first], counts)
    return cs - base


def _numbered(prefix: str, width: int, n: int, start: int = 1) -> np.ndarray:
    return (prefix + pd.Series(np.arange(start, start + n), dtype=np.int64).astype(str).str.zfill(width)).to_numpy(object)


def _fmt(days: np.ndarray, fmt: str, blank: np.ndarray | None = None) -> np.ndarray:
    d = np.asarray(days, dtype=np.int64)
    text = pd.to_datetime(np.where(blank, 0, d) if blank is not None else d, unit="D").strftime(fmt)
    text = np.array(text, dtype=object)
    if blank is not None:
        text[blank] = ""
    return text


def _postcodes(rng, n: int, local_share: float = 1.0) -> np.ndarray:
    local = rng.random(n) < local_share
    district = np.where(local, _LOCAL_DISTRICTS[rng.integers(0, len(_LOCAL_DISTRICTS), n)],
                        _OTHER_DISTRICTS[rng.integers(0, len(_OTHER_DISTRICTS), n)])
    sector = rng.integers(1, 10, n).astype(str)
    unit = _UNIT_LETTERS[rng.integers(0, len(_UNIT_LETTERS), n)].astype(object) + \
        _UNIT_LETTERS[rng.integers(0, len(_UNIT_LETTERS), n)].astype(object)
    return district.astype(object) + " " + sector.astype(object) + unit


def _upns(rng, n: int) -> np.ndarray:
    """UPN-shaped: check letter + LA 999 (no such LA) + establishment + year + serial."""
    digits = np.concatenate(
        [np.tile([9, 9, 9], (n, 1)), rng.integers(0, 10, (n, 9))], axis=1
    )
    weights = np.arange(2, 14)
    check = (digits * weights).sum(axis=1) % 23
    letters = np.array(list(_UPN_LETTERS))[check]
    number = digits @ (10 ** np.arange(11, -1, -1, dtype=np.int64))
    body = pd.Series(number, dtype=np.int64).astype(str).str.zfill(12).to_numpy(object)
    return letters.astype(object) + body


# --- simulation ----------------------------------------------------------------------------------------

_ENTRY_AGE = (  # age band (years from, to) and share of entries to care
    [(0, 1), (1, 5), (5, 10), (10, 16), (16, 18)],
    [0.20, 0.16, 0.18, 0.36, 0.10],
)
_REFERRAL_AGE = ([(0, 1), (1, 5), (5, 10), (10, 16), (16, 18)], [0.10, 0.20, 0.26, 0.34, 0.10])
_REC_AT_18 = (["E17", "E5", "E6", "E8", "E7"], [0.15, 0.40, 0.10, 0.30, 0.05])
_REC_BY_AGE = {
    "u5": (["E11", "E12", "E4A", "E45", "E46", "E47", "E48", "E41", "E8", "E3", "E2"],
           [0.20, 0.15, 0.25, 0.08, 0.02, 0.10, 0.02, 0.05, 0.08, 0.03, 0.02]),
    "5to15": (["E4A", "E4B", "E13", "E45", "E47", "E41", "E11", "E3", "E8", "E9", "E14", "E16"],
              [0.45, 0.05, 0.05, 0.05, 0.08, 0.08, 0.03, 0.04, 0.10, 0.03, 0.03, 0.01]),
    "16plus": (["E4A", "E4B", "E5", "E6", "E8", "E9", "E14", "E15", "E16", "E13"],
               [0.28, 0.04, 0.20, 0.08, 0.20, 0.06, 0.06, 0.04, 0.02, 0.02]),
}
_FIRST_LS = {
    "young": (["C1", "V2", "L2", "L1", "C2"], [0.45, 0.33, 0.08, 0.04, 0.10]),
    "teen": (["V2", "C1", "L1", "J1", "J2", "J3", "C2"], [0.48, 0.30, 0.05, 0.04, 0.03, 0.02, 0.08]),
}
_NEXT_LS = {"V2": "C1", "C1": "C2", "L1": "C1", "L2": "C1", "L3": "C1", "J1": "V2", "J2": "V2", "J3": "V2"}
_PLACE_BY_AGE = {
    "infant": (["U4", "U5", "U6", "U1", "U3", "R3", "P1", "T4"], [0.25, 0.05, 0.35, 0.05, 0.10, 0.08, 0.07, 0.05]),
    "child": (["U4", "U6", "U1", "U3", "U5", "U2", "P1", "K2", "T4", "Z1", "S1"],
              [0.35, 0.20, 0.12, 0.08, 0.05, 0.03, 0.08, 0.03, 0.03, 0.02, 0.01]),
    "teen": (["U4", "U6", "U1", "U3", "K2", "P1", "S1", "R1", "K1", "T4", "Z1", "R2", "H5"],
             [0.30, 0.15, 0.10, 0.05, 0.20, 0.06, 0.03, 0.02, 0.01, 0.03, 0.02, 0.01, 0.02]),
    "older": (["U4", "U6", "U1", "K2", "H5", "P2", "P1", "R5", "S1", "T4", "Z1"],
              [0.20, 0.08, 0.07, 0.15, 0.32, 0.05, 0.04, 0.03, 0.02, 0.02, 0.02]),
    "adoption": (["A3", "A4", "A5", "A6"], [0.10, 0.10, 0.35, 0.45]),
}
_PROVIDER = {
    "U": (["PR1", "PR4"], [0.65, 0.35]),
    "K": (["PR4", "PR1", "PR5"], [0.70, 0.25, 0.05]),
    "H": (["PR4", "PR1"], [0.80, 0.20]),
    "A": (["PR1", "PR2", "PR5"], [0.60, 0.20, 0.20]),
    "P1": (["PR0"], [1.0]),
    "P2": (["PR1", "PR4"], [0.6, 0.4]),
    "other": (["PR1", "PR3"], [0.5, 0.5]),
}
_PLACE_CHANGE = (
    ["CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO", "CHILD", "LAREQ", "PLACE", "CUSTOD", "OTHER"],
    [0.25, 0.05, 0.03, 0.10, 0.15, 0.12, 0.08, 0.07, 0.08, 0.05, 0.01, 0.01],
)
_CATEGORY_OF_NEED = (["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"], [0.62, 0.04, 0.04, 0.14, 0.06, 0.02, 0.02, 0.06])
_ETHNIC = (
    ["WBRI", "WOTH", "WIRT", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "APKN", "AIND", "ABAN", "AOTH",
     "BAFR", "BCRB", "BOTH", "CHNE", "OOTH", "REFU"],
    [0.855, 0.02, 0.002, 0.003, 0.02, 0.008, 0.008, 0.015, 0.025, 0.005, 0.002, 0.008, 0.012, 0.002, 0.002,
     0.002, 0.008, 0.003],
)
_REFERRAL_SOURCE = (
    ["6", "2A", "3A", "3B", "3E", "5A", "1A", "8", "4", "7", "9", "1C"],
    [0.30, 0.20, 0.05, 0.05, 0.05, 0.12, 0.08, 0.05, 0.03, 0.03, 0.02, 0.02],
)
_ABUSE = (["NEG", "EMO", "PHY", "SAB", "MUL"], [0.50, 0.35, 0.08, 0.04, 0.03])
_CLOSURE_FROM_REC = {"E11": "RC1", "E12": "RC1", "E2": "RC2", "E41": "RC3", "E45": "RC4", "E46": "RC4",
                     "E47": "RC4", "E48": "RC4", "E3": "RC5", "E7": "RC6"}


def _ages(rng, bands, n):
    spans, weights = bands
    k = rng.choice(len(spans), size=n, p=np.asarray(weights) / np.sum(weights))
    lo = np.array([s[0] for s in spans])[k]
    hi = np.array([s[1] for s in spans])[k]
    return ((lo + rng.random(n) * (hi - lo)) * DAY).astype(np.int64)


def _cla_periods(rng, t0, t_end):
    """Periods of care: child index, start, end, ended at 18, DOB, final REC; with re-entries."""
    n = rng.poisson(CLA_FIRST_ENTRIES * (t_end - t0) / DAY)
    start = np.sort(rng.integers(t0, t_end + 1, n))
    dob = start - _ages(rng, _ENTRY_AGE, n)
    b18 = _eighteenth(dob)

    def durations(k):
        short = rng.random(k) < 0.32
        return np.where(short, 7 + rng.exponential(110, k), 60 + rng.exponential(1700, k)).astype(np.int64)

    planned = start + durations(n)
    end = np.minimum(planned, b18)
    at18 = planned >= b18
    age_end = (end - dob) / DAY
    band = np.where(age_end < 5, "u5", np.where(age_end < 16, "5to15", "16plus"))
    rec = np.where(at18, _pick(rng, *_REC_AT_18, n), _pick_by(rng, band, _REC_BY_AGE))

    home = np.isin(rec, ["E4A", "E4B", "E13", "E8"]) & ~at18
    again = home & (rng.random(n) < REENTRY_SHARE) & (b18 - end > 400)
    idx = np.flatnonzero(again)
    start2 = end[idx] + 14 + rng.exponential(220, len(idx)).astype(np.int64)
    ok = start2 < np.minimum(b18[idx] - 60, t_end)
    idx, start2 = idx[ok], start2[ok]
    planned2 = start2 + durations(len(idx))
    end2 = np.minimum(planned2, b18[idx])
    at18_2 = planned2 >= b18[idx]
    age_end2 = (end2 - dob[idx]) / DAY
    band2 = np.where(age_end2 < 5, "u5", np.where(age_end2 < 16, "5to15", "16plus"))
    rec2 = np.where(at18_2, _pick(rng, *_REC_AT_18, len(idx)), _pick_by(rng, band2, _REC_BY_AGE))
    periods = pd.DataFrame(
        {
            "child": np.concatenate([np.arange(n), idx]),
            "start": np.concatenate([start, start2]),
            "end": np.concatenate([end, end2]),
            "at18": np.concatenate([at18, at18_2]),
            "rec": np.concatenate([rec, rec2]).astype(object),
        }
    )
    periods = periods.sort_values(["child", "start"], kind="stable").reset_index(drop=True)
    children = pd.DataFrame({"dob": dob, "b18": b18})
    return periods, children


def _cla_episodes(rng, periods, children, t_end):
    """Split each period into an episode chain and give every episode its codes."""
    n = len(periods)
    pstart, pend = periods["start"].to_numpy(), periods["end"].to_numpy()
    years = (np.minimum(pend, t_end) - pstart) / DAY
    k = 1 + np.minimum(rng.poisson(np.clip(years, 0, None) * 0.85), 14)
    pid = np.repeat(np.arange(n), k - 1)
    cut = pstart[pid] + (rng.random(len(pid)) * (pend[pid] - pstart[pid])).astype(np.int64)
    cuts = pd.DataFrame({"pid": pid, "day": cut})
    cuts = cuts[(cuts["day"] > pstart[cuts["pid"]]) & (cuts["day"] < pend[cuts["pid"]])]
    cuts = cuts.drop_duplicates().sort_values(["pid", "day"])
    eps = pd.concat([pd.DataFrame({"pid": np.arange(n), "day": pstart}), cuts]).sort_values(["pid", "day"], kind="stable")
    eps = eps.reset_index(drop=True)
    eps["first"] = ~eps["pid"].duplicated()
    eps["last"] = ~eps["pid"].duplicated(keep="last")
    nxt = eps["day"].shift(-1)
    eps["dec"] = np.where(eps["last"], pend[eps["pid"]], nxt.fillna(0).astype(np.int64))
    m = len(eps)
    child = periods["child"].to_numpy()[eps["pid"]]
    dob = children["dob"].to_numpy()[child]
    age = (eps["day"].to_numpy() - dob) / DAY

    rne = np.where(eps["first"], "S", _pick(rng, ["P", "L", "T", "U", "B"], [0.55, 0.15, 0.15, 0.10, 0.05], m)).astype(object)
    # legal status: a first status per period, then one step along _NEXT_LS per legal status change
    first_age = age[eps["first"].to_numpy()]
    ls0 = _pick_by(rng, np.where(first_age < 10, "young", "teen"), _FIRST_LS)
    status = np.repeat(ls0, np.bincount(eps["pid"], minlength=n)).astype(object)
    changes = np.isin(rne, ["L", "U", "B"]) & ~eps["first"].to_numpy()
    steps = _group_cumsum(changes.astype(np.int64), np.bincount(eps["pid"], minlength=n))
    young = age < 10
    for step in range(1, int(steps.max(initial=0)) + 1):
        move = steps >= step
        nxt_ls = pd.Series(status[move]).map(_NEXT_LS).to_numpy(object)
        c2_young = (status[move] == "C2") & young[move]
        nxt_ls = np.where(c2_young, "E1", nxt_ls)
        nxt_ls = np.where(pd.isna(nxt_ls), status[move], nxt_ls)
        status[move] = nxt_ls
    prev_status = pd.Series(status).groupby(eps["pid"].to_numpy()).shift().to_numpy(object)
    same = changes & (status == prev_status)
    rne[same] = "P"  # no further status to move to: a placement change instead

    moves = rne != "L"
    band = np.select([age < 1, age < 10, age < 16], ["infant", "child", "teen"], "older").astype(object)
    adopt = (status == "E1") & (age < 10) & (rng.random(m) < 0.65)
    band[adopt] = "adoption"
    place = _pick_by(rng, band, _PLACE_BY_AGE)
    group = np.select(
        [pd.Series(place).str[0].to_numpy() == "U", np.isin(place, ["K1", "K2", "S1", "R1"]), place == "H5",
         pd.Series(place).str[0].to_numpy() == "A", place == "P1", place == "P2"],
        ["U", "K", "H", "A", "P1", "P2"], "other",
    ).astype(object)
    provider = _pick_by(rng, group, _PROVIDER)
    urn_needed = np.isin(place, ["K1", "K2", "S1", "R1"]) | ((group == "U") & (provider == "PR4"))
    urn = np.where(urn_needed, "SC" + pd.Series(rng.integers(0, 10**6, m)).astype(str).str.zfill(6).to_numpy(object), "XXXXXXX")
    pl_post = _postcodes(rng, m, local_share=0.72)  # placed with parents (P1): the home postcode, set later
    placement = pd.DataFrame({"PLACE": place, "PLACE_PROVIDER": provider, "URN": urn, "PL_POST": pl_post})
    placement[~moves] = None  # legal status only: placement carries over
    placement = placement.groupby(eps["pid"].to_numpy()).ffill()
    change_reason = np.where(np.isin(rne, ["P", "T", "U", "B"]), _pick(rng, *_PLACE_CHANGE, m), "")
    cin = np.repeat(_pick(rng, *_CATEGORY_OF_NEED, n), np.bincount(eps["pid"], minlength=n))
    rec = np.where(eps["last"], periods["rec"].to_numpy()[eps["pid"]], "X1")
    return pd.DataFrame(
        {
            "child": child, "pid": eps["pid"].to_numpy(), "start": eps["day"].to_numpy(), "end": eps["dec"].to_numpy(),
            "RNE": rne, "LS": status, "CIN": cin, "PLACE": placement["PLACE"].to_numpy(object),
            "PLACE_PROVIDER": placement["PLACE_PROVIDER"].to_numpy(object), "REC": rec.astype(object),
            "REASON_PLACE_CHANGE": change_reason.astype(object),
            "PL_POST": placement["PL_POST"].to_numpy(object), "URN": placement["URN"].to_numpy(object),
        }
    )


def _short_breaks(rng, t0, t_end):
    n = rng.poisson(SHORT_BREAK_CHILDREN * (t_end - t0) / DAY)
    s0 = np.sort(rng.integers(t0, t_end + 1, n))
    dob = s0 - ((5 + rng.random(n) * 11) * DAY).astype(np.int64)
    b18 = _eighteenth(dob)
    stop = np.minimum(s0 + ((1 + rng.random(n) * 3) * DAY).astype(np.int64), b18 - 1)
    v4 = rng.random(n) < 0.3
    nb = np.where(v4, 1, (stop - s0) // 26 + 1)
    owner = np.repeat(np.arange(n), nb)
    gaps = np.where(np.repeat(v4, nb), 0, 20 + rng.integers(0, 13, len(owner)))
    gaps[np.cumsum(nb) - nb] = 0
    day = s0[owner] + _group_cumsum(gaps, nb)
    length = np.where(v4[owner], stop[owner] - s0[owner], 2 + rng.integers(0, 2, len(owner)))
    keep = day < stop[owner]
    owner, day, length = owner[keep], day[keep], length[keep]
    m = len(owner)
    place = np.where(v4[owner], "K2", _pick(rng, ["K2", "U4", "U6"], [0.6, 0.25, 0.15], m)).astype(object)
    eps = pd.DataFrame(
        {
            "child": owner, "start": day, "end": day + length, "RNE": "S",
            "LS": np.where(v4[owner], "V4", "V3").astype(object), "CIN": "N2", "PLACE": place,
            "PLACE_PROVIDER": "PR1",
            "REC": np.where(v4[owner], "E8", "E4A").astype(object), "REASON_PLACE_CHANGE": "",
            "PL_POST": _postcodes(rng, m), "URN": np.where(place == "K2", "SC" + pd.Series(
                rng.integers(0, 10**6, m)).astype(str).str.zfill(6).to_numpy(object), "XXXXXXX"),
        }
    )
    return eps, pd.DataFrame({"dob": dob, "b18": b18})


def _missing(rng, periods, children, t_end):
    """Missing (M) and away (A) episodes while in care aged 11+."""
    child = periods["child"].to_numpy()
    dob = children["dob"].to_numpy()[child]
    lo = np.maximum(periods["start"].to_numpy(), _eighteenth(dob) - int(7 * DAY))  # 11th birthday (approx.)
    hi = np.minimum(periods["end"].to_numpy(), t_end)
    span = np.clip(hi - lo, 0, None)
    misser = (span > 0) & (rng.random(len(periods)) < MISSER_SHARE)
    rate = rng.gamma(1.5, MISSING_RATE / 1.5, len(periods)) * misser
    k = rng.poisson(rate * span / DAY)
    owner = np.repeat(np.arange(len(periods)), k)
    start = lo[owner] + (rng.random(len(owner)) * span[owner]).astype(np.int64)
    u = rng.random(len(owner))
    length = np.select([u < 0.55, u < 0.80, u < 0.92], [0, 1, 2 + rng.integers(0, 2, len(owner))],
                       4 + rng.integers(0, 17, len(owner)))
    return pd.DataFrame(
        {
            "child": child[owner], "start": start, "end": start + length,
            "MISSING": _pick(rng, ["M", "A"], [0.88, 0.12], len(owner)).astype(object),
        }
    ).sort_values(["child", "start"], kind="stable")


def _cin_for_cla(rng, eps, children, sb=False):
    """One CIN episode per looked-after child, spanning all care; CP plans before some entries."""
    g = eps.groupby("child", sort=True)
    first, last = g["start"].min(), g["end"].max()
    rec = g["REC"].last()
    child = first.index.to_numpy()
    n = len(child)
    lead = np.where(rng.random(n) < 0.45, rng.integers(0, 30, n), rng.integers(30, 400, n))
    # a referral at most 280 days before birth (DfE CIN rule 8606: an unborn child is referred in pregnancy)
    lead = np.minimum(lead, np.maximum(first.to_numpy() - children["dob"].to_numpy()[child] + 280, 0))
    referral = first.to_numpy() - lead
    b18 = children["b18"].to_numpy()[child]
    at18 = last.to_numpy() >= b18 - 1
    closure = np.where(at18, last.to_numpy(), last.to_numpy() + rng.integers(0, 120, n))
    reason = pd.Series(rec.to_numpy()).map(_CLOSURE_FROM_REC).fillna("RC7").to_numpy(object)
    cin = pd.DataFrame({"child": child, "start": referral, "end": closure, "ReasonForClosure": reason,
                        "PrimaryNeedCode": "N2" if sb else _pick(rng, *_CATEGORY_OF_NEED, n), "nfa": False})
    if sb:
        return cin, cin.iloc[:0].assign(cpp_start=0, cpp_end=0)
    with_cp = (lead > 60) & (rng.random(n) < 0.45)
    cpp_start = referral + 10 + (rng.random(n) * np.minimum(30, lead - 40)).astype(np.int64)
    cps = cin[with_cp].assign(cpp_start=cpp_start[with_cp], cpp_end=first.to_numpy()[with_cp])
    return cin, cps


def _cin_only(rng, t0, t_end):
    """Children in need who are never looked after: 1-4 episodes each, some with a CP plan."""
    n = rng.poisson(CIN_ONLY_CHILDREN * (t_end - t0) / DAY / 1.3)  # 1.3 episodes per child on average
    first = np.sort(rng.integers(t0, t_end + 1, n))
    age = _ages(rng, _REFERRAL_AGE, n)
    unborn = rng.random(n) < 0.04
    dob = np.where(unborn, first + rng.integers(20, 200, n), first - age)
    b18 = _eighteenth(dob)
    k = 1 + np.minimum(rng.geometric(0.77, n) - 1, 3)
    owner = np.repeat(np.arange(n), k)
    m = len(owner)
    cp = rng.random(m) < CIN_CP_SHARE
    u = rng.random(m)
    plain = np.select([u < 0.28, u < 0.86], [20 + rng.integers(0, 45, m), 30 + rng.exponential(260, m)],
                      180 + rng.exponential(1000, m)).astype(np.int64)
    cpp_offset = 14 + rng.integers(0, 50, m)
    cpp_length = (20 + rng.gamma(2.0, 150, m)).astype(np.int64)
    tail = 30 + rng.integers(0, 210, m)
    length = np.where(cp, cpp_offset + cpp_length + tail, plain)
    gap = np.where(np.arange(m) == np.repeat(np.cumsum(k) - k, k), 0, 60 + rng.exponential(300, m).astype(np.int64))
    offset = _group_cumsum(gap + np.concatenate([[0], length[:-1]]) * (gap > 0), k)
    start = first[owner] + offset
    end = start + length
    cap = b18[owner] - 1
    keep = start < cap - 30
    end = np.minimum(end, cap)
    reason = np.where(u < 0.28, "RC8", _pick(rng, ["RC7", "RC5", "RC6", "RC3", "RC4", "RC2"],
                                              [0.86, 0.05, 0.02, 0.03, 0.035, 0.005], m)).astype(object)
    reason[cp] = "RC7"
    cin = pd.DataFrame({"child": owner, "start": start, "end": end, "ReasonForClosure": reason,
                        "PrimaryNeedCode": _pick(rng, *_CATEGORY_OF_NEED, m), "nfa": False,
                        "cp": cp, "cpp_start": start + cpp_offset, "cpp_end": start + cpp_offset + cpp_length})[keep]
    cin["cpp_end"] = np.minimum(cin["cpp_end"], cin["end"])
    cps = cin[cin["cp"] & (cin["cpp_start"] < cin["cpp_end"])].drop(columns="cp")
    return cin.drop(columns=["cp", "cpp_start", "cpp_end"]), cps, pd.DataFrame({"dob": dob, "b18": b18})


def _nfa(rng, t0, t_end):
    n = rng.poisson(NFA_REFERRALS * (t_end - t0) / DAY)
    day = np.sort(rng.integers(t0, t_end + 1, n))
    dob = day - _ages(rng, _REFERRAL_AGE, n)
    cin = pd.DataFrame({"child": np.arange(n), "start": day, "end": day, "ReasonForClosure": "RC8",
                        "PrimaryNeedCode": "", "nfa": True})
    return cin, pd.DataFrame({"dob": dob, "b18": _eighteenth(dob)})


def _simulate(seeds: np.random.SeedSequence, cover_start: int, t_end: int) -> dict[str, pd.DataFrame]:
    # one independent random stream per component, so tuning one part leaves the others unchanged
    streams = [np.random.default_rng(s) for s in seeds.spawn(9)]
    t0 = cover_start - int(BURN_IN_YEARS * DAY)
    periods, cla_children = _cla_periods(streams[0], t0, t_end)
    cla_eps = _cla_episodes(streams[1], periods, cla_children, t_end)
    sb_eps, sb_children = _short_breaks(streams[2], t0, t_end)
    missing = _missing(streams[3], periods, cla_children, t_end)
    cin_cla, cp_cla = _cin_for_cla(streams[4], cla_eps, cla_children)
    cin_sb, _ = _cin_for_cla(streams[5], sb_eps, sb_children, sb=True)
    cin_only, cp_only, only_children = _cin_only(streams[6], t0, t_end)
    cin_nfa, nfa_children = _nfa(streams[7], t0, t_end)
    rng = streams[8]

    # one table of children across the four populations: (population, local index) -> global id
    pops = {"cla": cla_children, "sb": sb_children, "cin": only_children, "nfa": nfa_children}
    offsets, total = {}, 0
    for name, frame in pops.items():
        offsets[name] = total
        total += len(frame)
    dob = np.concatenate([pops[p]["dob"].to_numpy() for p in pops])

    def glob(frame, pop):
        return frame.assign(child=frame["child"].to_numpy() + offsets[pop])

    episodes = pd.concat([glob(cla_eps.drop(columns="pid"), "cla"), glob(sb_eps, "sb")], ignore_index=True)
    missing = glob(missing, "cla")
    cin = pd.concat([glob(cin_cla, "cla"), glob(cin_sb, "sb"), glob(cin_only, "cin"), glob(cin_nfa, "nfa")],
                    ignore_index=True)
    cp = pd.concat([glob(cp_cla, "cla"), glob(cp_only, "cin")], ignore_index=True)

    def window(frame, start_col="start", end_col="end"):
        return frame[(frame[end_col] >= cover_start) & (frame[start_col] <= t_end)].copy()

    episodes = window(episodes)
    missing = missing[(missing["start"] >= cover_start) & (missing["start"] <= t_end)].copy()
    cin = window(cin)
    cp = window(cp, "cpp_start", "cpp_end")

    # identifiers in order of first appearance in the extract
    first_seen = pd.concat(
        [episodes[["child", "start"]], cin[["child", "start"]]], ignore_index=True
    ).groupby("child")["start"].min()
    order = first_seen.reset_index().sort_values(["start", "child"], kind="stable")["child"].to_numpy()
    ident = np.full(total, -1, dtype=np.int64)
    ident[order] = np.arange(1, len(order) + 1)
    ids = _numbered("DEMO", 6, len(order) + 1, start=0)

    sex = rng.choice(["1", "2"], size=total, p=[0.54, 0.46]).astype(object)
    ethnic = _pick(rng, *_ETHNIC, total)
    upn = _upns(rng, total)
    home = _postcodes(rng, total)

    def name(child):
        return ids[ident[np.asarray(child)]]

    # --- 903 ---------------------------------------------------------------------------------------
    episodes = episodes.assign(key=ident[episodes["child"].to_numpy()]).sort_values(["key", "start"], kind="stable")
    open_ep = episodes["end"] > t_end
    ep_out = pd.DataFrame(
        {
            "CHILD": name(episodes["child"]),
            "DECOM": _fmt(episodes["start"].to_numpy(), "%d/%m/%Y"),
            "RNE": episodes["RNE"].to_numpy(object), "LS": episodes["LS"].to_numpy(object),
            "CIN": episodes["CIN"].to_numpy(object), "PLACE": episodes["PLACE"].to_numpy(object),
            "PLACE_PROVIDER": episodes["PLACE_PROVIDER"].to_numpy(object),
            "DEC": _fmt(episodes["end"].to_numpy(), "%d/%m/%Y", open_ep.to_numpy()),
            "REC": np.where(open_ep, "", episodes["REC"].to_numpy(object)),
            "REASON_PLACE_CHANGE": episodes["REASON_PLACE_CHANGE"].to_numpy(object),
            "HOME_POST": home[episodes["child"].to_numpy()],
            "PL_POST": np.where(episodes["PLACE"].to_numpy(object) == "P1", home[episodes["child"].to_numpy()],
                                episodes["PL_POST"].to_numpy(object)),
            "URN": episodes["URN"].to_numpy(object),
        }
    )
    in_care = np.unique(episodes["child"].to_numpy())
    in_care = in_care[np.argsort(ident[in_care])]
    is_girl = sex[in_care] == "2"
    age_at_end = (t_end - dob[in_care]) / DAY
    mother = is_girl & (age_at_end > 15) & (rng.random(len(in_care)) < 0.04)
    mc_dob = t_end - rng.integers(30, 700, len(in_care))
    header = pd.DataFrame(
        {
            "CHILD": name(in_care), "SEX": sex[in_care], "DOB": _fmt(dob[in_care], "%d/%m/%Y"),
            "ETHNIC": ethnic[in_care],
            "UPN": np.where(age_at_end >= 5, upn[in_care], "UN1"),
            "MOTHER": np.where(is_girl, np.where(mother, "1", "0"), ""),
            "MC_DOB": _fmt(mc_dob, "%d/%m/%Y", ~mother),
        }
    )
    missing = missing.assign(key=ident[missing["child"].to_numpy()]).sort_values(["key", "start"], kind="stable")
    m_open = missing["end"].to_numpy() > t_end
    mis_out = pd.DataFrame(
        {
            "CHILD": name(missing["child"]), "DOB": _fmt(dob[missing["child"].to_numpy()], "%d/%m/%Y"),
            "MISSING": missing["MISSING"].to_numpy(object),
            "MIS_START": _fmt(missing["start"].to_numpy(), "%d/%m/%Y"),
            "MIS_END": _fmt(missing["end"].to_numpy(), "%d/%m/%Y", m_open),
        }
    ).drop_duplicates(ignore_index=True)  # two random episodes on the same days would be one episode recorded twice

    # --- CIN census -----------------------------------------------------------------------------------
    cin["key"] = ident[cin["child"].to_numpy()]
    cin = cin.sort_values(["key", "start"], kind="stable").reset_index(drop=True)
    cin["CINdetailsID"] = _numbered("CIN", 7, len(cin))
    c_open = cin["end"].to_numpy() > t_end
    cp = cp.merge(cin[["child", "start", "CINdetailsID"]], on=["child", "start"], how="left")
    cp["key"] = ident[cp["child"].to_numpy()]
    cp = cp.sort_values(["key", "cpp_start"], kind="stable").reset_index(drop=True)
    p_open = cp["cpp_end"].to_numpy() > t_end
    icpc = cp.groupby("CINdetailsID")["cpp_start"].min()
    icpc_day = cin["CINdetailsID"].map(icpc)
    cin_out = pd.DataFrame(
        {
            "LAchildID": name(cin["child"]), "CINdetailsID": cin["CINdetailsID"].to_numpy(object),
            "CINreferralDate": _fmt(cin["start"].to_numpy(), "%Y-%m-%d"),
            "ReferralSource": _pick(rng, *_REFERRAL_SOURCE, len(cin)),
            "PrimaryNeedCode": cin["PrimaryNeedCode"].to_numpy(object),
            "CINclosureDate": _fmt(cin["end"].to_numpy(), "%Y-%m-%d", c_open),
            "ReasonForClosure": np.where(c_open, "", cin["ReasonForClosure"].to_numpy(object)),
            "DateOfInitialCPC": _fmt(icpc_day.fillna(0).to_numpy(np.int64), "%Y-%m-%d",
                                     (icpc_day.isna() | (icpc_day > t_end)).to_numpy()),
            "ReferralNFA": np.where(cin["nfa"].to_numpy(bool), "1", "0"),
        }
    )
    previous = cp.groupby("child").cumcount().to_numpy()
    initial = _pick(rng, *_ABUSE, len(cp))
    cp_out = pd.DataFrame(
        {
            "LAchildID": name(cp["child"]), "CINdetailsID": cp["CINdetailsID"].to_numpy(object),
            "CPPID": _numbered("CPP", 7, len(cp)),
            "CPPstartDate": _fmt(cp["cpp_start"].to_numpy(), "%Y-%m-%d"),
            "CPPendDate": _fmt(cp["cpp_end"].to_numpy(), "%Y-%m-%d", p_open),
            "InitialCategoryOfAbuse": initial,
            "LatestCategoryOfAbuse": np.where(rng.random(len(cp)) < 0.9, initial, _pick(rng, *_ABUSE, len(cp))),
            "NumberOfPreviousCPP": previous.astype(str),
        }
    )
    known = np.unique(cin["child"].to_numpy())
    known = known[np.argsort(ident[known])]
    born = dob[known] <= t_end
    cin_children = pd.DataFrame(
        {
            "LAchildID": name(known),
            "UPN": np.where(born & ((t_end - dob[known]) / DAY >= 5), upn[known], ""),
            "FormerUPN": "",
            "UPNunknown": np.where(born & ((t_end - dob[known]) / DAY >= 5), "", np.where(born, "UN1", "UN2")),
            "PersonBirthDate": _fmt(dob[known], "%Y-%m-%d", ~born),
            "ExpectedPersonBirthDate": _fmt(dob[known], "%Y-%m-%d", born),
            "GenderCurrent": np.where(born, sex[known], "0"),
            "PersonDeathDate": "",
            "Ethnicity": np.where(born, ethnic[known], "NOBT"),
            "PostCode": home[known],
        }
    )
    return {
        "header": header, "episodes": ep_out, "missing": mis_out,
        "cin_children": cin_children, "cin_details": cin_out, "cp_plans": cp_out,
    }


__all__ = ["write_demo_returns", "ensure_demo_returns", "FILES"]
