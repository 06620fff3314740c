"""Stream the XML returns LAs submit to DfE into the tables :mod:`analysis.returns` validates.

Two layouts are recognised **by their root element** (never by the file name):

``Message`` -- the CIN census (DfE schema ``Message/Header/Children/Child``)
    Each ``Child`` gives one ``cin_children`` row from the direct fields of ``ChildIdentifiers`` (LAchildID, UPN,
    FormerUPN, UPNunknown, PersonBirthDate, ExpectedPersonBirthDate, GenderCurrent or Sex, PersonDeathDate, ...)
    and ``ChildCharacteristics`` (Ethnicity); each ``CINdetails`` one ``cin_details`` row (CINreferralDate,
    ReferralSource, PrimaryNeedCode, CINclosureDate, ReasonForClosure, DateOfInitialCPC, ReferralNFA); each
    ``ChildProtectionPlans`` inside it one ``cp_plans`` row (CPPstartDate, CPPendDate, categories of abuse,
    NumberOfPreviousCPP) with the LAchildID of the child it is nested in. Assessments, Section47, CIN plan dates,
    reviews and disabilities are not needed for the counts and are skipped.

``EXPSSDA903`` -- the SSDA903 (``EXPSSDA903/CHILD``)
    ``CHILD/HEADER`` gives one ``header`` row from its direct fields (CHILDID or CHILD, SEX, DOB, ETHNIC, UPN,
    MOTHER, MC_DOB, UASC, ...); each ``EPISODE`` one ``episodes`` row (DECOM, RNE, LS, CIN, PL or PLACE,
    PLACE_PROVIDER, DEC, REC, REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN); each ``AMISSING`` (inside HEADER, as
    DfE's 903 schema nests it, or directly under CHILD) one ``missing`` row (MISSING, MIS_START, MIS_END) with the
    child's CHILD and DOB. Reviews, OC2/OC3, adoption and permanence records are skipped. ``CHILDID`` is renamed
    ``CHILD`` and ``PL`` ``PLACE``, the spellings of the 903 CSV tables.

Element names are matched without their namespace. Cells are trimmed text ('' for an empty or absent element);
an element the schema leaves out when blank is an empty column, not a structural error. Each row's ``_line`` is
the line of its element's start tag. The file is read with ``lxml.etree.iterparse`` on the end of each ``Child`` /
``CHILD`` element, which is cleared (with its already-read siblings) once read, so memory holds the tables being
built, not the document. Repeated values (codes, dates, identifiers) share one string object.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
from lxml import etree

from .errors import InputError

#: Root element -> return.
ROOTS = {"Message": "CIN census", "EXPSSDA903": "SSDA903"}
#: Table kinds each XML return fills, in order.
XML_TABLES = {"CIN census": ("cin_children", "cin_details", "cp_plans"), "SSDA903": ("header", "episodes", "missing")}
_RENAME_903 = {"CHILDID": "CHILD", "PL": "PLACE"}
_INTERN_LIMIT = 50_000  # distinct values per column shared as one object; beyond that a column is left alone


def open_bytes(path: Path):
    """A binary file object, decompressing ``.gz`` files."""
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _local(tag) -> str:
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rsplit("}", 1)[-1] if tag[:1] == "{" else tag


def _syntax_error(name: str, exc) -> InputError:
    line = getattr(exc, "lineno", None) or (exc.position[0] if getattr(exc, "position", None) else None)
    text = str(getattr(exc, "msg", "") or exc).splitlines()[0] if str(exc) else "not well-formed"
    text = text.split(", line ")[0].strip()
    return InputError(name, f"not well-formed XML ({text}); fix the file or export it again", row=line)


def xml_return(path: Path, name: str) -> str:
    """``"CIN census"`` or ``"SSDA903"`` from the root element; InputError for another or a broken file."""
    try:
        with open_bytes(path) as fh:
            for _, el in etree.iterparse(fh, events=("start",), resolve_entities=False, no_network=True):
                root = _local(el.tag)
                break
            else:
                raise InputError(name, "the XML file has no root element")
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(name, exc) from None
    except (OSError, EOFError) as exc:  # e.g. a .gz that is not gzip
        raise InputError(name, f"cannot be read ({exc})") from None
    if root not in ROOTS:
        raise InputError(
            name,
            f"the XML root element is <{root}>; expected <Message> (CIN census) or <EXPSSDA903> (SSDA903)",
        )
    return ROOTS[root]


class _Table:
    """Columns of text built row by row (ragged rows allowed: absent cells are '')."""

    def __init__(self):
        self.cols: dict[str, list] = {}
        self.lines: list[int] = []
        self.cache: dict[str, dict] = {}

    def add(self, row: dict, line: int) -> None:
        n = len(self.lines)
        for key, value in row.items():
            col = self.cols.get(key)
            if col is None:
                col = self.cols[key] = [""] * n
                self.cache[key] = {}
            cache = self.cache[key]
            if cache is not None:
                shared = cache.get(value)
                if shared is None:
                    if len(cache) >= _INTERN_LIMIT:
                        self.cache[key] = None
                    else:
                        cache[value] = value
                else:
                    value = shared
            col.append(value)
        for key, col in self.cols.items():
            if len(col) == n:
                col.append("")
        self.lines.append(line)

    def frame(self, required=()) -> pd.DataFrame:
        n = len(self.lines)
        data = {k: v for k, v in self.cols.items()}
        for col in required:
            data.setdefault(col, [""] * n)
        out = pd.DataFrame(data, dtype=object, index=pd.RangeIndex(n))
        out["_line"] = pd.array(self.lines, dtype="int64")
        self.cols, self.lines, self.cache = {}, [], {}
        return out


def _leaves(el, rename=None) -> dict:
    """The direct childless children of ``el`` as {name: trimmed text}."""
    out = {}
    for sub in el:
        if len(sub):
            continue
        tag = sub.tag
        if tag.__class__ is not str:  # a comment or processing instruction
            continue
        if tag[0] == "{":
            tag = tag.rsplit("}", 1)[1]
        if rename:
            tag = rename.get(tag, tag)
        text = sub.text
        out[tag] = text.strip() if text else ""
    return out


def _stream(path: Path, name: str, tag: str, parent_tag: str):
    """Yield each ``tag`` element directly inside a ``parent_tag`` once read, then clear it and its read siblings.

    (A ``CHILD`` field inside a 903 ``HEADER`` is not a record: only elements under ``parent_tag`` are.)
    """
    try:
        with open_bytes(path) as fh:
            context = etree.iterparse(fh, events=("end",), tag=("{*}" + tag, tag), resolve_entities=False,
                                      no_network=True, huge_tree=True, remove_comments=True)
            for _, el in context:
                parent = el.getparent()
                if parent is None or _local(parent.tag) != parent_tag:
                    continue
                yield el
                el.clear(keep_tail=False)
                while el.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(name, exc) from None
    except (OSError, EOFError) as exc:
        raise InputError(name, f"cannot be read ({exc})") from None


def read_cin_xml(path: Path, name: str, required: dict) -> dict[str, pd.DataFrame]:
    """The CIN census XML as text tables ``cin_children``, ``cin_details``, ``cp_plans`` (with ``_line``)."""
    children, details, plans = _Table(), _Table(), _Table()
    for child in _stream(path, name, "Child", "Children"):
        row, child_id, line = {}, "", child.sourceline
        for part in child:
            tag = _local(part.tag)
            if tag in ("ChildIdentifiers", "ChildCharacteristics"):
                row.update(_leaves(part))
                if tag == "ChildIdentifiers":
                    line = part.sourceline or line
        child_id = row.get("LAchildID", "")
        children.add(row, line)
        for part in child:
            if _local(part.tag) != "CINdetails":
                continue
            d = _leaves(part)
            d = {"LAchildID": child_id, **{k: v for k, v in d.items() if k != "LAchildID"}}
            details.add(d, part.sourceline)
            for plan in part:
                if _local(plan.tag) == "ChildProtectionPlans":
                    p = _leaves(plan)
                    plans.add({"LAchildID": child_id, **{k: v for k, v in p.items() if k != "LAchildID"}},
                              plan.sourceline)
    return {
        "cin_children": children.frame(required["cin_children"]),
        "cin_details": details.frame(required["cin_details"]),
        "cp_plans": plans.frame(required["cp_plans"]),
    }


def read_903_xml(path: Path, name: str, required: dict) -> dict[str, pd.DataFrame]:
    """The SSDA903 XML as text tables ``header``, ``episodes``, ``missing`` (with ``_line``)."""
    header, episodes, missing = _Table(), _Table(), _Table()
    for child in _stream(path, name, "CHILD", "EXPSSDA903"):
        head, head_line, eps, miss = None, child.sourceline, [], []
        for part in child:
            tag = _local(part.tag)
            if tag == "HEADER" and head is None:
                head, head_line = _leaves(part, _RENAME_903), part.sourceline
                miss.extend(sub for sub in part if _local(sub.tag) == "AMISSING")
            elif tag == "EPISODE":
                eps.append(part)
            elif tag == "AMISSING":
                miss.append(part)
            elif tag in ("EPISODES", "MISSING_EPISODES"):  # a wrapper some exports use
                eps.extend(sub for sub in part if _local(sub.tag) == "EPISODE")
                miss.extend(sub for sub in part if _local(sub.tag) == "AMISSING")
        head = head or {}
        child_id = head.get("CHILD", "")
        dob = head.get("DOB", "")
        if head:
            header.add(head, head_line)
        for ep in eps:
            e = _leaves(ep, _RENAME_903)
            e.pop("CHILD", None)
            episodes.add({"CHILD": child_id, **e}, ep.sourceline)
        for m in miss:
            r = _leaves(m, _RENAME_903)
            r.pop("CHILD", None)
            missing.add({"CHILD": child_id, "DOB": dob, **r}, m.sourceline)
    return {
        "header": header.frame(required["header"]),
        "episodes": episodes.frame(required["episodes"]),
        "missing": missing.frame(required["missing"]),
    }


def _escape(values: pd.Series) -> pd.Series:
    text = values.fillna("").astype(str)
    return text.str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False).str.replace(
        ">", "&gt;", regex=False)


def _elements(frame: pd.DataFrame, tag: str, columns, rename=None) -> pd.Series:
    """``<tag><COL>value</COL>...</tag>`` for each row (empty cells as ``<COL />``), built column-wise."""
    out = pd.Series("<" + tag + ">", index=frame.index, dtype=object)
    for col in columns:
        name = (rename or {}).get(col, col)
        value = _escape(frame[col])
        out = out + np.where(value == "", f"<{name} />", f"<{name}>" + value + f"</{name}>")
    return out + f"</{tag}>"


def _grouped(ids: pd.Series, text: pd.Series) -> pd.Series:
    return text.groupby(ids.to_numpy(), sort=False).agg("".join)


def write_903_xml(header: pd.DataFrame, episodes: pd.DataFrame, missing: pd.DataFrame | None, path) -> Path:
    """Write 903 tables of text (as the CSV tables hold them) as an ``EXPSSDA903`` file, one CHILD per header row.

    The layout of DfE's 903 XML as Data to Insight's validator reads it: ``CHILD/HEADER`` with ``CHILDID`` and the
    header fields, the child's ``AMISSING`` records inside ``HEADER``, then one ``EPISODE`` per episode with
    ``PL`` for the placement type. For fixtures and benchmarks (records of children with no header row are left
    out).
    """
    head_cols = [c for c in header.columns if not c.startswith("_")]
    ep_cols = [c for c in episodes.columns if c != "CHILD" and not c.startswith("_")]
    ids = header["CHILD"].astype(str)
    eps = _grouped(episodes["CHILD"].astype(str), _elements(episodes, "EPISODE", ep_cols, {"PLACE": "PL"}))
    text_head = _elements(header, "HEADER", head_cols, {"CHILD": "CHILDID"})
    if missing is not None and len(missing):
        mis_cols = [c for c in ("MISSING", "MIS_START", "MIS_END") if c in missing.columns]
        mis = _grouped(missing["CHILD"].astype(str), _elements(missing, "AMISSING", mis_cols))
        text_head = text_head.str.slice(0, -len("</HEADER>")) + ids.map(mis).fillna("").to_numpy() + "</HEADER>"
    body = "<CHILD>" + text_head + ids.map(eps).fillna("").to_numpy() + "</CHILD>\n"
    path = Path(path)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='utf-8'?>\n<EXPSSDA903>\n")
        for start in range(0, len(body), 100_000):
            fh.write("".join(body.iloc[start:start + 100_000]))
        fh.write("</EXPSSDA903>\n")
    return path


def write_cin_xml(children: pd.DataFrame, details: pd.DataFrame, plans: pd.DataFrame | None, path,
                  reference_date: str = "2025-03-31") -> Path:
    """Write CIN census tables of text as a ``Message`` file (DfE schema), one Child per child-identifiers row.

    A CP plan is nested in the CIN episode of its child that it starts in (the latest referral on or before the plan
    start), as the census nests ``ChildProtectionPlans`` in ``CINdetails``. For fixtures and tests.
    """
    ident_cols = [c for c in children.columns if c not in ("Ethnicity",) and not c.startswith("_")]
    det_cols = [c for c in details.columns if c not in ("LAchildID", "CINdetailsID") and not c.startswith("_")]
    det = details.reset_index(drop=True).copy()
    det["_key"] = np.arange(len(det))
    inner = pd.Series("", index=det.index, dtype=object)
    if plans is not None and len(plans):
        p = plans.reset_index(drop=True).copy()
        p["_start"] = pd.to_datetime(p["CPPstartDate"], errors="coerce")
        d = det[["LAchildID", "CINreferralDate", "_key"]].assign(_start=pd.to_datetime(det["CINreferralDate"],
                                                                                      errors="coerce"))
        p = pd.merge_asof(p.sort_values("_start"), d.sort_values("_start"), on="_start", by="LAchildID",
                          direction="backward", suffixes=("", "_d"))
        p = p[p["_key"].notna()]
        plan_cols = [c for c in plans.columns if c not in ("LAchildID", "CINdetailsID", "CPPID")]
        inner = det["_key"].map(_grouped(p["_key"].astype(int).astype(str), _elements(
            p, "ChildProtectionPlans", plan_cols)).rename(index=int)).fillna("")
    det_text = _elements(det, "CINdetails", det_cols)
    det_text = det_text.str.slice(0, -len("</CINdetails>")) + inner + "</CINdetails>"
    per_child = _grouped(det["LAchildID"].astype(str), det_text)
    chars = children[["Ethnicity"]] if "Ethnicity" in children.columns else children.iloc[:, :0]
    body = ("<Child>" + _elements(children, "ChildIdentifiers", ident_cols)
            + _elements(chars, "ChildCharacteristics", list(chars.columns))
            + children["LAchildID"].astype(str).map(per_child).fillna("").to_numpy() + "</Child>\n")
    path = Path(path)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='utf-8'?>\n<Message><Header><CollectionDetails><Collection>CIN"
                 f"</Collection><Year>{reference_date[:4]}</Year><ReferenceDate>{reference_date}</ReferenceDate>"
                 "</CollectionDetails></Header>\n<Children>\n")
        for start in range(0, len(body), 100_000):
            fh.write("".join(body.iloc[start:start + 100_000]))
        fh.write("</Children>\n</Message>\n")
    return path


def read_xml(path: Path, name: str, required: dict) -> tuple[str, dict[str, pd.DataFrame]]:
    """(return name, {table kind: text frame}) for one XML file; ``required`` maps kinds to required columns."""
    which = xml_return(path, name)
    tables = read_cin_xml(path, name, required) if which == "CIN census" else read_903_xml(path, name, required)
    return which, tables


__all__ = ["ROOTS", "XML_TABLES", "xml_return", "read_xml", "read_cin_xml", "read_903_xml", "open_bytes",
           "write_903_xml", "write_cin_xml"]
