"""Speed and memory of the record-level counts on a national-scale extract, against a per-child Python loop.

The extract: a synthetic SSDA903 + CIN census extract for all of England, seeded and deterministic, covering
01/04/2014-31/03/2025. By default that is about 1,000,000 903 episodes of about 325,000 children (episode chains
with placement and legal-status changes, returns to care, care ending at 18 and a few records running past it,
V3/V4 short breaks), their header rows, about 1,000,000 missing/away episodes (about 13% of the children looked
after in a year go missing, several times each) and a CIN census of about 2,000,000 CIN episodes of about 1.8
million children (every looked-after child, children in need only, no-further-action referrals, unborn children)
with about 260,000 child protection plans. The code distributions and rates follow :mod:`analysis.demo.returns`,
scaled up. The exact sizes are printed.

The tables are built *already parsed*, in exactly the layout :func:`analysis.read.returns.read_returns` gives (dates
``datetime64[ns]``, NaT for blank; codes as ``str``; ``ReferralNFA`` bool plus ``_raw_ReferralNFA``; ``_file`` and
``_line`` columns), and put into a :class:`analysis.read.returns.Returns` directly (15-20 s at the default size).
Going through :func:`analysis.read.returns.returns_from_frames` instead took, at the default size on a 2-core machine,
7 s to format the tables as text and 39 s to validate and parse them, so it is left to ``--via-text`` (which
then times it and counts on its result). To show the layout is the real one, every run writes the sample (below)
out as text and reads it back through ``returns_from_frames``: the result must equal the sample frame for frame,
with no warnings (codes valid, no overlapping episodes, no orphan rows).

Measured:

1. ``record_counts_many(returns, every quarter end 2015Q1-2024Q4 (40 dates), "E92000001")``, all ten measures:
   best of 3 wall-clock seconds; episodes per second; peak memory as ``tracemalloc``'s peak traced memory in a
   separate run (memory the call allocated beyond the extract) and as the process's peak RSS
   (``resource.getrusage(...).ru_maxrss``) before and after the timed runs. Building the extract has a higher
   peak than the counts, so freed heap is handed back (glibc ``malloc_trim``) and the peak RSS reset to the
   resident size (``/proc/self/clear_refs``, Linux) before the timed runs where the system allows it; then
   "after" is the peak of the counts themselves.
2. The baseline: a straightforward per-child Python loop (for each child, for each of their episodes, for each
   date) computing ``cla_at`` and ``cin_at`` with the same definitions (an episode is open on ``d`` when
   DECOM <= d < DEC or DEC is blank; V3/V4 left out; children aged 18 or over on ``d`` left out; CIN episodes
   open on ``d`` with no-further-action referrals left out), reading the records from the same tables, on a
   random sample of children (every record of each sampled child), and ``record_counts_many`` on the same
   sample. The counts must be equal on every date (asserted: a correctness cross-check; nothing asserts on
   time). Printed: seconds per child for each, their ratio, the loop's time extrapolated to every child in the
   extract, and that against the measured full-scale time. The ratios flatter the loop: it computes 2 measures,
   ``record_counts_many`` all 10. The extrapolation is linear, and the loop slows per child at full scale (on
   the default extract, on a 2-core machine, it took 37 s: 2.5 times the 15 s extrapolated from the sample);
   ``--full-loop`` also runs it on every child, timed and checked.

3. Reading the 903 from XML: the extract's header, episodes and missing tables written as one ``EXPSSDA903`` file
   (DfE's layout; about 1,000,000 episodes at the default size) and read by ``read_returns`` in a fresh process
   (seconds; CPU seconds of that process and of the process it forks to read the second half of a large file, and
   the peak RSS of each; with ``--trace`` the tracemalloc peak), against the same tables as CSV files read the same
   way (the baseline, measured in the same run); the ratios are printed. ``--xml-only`` runs just this part.
   On this project's 2-core machine, shared with other work (2026-12-02, load average 4-5), the 1,003,405-episode
   file (416 MiB) was read in 24.5 s (CPU 9.9 s, and 5.0 s in the forked process), peak RSS 757 MiB (the forked
   process 347 MiB, the pages it shares with its parent included), against 15.7 s (CPU 8.5 s) and 965 MiB for the
   CSV files. The code before the reader was reworked, run on the same files in the same conditions (fresh
   processes, old and new code alternating, load average 4-5.6): XML 45-56 s, CPU 22.9 s, 1,120 MiB (new: 28-45 s,
   CPU 9.3-9.9 s + 4.6-4.9 s, 781 MiB); CSV 24-49 s, CPU 12.2-13.7 s (new: 20-24 s, CPU 9.6-9.9 s). Wall-clock
   seconds on a shared machine follow its load; CPU seconds much less so.

Usage: python benchmarks/bench_records.py [--episodes N] [--cin-episodes N] [--sample N] [--seed N]
                                          [--full-loop] [--via-text] [--xml-only]
       (defaults: 1,000,000 episodes, CIN episodes twice the episodes, 2,000 sampled children, seed 2025)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.demo.returns import (  # noqa: E402  (the demo's code distributions, so the extract looks alike)
    _ABUSE,
    _CATEGORY_OF_NEED,
    _CLOSURE_FROM_REC,
    _ENTRY_AGE,
    _ETHNIC,
    _FIRST_LS,
    _NEXT_LS,
    _PLACE_BY_AGE,
    _PLACE_CHANGE,
    _PROVIDER,
    _REC_AT_18,
    _REC_BY_AGE,
    _REFERRAL_AGE,
    _REFERRAL_SOURCE,
    FILES,
    _postcodes,
    _upns,
)
from analysis.read.records import quarter_ends, record_counts_many  # noqa: E402
from analysis.read.returns import SHORT_BREAK_LEGAL_STATUSES, Returns, returns_from_frames  # noqa: E402

LA_CODE = "E92000001"  # England
FIRST_QUARTER, LAST_QUARTER = "2015Q1", "2024Q4"  # 30/06/2015 ... 31/03/2025: 40 quarter ends
COVER_START, EXTRACT_END = "2014-04-01", "2025-03-31"  # a year's lead-in for the rolling 12-month measures
BURN_IN_YEARS = 12  # simulate from this long before the extract so the stock in care is settled
DAY = 365.25
EPOCH = np.datetime64("1970-01-01", "D")

# Per year, per 1,000,000 episodes in the extract (calibrated on seed 2025; the demo's proportions).
CLA_FIRST_ENTRIES = 23_400.0  # children entering care for the first time
SHORT_BREAK_CHILDREN = 280.0  # children starting a series of short breaks (V3 breaks or one V4 agreement)
# Per year, per 1,000,000 CIN episodes not of looked-after children.
CIN_ONLY_CHILDREN = 65_500.0  # children referred (not NFA) who are never looked after
NFA_REFERRALS = 22_300.0  # referrals with no further action
REENTRY_SHARE = 0.13  # of periods of care ending in a return home, share followed by another period
MISSER_SHARE = 0.30  # of periods of care at 11+, share in which the child goes missing
MISSING_RATE = 11.0  # mean missing/away episodes per year in care at 11+ for those who do
CIN_CP_SHARE = 0.16  # of CIN-only episodes with a child protection plan
HOME_RECS = ("E4A", "E4B", "E13", "E8")
PAST_18_SHARE = 0.05  # of periods of care ending at 18, share whose record runs on past the birthday
LEAD_IN_DAYS = 400  # longest wait from a CIN referral to entering care


# --- building the extract ------------------------------------------------------------------------------


def _day(text) -> int:
    return int((np.datetime64(text, "D") - EPOCH).astype(np.int64))


def _eighteenth(dob: np.ndarray) -> np.ndarray:
    """18th birthday (day numbers); 29 February births turn 18 on 1 March in a non-leap year."""
    d = EPOCH + np.asarray(dob, dtype=np.int64)
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    return ((month + 216).astype("datetime64[D]") - EPOCH).astype(np.int64) + day_of_month


def _pick(rng, codes, weights, size) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return np.asarray(codes, dtype=object)[rng.choice(len(p), size=size, p=p / p.sum())]


def _pick_by(rng, group: np.ndarray, tables: dict) -> np.ndarray:
    out = np.empty(len(group), dtype=object)
    for key, (codes, weights) in tables.items():
        mask = group == key
        if mask.any():
            out[mask] = _pick(rng, codes, weights, int(mask.sum()))
    return out


def _ages(rng, bands, n) -> np.ndarray:
    spans, weights = bands
    k = rng.choice(len(spans), size=n, p=np.asarray(weights) / np.sum(weights))
    lo = np.array([s[0] for s in spans])[k]
    hi = np.array([s[1] for s in spans])[k]
    return ((lo + rng.random(n) * (hi - lo)) * DAY).astype(np.int64)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash table is far slower on millions of ints in numpy >= 2.3)."""
    out = np.sort(values)
    return out[_group_start(out)] if len(out) else out


def _group_start(group: np.ndarray) -> np.ndarray:
    """True where a sorted group array starts a new run."""
    out = np.ones(len(group), dtype=bool)
    out[1:] = group[1:] != group[:-1]
    return out


def _group_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting where ``starts`` is True."""
    cs = np.cumsum(values)
    base = (cs - values)[np.maximum.accumulate(np.where(starts, np.arange(len(values)), 0))]
    return cs - base


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded numbers, as an object array of str (fast: no Python loop)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = ((numbers[:, None] // powers) % 10 + 48).astype(np.uint8)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    raw = np.concatenate([np.broadcast_to(head, (len(numbers), len(head))), digits], axis=1)
    return np.ascontiguousarray(raw).view(f"S{raw.shape[1]}").ravel().astype("U").astype(object)


def _cla_periods(rng, t0, t_end, rate):
    """Periods of care (child, start, end, REC) with returns to care; children's DOB and 18th birthday."""
    n = rng.poisson(rate * (t_end - t0) / DAY)
    first = rng.integers(t0, t_end + 1, n)
    dob = first - _ages(rng, _ENTRY_AGE, n)
    b18 = _eighteenth(dob)
    parts = []
    child, start = np.arange(n), first
    for _ in range(3):  # a first period and up to two returns to care
        k = len(child)
        short = rng.random(k) < 0.32
        planned = start + np.where(short, 7 + rng.exponential(110, k), 60 + rng.exponential(1700, k)).astype(np.int64)
        end = np.minimum(planned, b18[child])
        at18 = planned >= b18[child]
        # a few records run past the 18th birthday (ceasing recorded late, or never closed): the age filter's work
        late = at18 & (rng.random(k) < PAST_18_SHARE)
        end[late] += np.where(rng.random(int(late.sum())) < 0.2, 10**5, rng.integers(1, 120, int(late.sum())))
        age_end = (end - dob[child]) / DAY
        band = np.where(age_end < 5, "u5", np.where(age_end < 16, "5to15", "16plus"))
        rec = np.where(at18, _pick(rng, *_REC_AT_18, k), _pick_by(rng, band, _REC_BY_AGE))
        parts.append((child, start, end, rec))
        again = (np.isin(rec, HOME_RECS) & ~at18 & (rng.random(k) < REENTRY_SHARE)
                 & (b18[child] - end > 400) & (end < t_end))
        nxt = end[again] + 14 + rng.exponential(220, int(again.sum())).astype(np.int64)
        ok = nxt < np.minimum(b18[child[again]] - 60, t_end)
        child, start = child[again][ok], nxt[ok]
    child, start, end, rec = (np.concatenate(x) for x in zip(*parts))
    order = np.lexsort((start, child))
    return child[order], start[order], end[order], rec[order].astype(object), dob, b18


def _cla_episodes(rng, p_child, p_start, p_end, p_rec, dob, t_end):
    """Split each period into an episode chain (DEC of one = DECOM of the next, REC X1) and give codes."""
    n = len(p_child)
    hi = np.minimum(p_end, t_end + 1)  # nothing after the extract end is known
    k = 1 + np.minimum(rng.poisson(np.clip(hi - p_start, 0, None) / DAY * 0.85), 14)
    pid = np.repeat(np.arange(n), k - 1)
    cut = p_start[pid] + (rng.random(len(pid)) * (hi - p_start)[pid]).astype(np.int64)
    keep = cut > p_start[pid]
    pid = np.concatenate([np.arange(n), pid[keep]])
    day = np.concatenate([p_start, cut[keep]])
    order = np.lexsort((day, pid))
    pid, day = pid[order], day[order]
    first = _group_start(pid)
    dup = ~first & (np.diff(day, prepend=day[0] - 1) == 0)
    pid, day, first = pid[~dup], day[~dup], first[~dup]
    m = len(pid)
    last = np.ones(m, dtype=bool)
    last[:-1] = pid[1:] != pid[:-1]
    nxt = np.empty(m, dtype=np.int64)
    nxt[:-1] = day[1:]
    nxt[-1:] = 0
    end = np.where(last, p_end[pid], nxt)
    child = p_child[pid]
    age = (day - dob[child]) / DAY

    rne = np.where(first, "S", _pick(rng, ["P", "L", "T", "U", "B"], [0.55, 0.15, 0.15, 0.10, 0.05], m)).astype(object)
    # legal status: a first status per period, then one step along _NEXT_LS per legal status change
    status = _pick_by(rng, np.where(age[first] < 10, "young", "teen"), _FIRST_LS)
    status = status[np.cumsum(first) - 1]
    changes = np.isin(rne, ["L", "U", "B"]) & ~first
    steps = _group_cumsum(changes.astype(np.int64), first)
    for step in range(1, int(steps.max(initial=0)) + 1):
        move = steps >= step
        stepped = pd.Series(status[move]).map(_NEXT_LS).to_numpy(object)
        status[move] = np.where(pd.isna(stepped), status[move], stepped)
    prev = np.empty(m, dtype=object)
    prev[1:] = status[:-1]
    rne[changes & (status == prev)] = "P"  # no further status to move to: a placement change instead

    band = np.select([age < 1, age < 10, age < 16], ["infant", "child", "teen"], "older").astype(object)
    place = _pick_by(rng, band, {k: v for k, v in _PLACE_BY_AGE.items() if k != "adoption"})
    adopt = (status == "E1") & (age < 10)
    place[adopt] = _pick(rng, *_PLACE_BY_AGE["adoption"], int(adopt.sum()))
    head = np.array([p[0] for p in place], dtype=object)
    group = np.select(
        [head == "U", np.isin(place, ["K1", "K2", "S1", "R1"]), place == "H5", head == "A", place == "P1", place == "P2"],
        ["U", "K", "H", "A", "P1", "P2"], "other",
    ).astype(object)
    provider = _pick_by(rng, group, _PROVIDER)
    urn_needed = np.isin(place, ["K1", "K2", "S1", "R1"]) | ((group == "U") & (provider == "PR4"))
    urn_pool = _ids("SC", rng.choice(10**6, 30_000, replace=False), 6)
    urn = np.where(urn_needed, urn_pool[rng.integers(0, len(urn_pool), m)], "XXXXXXX").astype(object)
    pl_post = _POOLS["postcode"][rng.integers(0, len(_POOLS["postcode"]), m)]
    # a legal-status-only change (RNE L) keeps the placement: carry the last placement forward
    src = np.maximum.accumulate(np.where(rne != "L", np.arange(m), 0))
    place, provider, urn, pl_post = place[src], provider[src], urn[src], pl_post[src]
    change_reason = np.where(np.isin(rne, ["P", "T", "U", "B"]), _pick(rng, *_PLACE_CHANGE, m), "").astype(object)
    cin = _pick(rng, *_CATEGORY_OF_NEED, n)[pid]
    rec = np.where(last, p_rec[pid], "X1").astype(object)
    return {
        "child": child, "start": day, "end": end, "RNE": rne, "LS": status, "CIN": cin, "PLACE": place,
        "PLACE_PROVIDER": provider, "REC": rec, "REASON_PLACE_CHANGE": change_reason, "PL_POST": pl_post, "URN": urn,
    }


def _short_breaks(rng, t0, t_end, rate):
    """Children on agreed series of short breaks: V3 (one episode per break) or V4 (one agreement)."""
    n = rng.poisson(rate * (t_end - t0) / DAY)
    s0 = rng.integers(t0, t_end + 1, n)
    dob = s0 - ((5 + rng.random(n) * 11) * DAY).astype(np.int64)
    b18 = _eighteenth(dob)
    stop = np.minimum(s0 + ((1 + rng.random(n) * 3) * DAY).astype(np.int64), b18 - 1)
    v4 = rng.random(n) < 0.3
    nb = np.where(v4, 1, (stop - s0) // 26 + 1)
    owner = np.repeat(np.arange(n), nb)
    first = _group_start(owner)
    gaps = np.where(v4[owner], 0, 20 + rng.integers(0, 13, len(owner)))
    gaps[first] = 0
    day = s0[owner] + _group_cumsum(gaps, first)
    length = np.where(v4[owner], stop[owner] - s0[owner], 2 + rng.integers(0, 2, len(owner)))
    keep = (day < stop[owner]) & (day <= t_end)
    owner, day, length = owner[keep], day[keep], length[keep]
    m = len(owner)
    sb = v4[owner]
    place = np.where(sb, "K2", _pick(rng, ["K2", "U4", "U6"], [0.6, 0.25, 0.15], m)).astype(object)
    urn = np.where(place == "K2", _ids("SC", rng.integers(0, 10**6, m), 6), "XXXXXXX").astype(object)
    eps = {
        "child": owner, "start": day, "end": day + length, "RNE": np.full(m, "S", dtype=object),
        "LS": np.where(sb, "V4", "V3").astype(object), "CIN": np.full(m, "N2", dtype=object), "PLACE": place,
        "PLACE_PROVIDER": np.full(m, "PR1", dtype=object), "REC": np.where(sb, "E8", "E4A").astype(object),
        "REASON_PLACE_CHANGE": np.full(m, "", dtype=object),
        "PL_POST": _POOLS["postcode"][rng.integers(0, len(_POOLS["postcode"]), m)], "URN": urn,
    }
    return eps, dob, b18


def _missing(rng, p_child, p_start, p_end, b18, t_end):
    """Missing (M) and away (A) episodes while in care aged 11+."""
    lo = np.maximum(p_start, b18[p_child] - int(7 * DAY))  # 11th birthday (near enough)
    hi = np.minimum(np.minimum(p_end, t_end), b18[p_child])
    span = np.clip(hi - lo, 0, None)
    misser = (span > 0) & (rng.random(len(p_child)) < MISSER_SHARE)
    rate = rng.gamma(1.5, MISSING_RATE / 1.5, len(p_child)) * misser
    k = rng.poisson(rate * span / DAY)
    owner = np.repeat(np.arange(len(p_child)), k)
    start = lo[owner] + (rng.random(len(owner)) * span[owner]).astype(np.int64)
    u = rng.random(len(owner))
    length = np.select([u < 0.55, u < 0.80, u < 0.92], [0, 1, 2 + rng.integers(0, 2, len(owner))],
                       4 + rng.integers(0, 17, len(owner)))
    return {"child": p_child[owner], "start": start, "end": start + length,
            "MISSING": _pick(rng, ["M", "A"], [0.88, 0.12], len(owner))}


def _cin_for_cla(rng, child, start, end, rec, b18):
    """One CIN episode per looked-after child spanning all their care; a CP plan before some entries."""
    order = np.lexsort((start, child))
    child, start, end, rec = child[order], start[order], end[order], rec[order]
    firsts = _group_start(child)
    lasts = np.ones(len(child), dtype=bool)
    lasts[:-1] = child[1:] != child[:-1]
    who, first_start = child[firsts], start[firsts]
    last_end = np.maximum.reduceat(end, np.flatnonzero(firsts))
    last_rec = rec[lasts]
    n = len(who)
    lead = np.where(rng.random(n) < 0.45, rng.integers(0, 30, n), rng.integers(30, 400, n))
    referral = first_start - lead
    at18 = last_end >= b18[who] - 1
    closure = np.where(at18, last_end, last_end + rng.integers(0, 120, n))
    reason = pd.Series(last_rec).map(_CLOSURE_FROM_REC).fillna("RC7").to_numpy(object)
    cp = (lead > 60) & (rng.random(n) < 0.45)
    cpp_start = referral + 10 + (rng.random(n) * np.clip(lead - 40, 0, 30)).astype(np.int64)
    return {"child": who, "start": referral, "end": closure, "ReasonForClosure": reason,
            "PrimaryNeedCode": _pick(rng, *_CATEGORY_OF_NEED, n), "nfa": np.zeros(n, bool),
            "cp": cp, "cpp_start": cpp_start, "cpp_end": first_start}


def _cin_only(rng, t0, t_end, rate):
    """Children in need who are never looked after: 1-4 episodes each, some with a CP plan."""
    n = rng.poisson(rate * (t_end - t0) / DAY / 1.3)  # 1.3 episodes per child on average
    first = rng.integers(t0, t_end + 1, n)
    unborn = rng.random(n) < 0.04
    dob = np.where(unborn, first + rng.integers(20, 200, n), first - _ages(rng, _REFERRAL_AGE, n))
    b18 = _eighteenth(dob)
    k = 1 + np.minimum(rng.geometric(0.77, n) - 1, 3)
    owner = np.repeat(np.arange(n), k)
    m = len(owner)
    starts = _group_start(owner)
    cp = rng.random(m) < CIN_CP_SHARE
    u = rng.random(m)
    plain = np.select([u < 0.28, u < 0.86], [20 + rng.integers(0, 45, m), 30 + rng.exponential(260, m)],
                      180 + rng.exponential(1000, m)).astype(np.int64)
    cpp_offset = 14 + rng.integers(0, 50, m)
    cpp_length = (20 + rng.gamma(2.0, 150, m)).astype(np.int64)
    length = np.where(cp, cpp_offset + cpp_length + 30 + rng.integers(0, 210, m), plain)
    gap = np.where(starts, 0, 60 + rng.exponential(300, m).astype(np.int64))
    prev_length = np.concatenate([[0], length[:-1]])
    start = first[owner] + _group_cumsum(np.where(starts, 0, gap + prev_length), starts)
    cap = b18[owner] - 1
    keep = start < cap - 30
    end = np.minimum(start + length, cap)
    reason = np.where(u < 0.28, "RC8", _pick(rng, ["RC7", "RC5", "RC6", "RC3", "RC4", "RC2"],
                                              [0.86, 0.05, 0.02, 0.03, 0.035, 0.005], m)).astype(object)
    reason[cp] = "RC7"
    cpp_start = start + cpp_offset
    out = {"child": owner, "start": start, "end": end, "ReasonForClosure": reason,
           "PrimaryNeedCode": _pick(rng, *_CATEGORY_OF_NEED, m), "nfa": np.zeros(m, bool),
           "cp": cp & (cpp_start < end), "cpp_start": cpp_start, "cpp_end": np.minimum(cpp_start + cpp_length, end)}
    return {key: v[keep] for key, v in out.items()}, dob, b18


def _nfa(rng, t0, t_end, rate):
    n = rng.poisson(rate * (t_end - t0) / DAY)
    day = rng.integers(t0, t_end + 1, n)
    dob = day - _ages(rng, _REFERRAL_AGE, n)
    return ({"child": np.arange(n), "start": day, "end": day, "ReasonForClosure": np.full(n, "RC8", dtype=object),
             "PrimaryNeedCode": np.full(n, "", dtype=object), "nfa": np.ones(n, bool), "cp": np.zeros(n, bool),
             "cpp_start": day, "cpp_end": day}, dob, _eighteenth(dob))


_POOLS: dict[str, np.ndarray] = {}


def _dates(days: np.ndarray, blank: np.ndarray | None = None) -> np.ndarray:
    out = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    if blank is not None:
        out[blank] = np.datetime64("NaT")
    return out


def _table(columns: dict, file: str) -> pd.DataFrame:
    """A parsed table: object arrays -> ``str`` columns, then ``_file`` and ``_line`` as read_returns adds them."""
    data = {}
    for name, values in columns.items():
        values = np.asarray(values)
        data[name] = pd.Series(values, dtype="str") if values.dtype == object else pd.Series(values)
    frame = pd.DataFrame(data)
    frame["_file"] = pd.Series(np.full(len(frame), file, dtype=object), dtype="str")
    frame["_line"] = np.arange(2, len(frame) + 2, dtype=np.int64)
    return frame


def _concat(parts: list[dict], offsets: list[int]) -> dict:
    out = {}
    for key in parts[0]:
        arrays = [p[key] + off if key == "child" else p[key] for p, off in zip(parts, offsets)]
        out[key] = np.concatenate(arrays)
    return out


def build_extract(episodes: int, cin_episodes: int, seed: int) -> tuple[Returns, dict]:
    """The synthetic national extract as a parsed :class:`Returns`, and facts about it."""
    seeds = np.random.SeedSequence([seed, 903])
    streams = [np.random.default_rng(s) for s in seeds.spawn(10)]
    cover_start, t_end = _day(COVER_START), _day(EXTRACT_END)
    t0 = cover_start - int(BURN_IN_YEARS * DAY)
    scale, cin_scale = episodes / 1e6, max(cin_episodes - 0.3 * episodes, 0) / 1e6
    rng = streams[9]
    _POOLS["postcode"] = _postcodes(rng, 50_000, local_share=0.5)
    _POOLS["upn"] = _upns(rng, 100_000)

    # care is simulated beyond the extract end, so that referrals and CP plans before a later entry to care are
    # there (the extract then keeps what was known at EXTRACT_END)
    t_sim = t_end + LEAD_IN_DAYS
    p_child, p_start, p_end, p_rec, cla_dob, cla_b18 = _cla_periods(streams[0], t0, t_sim, CLA_FIRST_ENTRIES * scale)
    cla_eps = _cla_episodes(streams[1], p_child, p_start, p_end, p_rec, cla_dob, t_end)
    sb_eps, sb_dob, sb_b18 = _short_breaks(streams[2], t0, t_sim, SHORT_BREAK_CHILDREN * scale)
    missing = _missing(streams[3], p_child, p_start, p_end, cla_b18, t_end)
    cin_cla = _cin_for_cla(streams[4], p_child, p_start, p_end, p_rec, cla_b18)
    cin_sb = _cin_for_cla(streams[5], sb_eps["child"], sb_eps["start"], sb_eps["end"], sb_eps["REC"], sb_b18)
    cin_sb["cp"][:] = False
    cin_sb["PrimaryNeedCode"][:] = "N2"
    cin_only, only_dob, _ = _cin_only(streams[6], t0, t_end, CIN_ONLY_CHILDREN * cin_scale)
    cin_nfa, nfa_dob, _ = _nfa(streams[7], t0, t_end, NFA_REFERRALS * cin_scale)

    # one numbering of children across the four populations
    dob = np.concatenate([cla_dob, sb_dob, only_dob, nfa_dob])
    off_cla, off_sb = 0, len(cla_dob)
    off_only = off_sb + len(sb_dob)
    off_nfa = off_only + len(only_dob)
    total = len(dob)
    population = np.repeat(np.array(["looked after", "short breaks", "in need only", "NFA referral only"], dtype=object),
                           [len(cla_dob), len(sb_dob), len(only_dob), len(nfa_dob)])
    eps = _concat([cla_eps, sb_eps], [off_cla, off_sb])
    mis = _concat([missing], [off_cla])
    cin = _concat([cin_cla, cin_sb, cin_only, cin_nfa], [off_cla, off_sb, off_only, off_nfa])

    # the extract: every record open at any time from COVER_START to EXTRACT_END; nothing later is known
    keep = (eps["end"] >= cover_start) & (eps["start"] <= t_end)
    eps = {k: v[keep] for k, v in eps.items()}
    keep = (mis["start"] >= cover_start) & (mis["start"] <= t_end)
    mis = {k: v[keep] for k, v in mis.items()}
    keep = (cin["end"] >= cover_start) & (cin["start"] <= t_end)
    cin = {k: v[keep] for k, v in cin.items()}
    cp_keep = cin["cp"] & (cin["cpp_end"] >= cover_start) & (cin["cpp_start"] <= t_end)

    # identifiers: a random numbering of the children present (so file order is not entry order)
    present = _distinct(np.concatenate([eps["child"], cin["child"]]))
    number = np.full(total, -1, dtype=np.int64)
    number[present] = streams[8].permutation(len(present))
    names = _ids("C", np.arange(len(present)), 8)
    rng = streams[8]
    sex = _pick(rng, ["1", "2"], [0.54, 0.46], total)
    ethnic = _pick(rng, *_ETHNIC, total)
    upn = _POOLS["upn"][rng.integers(0, len(_POOLS["upn"]), total)]
    home = _POOLS["postcode"][rng.integers(0, len(_POOLS["postcode"]), total)]

    # --- 903 -------------------------------------------------------------------------------------------
    order = np.lexsort((eps["start"], number[eps["child"]]))
    eps = {k: v[order] for k, v in eps.items()}
    child = eps["child"]
    open_ep = eps["end"] > t_end
    episodes_df = _table({
        "CHILD": names[number[child]], "DECOM": _dates(eps["start"]), "RNE": eps["RNE"], "LS": eps["LS"],
        "CIN": eps["CIN"], "PLACE": eps["PLACE"], "PLACE_PROVIDER": eps["PLACE_PROVIDER"],
        "DEC": _dates(eps["end"], open_ep), "REC": np.where(open_ep, "", eps["REC"]).astype(object),
        "REASON_PLACE_CHANGE": eps["REASON_PLACE_CHANGE"], "HOME_POST": home[child],
        "PL_POST": np.where(eps["PLACE"] == "P1", home[child], eps["PL_POST"]).astype(object), "URN": eps["URN"],
    }, FILES["episodes"])
    in_care = _distinct(child)
    in_care = in_care[np.argsort(number[in_care])]
    girl = sex[in_care] == "2"
    mother = girl & ((t_end - dob[in_care]) / DAY > 15) & (rng.random(len(in_care)) < 0.04)
    header_df = _table({
        "CHILD": names[number[in_care]], "SEX": sex[in_care], "DOB": _dates(dob[in_care]), "ETHNIC": ethnic[in_care],
        "UPN": np.where((t_end - dob[in_care]) / DAY >= 5, upn[in_care], "UN1").astype(object),
        "MOTHER": np.where(girl, np.where(mother, "1", "0"), "").astype(object),
        "MC_DOB": _dates(t_end - rng.integers(30, 700, len(in_care)), ~mother),
    }, FILES["header"])
    order = np.lexsort((mis["start"], number[mis["child"]]))
    mis = {k: v[order] for k, v in mis.items()}
    missing_df = _table({
        "CHILD": names[number[mis["child"]]], "DOB": _dates(dob[mis["child"]]), "MISSING": mis["MISSING"],
        "MIS_START": _dates(mis["start"]), "MIS_END": _dates(mis["end"], mis["end"] > t_end),
    }, FILES["missing"])

    # --- CIN census ------------------------------------------------------------------------------------
    order = np.lexsort((cin["start"], number[cin["child"]]))
    cin = {k: v[order] for k, v in cin.items()}
    cp_keep = cp_keep[order]
    c_open = cin["end"] > t_end
    details_id = _ids("CIN", np.arange(1, len(cin["child"]) + 1), 8)
    icpc = cin["cp"] & (cin["cpp_start"] <= t_end)
    nfa_text = np.where(cin["nfa"], "1", "0").astype(object)
    details_df = _table({
        "LAchildID": names[number[cin["child"]]], "CINdetailsID": details_id,
        "CINreferralDate": _dates(cin["start"]),
        "ReferralSource": _pick(rng, *_REFERRAL_SOURCE, len(details_id)), "PrimaryNeedCode": cin["PrimaryNeedCode"],
        "CINclosureDate": _dates(cin["end"], c_open),
        "ReasonForClosure": np.where(c_open, "", cin["ReasonForClosure"]).astype(object),
        "DateOfInitialCPC": _dates(cin["cpp_start"], ~icpc), "ReferralNFA": cin["nfa"].astype(bool),
    }, FILES["cin_details"])
    details_df["_raw_ReferralNFA"] = pd.Series(nfa_text, dtype="str")
    cp_child = cin["child"][cp_keep]
    previous = np.arange(len(cp_child)) - np.maximum.accumulate(
        np.where(_group_start(number[cp_child]), np.arange(len(cp_child)), 0))
    abuse = _pick(rng, *_ABUSE, len(cp_child))
    cp_df = _table({
        "LAchildID": names[number[cp_child]], "CINdetailsID": details_id[cp_keep],
        "CPPID": _ids("CPP", np.arange(1, len(cp_child) + 1), 8),
        "CPPstartDate": _dates(cin["cpp_start"][cp_keep]),
        "CPPendDate": _dates(cin["cpp_end"][cp_keep], cin["cpp_end"][cp_keep] > t_end),
        "InitialCategoryOfAbuse": abuse,
        "LatestCategoryOfAbuse": np.where(rng.random(len(abuse)) < 0.9, abuse, _pick(rng, *_ABUSE, len(abuse))),
        "NumberOfPreviousCPP": np.array([str(i) for i in range(max(previous.max(initial=0), 0) + 1)],
                                        dtype=object)[previous],
    }, FILES["cp_plans"])
    known = _distinct(cin["child"])
    known = known[np.argsort(number[known])]
    born = dob[known] <= t_end
    school_age = born & ((t_end - dob[known]) / DAY >= 5)
    cin_children_df = _table({
        "LAchildID": names[number[known]], "UPN": np.where(school_age, upn[known], "").astype(object),
        "PersonBirthDate": _dates(dob[known], ~born), "ExpectedPersonBirthDate": _dates(dob[known], born),
        "GenderCurrent": np.where(born, sex[known], "0").astype(object),
        "PersonDeathDate": _dates(dob[known], np.ones(len(known), dtype=bool)),  # all blank
        "Ethnicity": np.where(born, ethnic[known], "NOBT").astype(object), "PostCode": home[known],
    }, FILES["cin_children"])

    tables = {"header": header_df, "episodes": episodes_df, "missing": missing_df,
              "cin_children": cin_children_df, "cin_details": details_df, "cp_plans": cp_df}
    sources = [{"file": FILES[k], "table": k, "return": "SSDA903" if k in ("header", "episodes", "missing")
                else "CIN census", "rows": len(v), "sha256": ""} for k, v in tables.items()]
    returns = Returns(folder=None, sources=sources, **tables)
    facts = {"children": len(present), "population": pd.Series(population[present]).value_counts().to_dict()}
    return returns, facts


# --- the baseline: a per-child Python loop -----------------------------------------------------------


def _as_date(value):
    return None if pd.isna(value) else value.date()


def _eighteenth_birthday(dob: dt.date) -> dt.date:
    try:
        return dob.replace(year=dob.year + 18)
    except ValueError:  # born 29 February, 18th year not a leap year
        return dt.date(dob.year + 18, 3, 1)


def loop_counts(returns: Returns, dates: list[dt.date]) -> dict[str, list[int]]:
    """``cla_at`` and ``cin_at`` on each date, one child at a time, in plain Python."""
    eighteenth = {}
    for child, dob in zip(returns.header["CHILD"], returns.header["DOB"]):
        if child not in eighteenth and not pd.isna(dob):  # the first header row counts
            eighteenth[child] = _eighteenth_birthday(dob.date())
    episodes = {}
    e = returns.episodes
    for child, decom, dec, ls in zip(e["CHILD"], e["DECOM"], e["DEC"], e["LS"]):
        episodes.setdefault(child, []).append((decom.date(), _as_date(dec), ls))
    referrals = {}
    c = returns.cin_details
    for child, start, end, nfa in zip(c["LAchildID"], c["CINreferralDate"], c["CINclosureDate"], c["ReferralNFA"]):
        referrals.setdefault(child, []).append((start.date(), _as_date(end), bool(nfa)))

    cla = [0] * len(dates)
    for child, child_episodes in episodes.items():
        b18 = eighteenth.get(child)  # no header row: age unknown, not filtered
        looked_after = [False] * len(dates)
        for decom, dec, ls in child_episodes:
            if ls in SHORT_BREAK_LEGAL_STATUSES:
                continue
            for j, d in enumerate(dates):
                if decom <= d and (dec is None or dec > d) and (b18 is None or d < b18):
                    looked_after[j] = True
        for j, flag in enumerate(looked_after):
            cla[j] += flag
    cin = [0] * len(dates)
    for child, child_referrals in referrals.items():
        in_need = [False] * len(dates)
        for start, end, nfa in child_referrals:
            if nfa:
                continue
            for j, d in enumerate(dates):
                if start <= d and (end is None or end > d):
                    in_need[j] = True
        for j, flag in enumerate(in_need):
            cin[j] += flag
    return {"cla_at": cla, "cin_at": cin}


# --- sample and checks -------------------------------------------------------------------------------


def sample_returns(returns: Returns, n: int, seed: int) -> Returns:
    """Every record of ``n`` children drawn at random from all children in the extract."""
    everyone = pd.unique(pd.concat([returns.header["CHILD"], returns.cin_children["LAchildID"]], ignore_index=True))
    chosen = set(np.random.default_rng(seed).choice(np.asarray(everyone, dtype=object), size=min(n, len(everyone)),
                                                    replace=False))
    tables = {}
    for kind in ("header", "episodes", "missing", "cin_children", "cin_details", "cp_plans"):
        frame = returns.table(kind)
        col = "CHILD" if kind in ("header", "episodes", "missing") else "LAchildID"
        tables[kind] = frame[frame[col].isin(list(chosen))].reset_index(drop=True)
    return Returns(folder=None, **tables)


def as_text(returns: Returns) -> dict[str, pd.DataFrame]:
    """The tables as the CSV text they would be read from (903 dd/mm/yyyy, CIN census yyyy-mm-dd)."""
    frames = {}
    for kind, name in FILES.items():
        if returns.table(kind) is None:
            continue
        frame = returns.table(kind).drop(columns=["_file", "_line"])
        fmt = "%d/%m/%Y" if kind in ("header", "episodes", "missing") else "%Y-%m-%d"
        out = {}
        for col in frame.columns:
            if col == "_raw_ReferralNFA":
                continue
            if col == "ReferralNFA":
                out[col] = frame["_raw_ReferralNFA"].astype(object)
            elif pd.api.types.is_datetime64_any_dtype(frame[col]):
                out[col] = frame[col].dt.strftime(fmt).astype(object).where(frame[col].notna(), "")
            else:
                out[col] = frame[col].astype(object)
        frames[name] = pd.DataFrame(out)
    return frames


def check_layout(sample: Returns) -> float:
    """Write the sample as text, read it back with returns_from_frames: it must equal the sample. Seconds."""
    text = as_text(sample)
    t0 = time.perf_counter()
    parsed = returns_from_frames(text)
    seconds = time.perf_counter() - t0
    assert not parsed.warnings, f"the synthetic extract has soft problems: {parsed.warning_summary()}"
    for kind in FILES:
        ours, theirs = sample.table(kind), parsed.table(kind)
        assert theirs["_line"].tolist() == list(range(2, len(theirs) + 2))
        pd.testing.assert_frame_equal(ours.drop(columns="_line"), theirs.drop(columns="_line"), check_exact=True)
    return seconds


# --- measuring ---------------------------------------------------------------------------------------


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mib() -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def release_free_memory() -> None:
    """Collect garbage and hand freed heap back to the system (glibc), so RSS growth shows new memory."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak_rss() -> bool:
    """Reset the process's peak RSS to its current RSS (Linux, when /proc/self/clear_refs is writable)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


_READ_CHILD = r"""
import resource, sys, time, tracemalloc
sys.path.insert(0, {root!r})
from analysis.read.returns import read_returns
import analysis.read.returns_xml as rx
spent = {{"xml": 0.0, "lxml": 0}}
def timed(fn, key):
    def run(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - t if key == "xml" else 1
    return run
rx.read_903_xml = timed(rx.read_903_xml, "xml")  # the 903 XML reader's own time
rx.read_903_xml_lxml = timed(rx.read_903_xml_lxml, "lxml")  # files the fast reader left to lxml
trace = sys.argv[1] == "trace"
if trace:
    tracemalloc.start()
t0 = time.perf_counter()
r = read_returns(sys.argv[2])
seconds = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1] if trace else 0
# VmHWM: this process's own peak (ru_maxrss would include the parent's before exec)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
own, forked = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(seconds, hwm, peak / 2**20, len(r.episodes),
      len(r.header), 0 if r.missing is None else len(r.missing), len(r.warnings), spent["xml"], spent["lxml"],
      own.ru_utime + own.ru_stime, forked.ru_utime + forked.ru_stime, forked.ru_maxrss / 1024)
"""


class Read(NamedTuple):
    """What :func:`_read_in_child` measured."""

    seconds: float
    rss: float  # peak RSS of the reading process, MiB
    traced: float  # tracemalloc peak, MiB (trace only)
    episodes: int
    header: int
    missing: int
    warnings: int
    xml_seconds: float  # in the 903 XML reader
    lxml_files: int  # 903 XML files the fast reader left to the lxml reader
    cpu: float  # CPU seconds of the reading process (all of it, imports included)
    helper_cpu: float  # CPU seconds of the process it forked to read the second half of a large XML file
    helper_rss: float  # that process's peak RSS, MiB (counting the pages it shares with its parent)


def _read_in_child(folder: Path, trace: bool) -> Read:
    """read_returns(folder) in a fresh process (see :class:`Read`)."""
    import subprocess

    code = _READ_CHILD.format(root=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code, "trace" if trace else "time", str(folder)], check=True,
                         capture_output=True, text=True).stdout.split()
    return Read(*(int(v) if f in ("episodes", "header", "missing", "warnings", "lxml_files") else float(v)
                  for f, v in zip(Read._fields, out)))


def xml_benchmark(returns: Returns, trace: bool = False) -> None:
    """Read the extract's 903 tables from a generated EXPSSDA903 XML file, against the same tables as CSV.

    The header, episodes and missing tables are written (as text, 903 dates dd/mm/yyyy) to a temporary folder as
    one XML file (:func:`analysis.read.returns_xml.write_903_xml`, DfE's layout) and, in another folder, as the three CSV
    files. Each folder is read by :func:`analysis.read.returns.read_returns` in a fresh Python process (so its peak RSS
    is the read's own, plus the interpreter and libraries): wall-clock seconds and peak RSS (``VmHWM``: Linux carries
    ``ru_maxrss`` over from the parent across exec), then
    with ``trace``, again under ``tracemalloc`` for the peak traced Python memory (much slower; time not reported).
    """
    import tempfile

    from analysis.read.returns_xml import write_903_xml

    text = as_text(Returns(header=returns.header, episodes=returns.episodes, missing=returns.missing))
    with tempfile.TemporaryDirectory(prefix="bench_903_xml_") as tmp:
        xml_dir, csv_dir = Path(tmp) / "xml", Path(tmp) / "csv"
        xml_dir.mkdir()
        csv_dir.mkdir()
        t0 = time.perf_counter()
        path = write_903_xml(text[FILES["header"]], text[FILES["episodes"]], text[FILES["missing"]],
                             xml_dir / "SSDA903.xml")
        write_s = time.perf_counter() - t0
        for kind in ("header", "episodes", "missing"):
            text[FILES[kind]].to_csv(csv_dir / FILES[kind], index=False)
        del text
        release_free_memory()
        xml_mib = path.stat().st_size / 2**20
        csv_mib = sum(f.stat().st_size for f in csv_dir.iterdir()) / 2**20
        print(f"\n903 XML: {len(returns.episodes):,} episodes, {len(returns.header):,} children, "
              f"{len(returns.missing):,} missing episodes written as one EXPSSDA903 file of {xml_mib:,.0f} MiB "
              f"in {write_s:.1f} s (the same tables as CSV: {csv_mib:,.0f} MiB)")
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
        x = _read_in_child(xml_dir, trace=False)
        helper = (f" + {x.helper_cpu:.1f} s in the process it forked for the second half (peak RSS "
                  f"{x.helper_rss:,.0f} MiB, pages shared with its parent included)" if x.helper_cpu else "")
        print(f"  read_returns(XML folder), fresh process: {x.seconds:.1f} s, peak RSS {x.rss:,.0f} MiB; CPU {x.cpu:.1f} s"
              f"{helper}; {x.episodes:,} episodes, {x.header:,} header rows, {x.missing:,} missing episodes, "
              f"{x.warnings} warnings ({load} before)", flush=True)
        print(f"    of which read_903_xml {x.xml_seconds:.1f} s ("
              f"{'the lxml reader: the fast reader left the file to it' if x.lxml_files else 'the fast reader'})")
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
        c = _read_in_child(csv_dir, trace=False)
        print(f"  read_returns(CSV folder, the same tables), baseline: {c.seconds:.1f} s, peak RSS {c.rss:,.0f} MiB; "
              f"CPU {c.cpu:.1f} s ({load} before)", flush=True)
        assert (x.episodes, x.header, x.missing) == (c.episodes, c.header, c.missing), \
            "the XML and the CSV give different tables"
        print(f"  ratio XML / CSV: time {x.seconds / c.seconds:.2f}x, CPU {(x.cpu + x.helper_cpu) / c.cpu:.2f}x (both "
              f"processes), peak RSS {x.rss / c.rss:.2f}x; limits 30 s and 1 GiB: "
              f"{'met' if x.seconds < 30 and x.rss < 1024 else 'NOT met'}", flush=True)
        if trace:
            xtraced = _read_in_child(xml_dir, trace=True).traced
            ctraced = _read_in_child(csv_dir, trace=True).traced
            print(f"  peak traced (tracemalloc; slow): XML {xtraced:,.0f} MiB, CSV {ctraced:,.0f} MiB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=1_000_000, help="903 episodes, about (default 1,000,000)")
    ap.add_argument("--cin-episodes", type=int, default=None, help="CIN episodes, about (default 2 x episodes)")
    ap.add_argument("--sample", type=int, default=2_000, help="children in the loop comparison (default 2,000)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--full-loop", action="store_true",
                    help="also run the loop on the whole extract (about 40 s at the default size): measured, not "
                         "extrapolated, and the counts checked on every child")
    ap.add_argument("--via-text", action="store_true",
                    help="write the extract as text and read it back with returns_from_frames (timed) before counting")
    ap.add_argument("--xml-only", action="store_true",
                    help="only the 903 XML reading benchmark (the extract's 903 tables as XML against CSV)")
    ap.add_argument("--trace", action="store_true", help="with the XML benchmark: also the tracemalloc peaks (slow)")
    args = ap.parse_args()
    cin_target = 2 * args.episodes if args.cin_episodes is None else args.cin_episodes
    dates = quarter_ends(FIRST_QUARTER, LAST_QUARTER)

    t0 = time.perf_counter()
    returns, facts = build_extract(args.episodes, cin_target, args.seed)
    build_s = time.perf_counter() - t0
    if args.xml_only:
        for kind in ("cin_children", "cin_details", "cp_plans"):
            setattr(returns, kind, None)
        xml_benchmark(returns, trace=args.trace)
        return
    if args.via_text:
        t0 = time.perf_counter()
        text = as_text(returns)
        format_s = time.perf_counter() - t0
        del returns
        gc.collect()
        t0 = time.perf_counter()
        returns = returns_from_frames(text)
        parse_full_s = time.perf_counter() - t0
        del text
        assert not returns.warnings, f"the synthetic extract has soft problems: {returns.warning_summary()}"
    gc.collect()
    eps = returns.episodes
    eps_per_child = eps.groupby("CHILD").size()
    short_breaks = eps["LS"].isin(SHORT_BREAK_LEGAL_STATUSES)
    print(f"extract ({COVER_START} to {EXTRACT_END}, seed {args.seed}), built parsed in {build_s:.1f} s:")
    print(f"  903: {len(eps):,} episodes of {len(returns.header):,} children (header rows; "
          f"{eps_per_child.mean():.1f} episodes per child, up to {eps_per_child.max():,}; "
          f"{short_breaks.mean():.1%} V3/V4 short breaks), {len(returns.missing):,} missing/away episodes of "
          f"{returns.missing['CHILD'].nunique():,} children")
    print(f"  CIN census: {len(returns.cin_details):,} CIN episodes ({returns.cin_details['ReferralNFA'].sum():,} NFA) "
          f"of {len(returns.cin_children):,} children, {len(returns.cp_plans):,} child protection plans")
    if args.via_text:
        print(f"  --via-text: formatted as text in {format_s:.1f} s, read back by returns_from_frames in "
              f"{parse_full_s:.1f} s (no warnings); the counts below use that result")
    print(f"  children in all: {facts['children']:,} ("
          + ", ".join(f"{v:,} {k}" for k, v in facts["population"].items()) + ")")
    release_free_memory()
    print(f"  process resident memory with the extract built: {current_rss_mib():,.0f} MiB "
          f"(peak while building: {peak_rss_mib():,.0f} MiB)")

    # 1. the vectorised counts at every quarter end
    rss_built = peak_rss_mib()
    release_free_memory()
    was_reset = reset_peak_rss()
    rss_start = current_rss_mib()
    full_s, counts = best_of(lambda: record_counts_many(returns, dates, la_code=LA_CODE), 3)
    rss_after = peak_rss_mib()
    gc.collect()
    tracemalloc.start()
    record_counts_many(returns, dates, la_code=LA_CODE)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    wide = counts.pivot(index="period", columns="measure", values="count")
    last = wide.loc[LAST_QUARTER]
    print(f"\nrecord_counts_many, {len(dates)} quarter ends ({FIRST_QUARTER}-{LAST_QUARTER}), all "
          f"{counts['measure'].nunique()} measures, best of 3: {full_s:.2f} s "
          f"({len(eps) / full_s:,.0f} episodes/s; {sum(len(returns.table(k)) for k in FILES) / full_s:,.0f} records/s)")
    print(f"  at {LAST_QUARTER}: {last['cla_at']:,} looked after, {last['cin_at']:,} in need, {last['cp_at']:,} on a "
          f"CP plan; {last['cla_starts_12m']:,} started care in the year; {last['missing_children_12m']:,} of "
          f"{last['cla_during_12m']:,} looked after in the year went missing "
          f"({last['missing_children_12m'] / last['cla_during_12m']:.1%}, "
          f"{last['missing_episodes_12m'] / last['missing_children_12m']:.1f} times each)")
    print(f"  peak memory (tracemalloc, peak traced during one call): {traced_peak / 2**20:,.0f} MiB")
    if was_reset:
        print(f"  process peak RSS (ru_maxrss): {rss_built:,.0f} MiB after building the extract; reset to the "
              f"resident {rss_start:,.0f} MiB before the counts; {rss_after:,.0f} MiB after them "
              f"(+{rss_after - rss_start:,.0f} MiB)")
    else:
        print(f"  process peak RSS (ru_maxrss): {rss_built:,.0f} MiB before the counts, {rss_after:,.0f} MiB after "
              f"(could not reset the peak, so 'before' includes building the extract)")

    # 2. the per-child loop against the vectorised counts, on the same sample of children
    sample = sample_returns(returns, args.sample, args.seed + 1)
    n_sample = len(set(sample.header["CHILD"]) | set(sample.cin_children["LAchildID"]))
    parse_s = check_layout(sample)
    loop_s, loop = best_of(lambda: loop_counts(sample, dates), 7)
    vec_s, vec = best_of(lambda: record_counts_many(sample, dates, la_code=LA_CODE), 7)
    vec_wide = vec.pivot(index="period_end", columns="measure", values="count")
    for measure in ("cla_at", "cin_at"):
        ours = vec_wide[measure].tolist()
        assert ours == loop[measure], f"{measure} differs between the loop and record_counts_many: {loop[measure]} vs {ours}"
    s_eps = sample.episodes
    dob = s_eps["CHILD"].map(sample.header.set_index("CHILD")["DOB"]).to_numpy("datetime64[D]")
    b18 = EPOCH + _eighteenth((dob - EPOCH).astype(np.int64))
    decom, dec = s_eps["DECOM"].to_numpy("datetime64[D]"), s_eps["DEC"].to_numpy("datetime64[D]")
    at_18 = s_eps.loc[(decom < b18) & (dec == b18), "CHILD"].nunique()
    past_18 = s_eps.loc[(decom < b18) & (np.isnat(dec) | (dec > b18)) & (b18 <= np.datetime64(EXTRACT_END)),
                        "CHILD"].nunique()
    print(f"\nsample: {n_sample:,} children drawn at random ({sample.header.shape[0]:,} with 903 episodes: "
          f"{len(s_eps):,} episodes, {s_eps.loc[s_eps['LS'].isin(SHORT_BREAK_LEGAL_STATUSES), 'CHILD'].nunique()} "
          f"with V3/V4 episodes, {at_18} leaving care on their 18th birthday, {past_18} with care "
          f"recorded past it; "
          f"{len(sample.cin_details):,} CIN episodes, {int(sample.cin_details['ReferralNFA'].sum())} NFA)")
    print(f"  layout: the sample written as text and read back by returns_from_frames equals it, table for table, "
          f"with no warnings ({parse_s:.2f} s for {sum(len(sample.table(k)) for k in FILES):,} rows)")
    print(f"  cla_at and cin_at equal on all {len(dates)} dates (loop vs record_counts_many); e.g. {LAST_QUARTER}: "
          f"cla_at {loop['cla_at'][-1]}, cin_at {loop['cin_at'][-1]}")
    loop_pc, vec_pc = loop_s / n_sample, vec_s / n_sample
    print(f"  per-child Python loop (cla_at + cin_at), best of 7: {loop_s:.3f} s = {loop_pc * 1e6:,.1f} us per child")
    print(f"  record_counts_many (all measures) on the sample, best of 7: {vec_s:.3f} s = {vec_pc * 1e6:,.1f} us per child")
    print(f"  ratio on the sample (loop seconds per child / vectorised seconds per child): {loop_pc / vec_pc:.2f}x")
    full_loop_s = loop_pc * facts["children"]
    ratio = full_loop_s / full_s
    print(f"  the loop extrapolated to all {facts['children']:,} children: {full_loop_s:,.1f} s; record_counts_many "
          f"measured {full_s:.2f} s; ratio at full scale (loop / vectorised): {ratio:.2f}x "
          f"({'vectorised faster' if ratio > 1 else 'the loop would be faster'}; "
          f"{facts['children'] / full_s:,.0f} against {1 / loop_pc:,.0f} children/s)")
    if args.full_loop:
        t0 = time.perf_counter()
        loop_all = loop_counts(returns, dates)
        loop_all_s = time.perf_counter() - t0
        for measure in ("cla_at", "cin_at"):
            assert wide[measure].tolist() == loop_all[measure], f"{measure} differs on the whole extract"
        print(f"  --full-loop: the loop on the whole extract took {loop_all_s:,.1f} s "
              f"({loop_all_s / facts['children'] * 1e6:,.1f} us per child; {loop_all_s / full_loop_s:.2f}x the "
              f"extrapolation); cla_at and cin_at equal on all {len(dates)} dates; ratio at full scale "
              f"(loop / vectorised): {loop_all_s / full_s:.2f}x")

    # 3. reading the 903 as XML (streamed) against the same tables as CSV
    for kind in ("cin_children", "cin_details", "cp_plans"):
        setattr(returns, kind, None)
    del sample
    release_free_memory()
    xml_benchmark(returns, trace=args.trace)


if __name__ == "__main__":
    main()
