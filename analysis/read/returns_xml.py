"""Stream the XML returns LAs submit to DfE into the tables :mod:`analysis.read.returns` validates.

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
the line of its element's start tag (of the tag's closing ``>``, as lxml counts). The CIN census is read with
``lxml.etree.iterparse`` on the end of each ``Child`` element, which is cleared (with its already-read siblings) once
read, so memory holds the tables being built, not the document. The SSDA903 is read by a vectorised tokenizer over
the file's bytes, 8 MiB at a time (:func:`read_903_xml`; about six times lxml's speed in one process), which checks
the plain XML it reads as a parser would and leaves any other file (comments inside a field's text, CDATA,
attributes below the root, namespace prefixes, another encoding, a malformed file) to the lxml reader,
:func:`read_903_xml_lxml`. A large plain file is read as two halves at once, the second by a forked process. Each
distinct value (code, date, identifier) is one string object, shared by every cell that holds it.
"""

from __future__ import annotations

import gc
import gzip
import multiprocessing
import os
import pyexpat
import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd
from lxml import etree

from analysis.errors import InputError

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
    """The SSDA903 XML as text tables ``header``, ``episodes``, ``missing`` (with ``_line``).

    Read by a vectorised tokenizer over the bytes (:func:`_read_903_fast`) when the file keeps to the plain XML
    903 exports use; otherwise (comments, CDATA, attributes, prefixes, another encoding, a malformed file) by
    :func:`read_903_xml_lxml`, the reference, which gives the same tables (and a malformed file's line).
    """
    try:
        return _read_903_fast(path, name, required)
    except _Unsupported:
        return read_903_xml_lxml(path, name, required)


def read_903_xml_lxml(path: Path, name: str, required: dict) -> dict[str, pd.DataFrame]:
    """:func:`read_903_xml` by ``lxml.etree.iterparse`` (the reference reader; any well-formed XML)."""
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


# --- the fast SSDA903 reader -------------------------------------------------------------------------------------
#
# A vectorised tokenizer over the file's bytes for the plain subset of XML every 903 export we know uses: element
# tags without attributes (the root may have them, e.g. ``xmlns``) and without namespace prefixes, text with the
# predefined entities and character references, an optional ``<?xml ...?>`` declaration (UTF-8). Everything the
# subset admits is checked as a parser would (tag syntax, nesting and names of start and end tags, characters,
# entities, UTF-8); anything else -- a comment, CDATA, a processing instruction, a DOCTYPE, attributes, a prefix,
# another encoding, a malformed file -- raises ``_Unsupported`` and the file is read by the lxml reader, which is
# the reference (and gives a malformed file's error and line).
#
# Each piece: the positions of '<' and '>' give the tags; each distinct tag is read once (its kind and name); depth
# is a running sum, and start and end tags are paired (:func:`_tokens`). Records and their fields follow from the
# levels and names (:func:`_piece_903`); a field's value is a span of bytes, and each distinct span is decoded once
# and numbered in the file's table of strings (:class:`_Strings`), so the tables are built as numbers and turned
# into text once, at the end (:meth:`_Columns.frame`).

_CHUNK = 8 * 2**20  # bytes read at a time; each piece processed is cut after a whole top-level element
_SPLIT_MIN = 64 * 2**20  # records (bytes) from which a plain file is read by two processes, a half each
_PAD = b"\0" * 80
_ENTITY = re.compile(rb"&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")
_ENTITY_STR = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_DECL = re.compile(rb"<\?xml\s+version\s*=\s*(['\"])1\.0\1(\s+encoding\s*=\s*(['\"])([A-Za-z0-9._-]+)\3)?"
                   rb"(\s+standalone\s*=\s*(['\"])(yes|no)\6)?\s*\?>")
_ROOT = re.compile(rb"<EXPSSDA903(?:\s[^<>]*)?>")
_ROOT_END = re.compile(rb"</EXPSSDA903\s*>\s*\Z")
_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(9)], np.uint64)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # an odd multiplier folding a span's words into one key
_TAG = re.compile(rb"<(/?)([A-Za-z_][A-Za-z0-9_.-]*)[ \t\r\n]*(/?)>\Z")  # a plain start, end or empty tag


class _Unsupported(Exception):
    """The file leaves the subset the fast reader checks: read it with lxml."""


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NOT_EOL = re.compile(rb"[^\r\n]")


def _blank_comments(data: bytes, final: bool) -> tuple[bytes, int, list]:
    """``data`` with each comment's bytes but line ends made spaces; how much of it is usable; comment starts.

    (lxml drops comments: between elements they are whitespace to the tables. Not ``final``, an unterminated
    comment at the end is left for the next piece.)
    """
    if b"<!--" not in data:
        return data, len(data), []
    buf, starts, pos, limit = bytearray(data), [], 0, len(data)
    while True:
        s = data.find(b"<!--", pos)
        if s < 0:
            break
        e = data.find(b"-->", s + 4)
        if e < 0:
            if final:
                raise _Unsupported("an unterminated comment")
            limit = s
            break
        body = data[s + 4:e]
        if b"--" in body or body.endswith(b"-") or _CONTROL.search(body):
            raise _Unsupported("a malformed comment")
        _require_utf8(body)
        buf[s:e + 3] = _NOT_EOL.sub(b" ", data[s:e + 3])
        starts.append(s)
        pos = e + 3
    return bytes(buf), limit, starts


def _require_utf8(data: bytes) -> None:
    """Hand bytes that are not UTF-8 to the reference reader (which names the file and line)."""
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise _Unsupported("not UTF-8") from None


def _valid_char(code: int) -> bool:
    return code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _unref(match) -> str:
    ref = match.group(1)
    if ref in _PREDEFINED:
        return _PREDEFINED[ref]
    return chr(int(ref[2:], 16) if ref[1] == "x" else int(ref[1:]))


def _texts(joined: bytes) -> list:
    """:func:`_text` of each NUL-separated span of ``joined``: plain ones (no reference, line end or edge
    whitespace) decoded at once."""
    if b"&" in joined or b"\r" in joined or not joined.isascii():
        return [_text(raw) for raw in joined.split(b"\0")]
    texts = joined.decode("ascii").split("\0")
    if b" " in joined or b"\t" in joined or b"\n" in joined:
        texts = [t.strip() for t in texts]
    return texts


def _text(raw: bytes) -> str:
    """A leaf's text as lxml gives it, trimmed: line ends normalised, references replaced."""
    text = raw.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _ENTITY_STR.sub(_unref, text)
    return text.strip()


class _Strings:
    """The file's distinct texts, numbered (0 is ''), each one string object.

    Found by each span's 64-bit key (:meth:`_Bytes.keys`) in a sorted array, so that a piece's texts are looked up
    at once and only new ones are kept. A key is exact for a text of at most 8 bytes; a longer text's key is a hash,
    so a text found under it is compared with the one kept, and a mismatch (never seen) leaves the file to lxml.
    """

    def __init__(self):
        self.keys = np.zeros(1, np.uint64)  # sorted; the empty span's key is 0
        self.ids = np.zeros(1, np.int64)
        self.hashed = np.zeros(1, bool)  # the key is a longer text's hash
        self.values = [""]

    def lookup(self, keys: np.ndarray, long: np.ndarray, texts) -> np.ndarray:
        """The number of each of a piece's distinct ``keys`` (``long``: keys that are hashes), adding new texts.

        ``texts(index)`` decodes the texts of some of the keys. A key found where either text is longer is checked.
        """
        order = np.argsort(keys)
        at = np.empty(len(keys), np.int64)
        at[order] = np.minimum(np.searchsorted(self.keys, keys[order]), len(self.keys) - 1)  # sorted: faster
        found = self.keys[at] == keys
        out = np.where(found, self.ids[at], -1)
        check = np.flatnonzero(found & (long | self.hashed[at]))
        if len(check):
            kept = self.values
            if [kept[i] for i in out[check].tolist()] != texts(check):
                raise _Unsupported("two texts with one key")
        new = np.flatnonzero(~found)
        if len(new):
            new = new[np.argsort(keys[new])]
            out[new] = np.arange(len(self.values), len(self.values) + len(new))
            self.values += texts(new)
            where = np.searchsorted(self.keys, keys[new])
            self.keys = np.insert(self.keys, where, keys[new])
            self.ids = np.insert(self.ids, where, out[new])
            self.hashed = np.insert(self.hashed, where, long[new])
        return out

    def merge(self, other: "_Strings") -> np.ndarray:
        """The number here of each of ``other``'s texts (those not here are added); all found are compared."""
        values = other.values
        numbers = np.full(len(values), -1, np.int64)
        numbers[other.ids] = self.lookup(other.keys, np.ones(len(other.keys), bool),
                                         lambda i: [values[j] for j in other.ids[i].tolist()])
        rest = np.flatnonzero(numbers < 0)  # texts kept without a key
        numbers[rest] = self.add([values[j] for j in rest.tolist()])
        return numbers.astype(np.int32)

    def add(self, texts: list) -> np.ndarray:
        """Numbers for texts kept without looking them up (a few long ones)."""
        self.values += texts
        return np.arange(len(self.values) - len(texts), len(self.values))

    def array(self) -> np.ndarray:
        out = np.empty(len(self.values), dtype=object)
        out[:] = self.values
        return out


def _firsts(ids: np.ndarray) -> np.ndarray:
    """Where each id first occurs, for ids numbered in order of first appearance (as ``pd.factorize`` gives)."""
    if not len(ids):
        return np.zeros(0, np.int64)
    top = np.maximum.accumulate(ids)  # sorted: the first position where it reaches each id
    return np.searchsorted(top, np.arange(top[-1] + 1))


class _Bytes:
    """One piece of the file: bytes, a uint8 view and overlapping little-endian 8-byte words at every offset."""

    def __init__(self, data: bytes):
        self.data = data
        padded = data + _PAD
        self.a = np.frombuffer(padded, np.uint8)[: len(data)]
        self.words = np.ndarray((len(padded) - 7,), "<u8", buffer=padded, strides=(1,))

    def keys(self, start: np.ndarray, length: np.ndarray, max_words: int = 8):
        """(id of each span, where each id first occurs, each span's 64-bit key).

        Equal byte spans share an id (exactly). A span of at most 8 bytes is its own key (its bytes, zero past its
        end: NUL is not an XML character); a longer one's words are folded into one (a hash). One hashing of the
        keys numbers the spans; each longer span is then compared with its id's first span, and on a collision
        (never seen) the spans are numbered word by word instead.
        """
        if len(length) and int(length.max()) > 8 * max_words:
            raise _Unsupported("a long span")
        key = self.words[start] & _MASKS[np.minimum(length, 8)]
        long = np.flatnonzero(length > 8)
        words = [key[long]] + self.span_words(start[long] + 8, length[long] - 8)
        if len(long):
            folded = words[0]
            for w in words[1:]:
                folded = folded * _MIX + w
            key[long] = folded
        ids = pd.factorize(key)[0]
        first = _firsts(ids)
        if len(long) and not self._exact(ids, first, length, long, words):
            ids = np.zeros(len(start), np.int64)
            for w in self.span_words(start, length):
                codes, found = pd.factorize(w)
                ids = pd.factorize(ids * len(found) + codes)[0]
            first = _firsts(ids)
        return ids, first, key

    @staticmethod
    def _exact(ids, first, length, long, words) -> bool:
        """Whether the longer spans (``long``, their ``words``) are numbered apart from the others and each has its
        id's first span's length and words."""
        if not np.array_equal(np.flatnonzero((length[first] > 8)[ids]), long):
            return False
        rep = np.searchsorted(long, first[ids[long]])  # each longer span's id's first span, among the longer
        return np.array_equal(length[long][rep], length[long]) and all(np.array_equal(w[rep], w) for w in words)

    def span_words(self, start: np.ndarray, length: np.ndarray) -> list:
        n_words = int((int(length.max()) + 7) // 8) if len(length) else 0
        out = []
        for k in range(n_words):
            rem = np.clip(length - 8 * k, 0, 8)
            out.append(self.words[start + 8 * k] & _MASKS[rem])
        return out

    def joined(self, start: np.ndarray, length: np.ndarray) -> bytes:
        """The spans' bytes, joined by NUL bytes."""
        size = length + 1
        end = np.cumsum(size)
        total = int(end[-1]) - 1 if len(end) else 0
        src = np.arange(total) + np.repeat(start - (end - size), size)[:total]
        out = self.a[np.minimum(src, len(self.a) - 1)]
        out[end[:-1] - 1] = 0
        return out.tobytes()


def _span_ids(piece: _Bytes, start: np.ndarray, length: np.ndarray, strings: _Strings) -> np.ndarray:
    """Each span's text (decoded, trimmed) as its number in ``strings``; each distinct span decoded once (a span
    longer than 64 bytes, rare, each time)."""
    out = np.zeros(len(start), np.int64)
    big = length > 64
    small = slice(None) if not big.any() else ~big
    s, n = start[small], length[small]
    if len(s):
        inv, first, key = piece.keys(s, n)
        s, n = s[first], n[first]
        out[small] = strings.lookup(key[first], n > 8, lambda i: _texts(piece.joined(s[i], n[i])))[inv]
    if big.any():
        out[big] = strings.add(_texts(piece.joined(start[big], length[big])))
    return out


def _check_text(piece: _Bytes, n_lf: int) -> None:
    """Characters and references anywhere in a piece of ``n_lf`` line feeds (tags are checked by the tokenizer)."""
    data, a = piece.data, piece.a
    n_cr = data.count(b"\r") if b"\r" in data else 0
    other = np.count_nonzero(a < 32) - n_lf - n_cr  # tabs, or control characters
    if other and other != data.count(b"\t"):
        raise _Unsupported("a control character")
    if not data.isascii():
        _require_utf8(data)
        if b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
            raise _Unsupported("a non-character")
    if b"]]>" in data:
        raise _Unsupported("]]> in text")
    if n_cr and n_cr != data.count(b"\r\n"):
        raise _Unsupported("a lone carriage return")
    if b"&" in data:
        for pos in np.flatnonzero(a == ord("&")).tolist():
            m = _ENTITY.match(data, pos)
            if m is None:
                raise _Unsupported("an entity")
            ref = m.group(0)[1:-1]
            if ref[:1] == b"#" and not _valid_char(int(ref[2:], 16) if ref[1:2] == b"x" else int(ref[1:])):
                raise _Unsupported("a character reference")


def _tokens(piece: _Bytes, final: bool):
    """The tags of a piece: start positions, end ('>') positions, kind (1 start, -1 end, 0 empty), depth after
    each tag, name ids (one per distinct name, end tags included) and the names.

    When not ``final`` the piece is cut after the last tag that closes a top-level element; returns None when
    there is none yet.
    """
    a = piece.a
    lt = np.flatnonzero(a == ord("<"))
    gt_all = np.flatnonzero(a == ord(">"))
    if not final:
        lt = lt[:-1]  # the last tag may be incomplete
        if not len(lt):
            return None
    n = len(lt)
    if not n:
        return lt, lt, np.zeros(0, np.int8), lt, lt, []
    if len(gt_all) >= n and (gt_all[:n] > lt).all() and (gt_all[:n - 1] < lt[1:]).all():
        gt = gt_all[:n]  # '<' and '>' alternate: each tag ends at the next '>' (the usual case: no '>' in text)
    else:
        j = np.searchsorted(gt_all, lt)
        if j[-1] >= len(gt_all):
            raise _Unsupported("an unterminated tag")
        gt = gt_all[j]
        if (gt[:-1] > lt[1:]).any():
            raise _Unsupported("'<' inside a tag")
    # each distinct tag (its bytes between '<' and '>') is read once: its kind and element name
    tag, first, _ = piece.keys(lt + 1, gt - lt - 1)
    data, kinds, name_of, found = piece.data, [], [], {}
    for s, e in zip(lt[first].tolist(), gt[first].tolist()):
        m = _TAG.match(data, s, e + 1)
        if m is None or (m.group(1) and m.group(3)):  # comments, PIs, CDATA, DOCTYPE, attributes, prefixes, '< a>'
            raise _Unsupported("a tag that is not a plain element tag")
        kinds.append(-1 if m.group(1) else 0 if m.group(3) else 1)
        name_of.append(found.setdefault(m.group(2).decode("ascii"), len(found)))
    kind = np.array(kinds, np.int8)[tag]
    depth = np.cumsum(kind, dtype=np.int64)
    if not final:
        ends = np.flatnonzero((depth == 0) & (kind <= 0))
        if not len(ends):
            return None
        k = ends[-1] + 1
        lt, gt, kind, depth, tag = lt[:k], gt[:k], kind[:k], depth[:k], tag[:k]
    if depth.min() < 0 or depth[-1] != 0:
        raise _Unsupported("start and end tags do not balance")
    ids, names = np.array(name_of, np.int64)[tag], list(found)
    # pair each start tag with its end tag (the next end tag at the same level): the same name, byte for byte. A
    # start tag followed at once by an end tag (a field) is a pair; the others are paired by sorting them by level
    field = np.flatnonzero((kind[:-1] == 1) & (kind[1:] == -1))
    if (ids[field] != ids[field + 1]).any():
        raise _Unsupported("an end tag that does not match its start tag")
    others = kind != 0
    others[field] = others[field + 1] = False
    paired = np.flatnonzero(others)
    if len(paired):
        level = np.where(kind == -1, depth + 1, depth)[paired]
        order = paired[np.argsort(level.astype(np.int16) if level.max() < 2**15 else level, kind="stable")]
        opens, closes = order[0::2], order[1::2]
        if (kind[opens] != 1).any() or (kind[closes] != -1).any() or (ids[opens] != ids[closes]).any():
            raise _Unsupported("an end tag that does not match its start tag")
    return lt, gt, kind, depth, ids, names


class _Columns:
    """A text table built piece by piece, its cells numbers in the file's strings (:class:`_Strings`); columns in
    order of first appearance, '' where a row has no value."""

    def __init__(self, lead=()):
        self.lead, self.order = list(lead), []
        self.parts: list[tuple[int, dict]] = []
        self.lines: list[np.ndarray] = []

    def add(self, n: int, cols: dict, order: list, lines: np.ndarray) -> None:
        if not n:
            return
        for key in self.lead + list(order):
            if key not in self.order:
                self.order.append(key)
        self.parts.append((n, cols))
        self.lines.append(lines)

    def extend(self, other: "_Columns", numbers: np.ndarray, line_base: int) -> None:
        """Add ``other``'s rows, read after these (its cells renumbered by ``numbers``, its lines after
        ``line_base`` line feeds)."""
        for (n, cols), lines in zip(other.parts, other.lines):
            self.add(n, {key: numbers[codes] for key, codes in cols.items()}, other.order, lines + line_base)

    def frame(self, values: np.ndarray, required=()) -> pd.DataFrame:
        """The table as text (``values``: the file's strings by number), built in place in one block."""
        order = self.order + [c for c in required if c not in self.order]
        n_total = sum(n for n, _ in self.parts)
        block = np.empty((len(order), n_total), dtype=object)
        for j, key in enumerate(order):
            codes = [cols.get(key) for _, cols in self.parts]
            if any(c is None for c in codes):
                codes = [np.zeros(n, np.int32) if c is None else c for c, (n, _) in zip(codes, self.parts)]
            np.take(values, np.concatenate(codes) if codes else np.zeros(0, np.int32), out=block[j])
        self.parts = []
        out = pd.DataFrame(block.T, columns=order, index=pd.RangeIndex(n_total), dtype=object, copy=False)
        lines = np.concatenate(self.lines) if self.lines else np.zeros(0, np.int64)
        out["_line"] = pd.array(lines, dtype="int64")
        return out


def _piece_903(piece: _Bytes, tokens, nl: np.ndarray, line_base: int, tables: dict, strings: _Strings,
               comments=()) -> None:
    """Add one piece's header, episode and missing rows to ``tables`` (tokens from :func:`_tokens`; ``nl``: the
    piece's line feeds; ``line_base``: line feeds before it)."""
    lt, gt, kind, depth, ids, names = tokens
    if not len(lt):
        return
    if len(comments):
        j = np.searchsorted(lt, np.asarray(comments))  # the tag after each comment
        after, before = kind[np.minimum(j, len(lt) - 1)], kind[np.maximum(j - 1, 0)]
        if ((j > 0) & (j < len(lt)) & (before == 1) & (after == -1)).any():
            raise _Unsupported("a comment in an element's text")
    name_id = {n: i for i, n in enumerate(names)}
    if "EXPSSDA903" in name_id:
        raise _Unsupported("a nested EXPSSDA903")  # the lxml reader takes CHILD records under it too
    n_ev = len(lt)

    def named(name):
        return ids == name_id[name] if name in name_id else np.zeros(n_ev, bool)

    def marks(index):  # a mask over the tags, plus a last False for "no parent" (-1)
        out = np.zeros(n_ev + 1, bool)
        out[index] = True
        return out

    level = np.where(kind == 0, depth + 1, depth)  # an element's level (an end tag's: its parent's)
    is_el = kind >= 0
    leaf = (kind == 0) | ((kind == 1) & (np.append(kind[1:], 1) == -1))  # empty, or its end tag next
    # parent of each element at levels 2-4: the last start tag one level up before it (-1 elsewhere)
    parent = np.full(n_ev, -1, np.int64)
    elem = np.flatnonzero(is_el)
    el_level = level[elem]
    for lev in range(2, min(int(el_level.max()), 4) + 1):
        at = elem[el_level == lev]
        ups = np.flatnonzero((kind == 1) & (level == lev - 1))
        parent[at] = ups[np.searchsorted(ups, at, side="right") - 1]
    top = np.flatnonzero((kind == 1) & (level == 1))
    in_child = is_el & (level == 2) & marks(top[ids[top] == name_id.get("CHILD", -1)])[parent]
    heads = np.flatnonzero(in_child & named("HEADER"))
    if len(heads):
        heads = heads[np.append(True, parent[heads][1:] != parent[heads][:-1])]  # the first HEADER of a child
    wrappers = np.flatnonzero(in_child & (kind == 1) & (named("EPISODES") | named("MISSING_EPISODES")))
    third = is_el & (level == 3)
    in_wrapper = third & marks(wrappers)[parent]
    eps = np.flatnonzero(named("EPISODE") & (in_child | in_wrapper))
    mis = np.flatnonzero(named("AMISSING") & (in_child | in_wrapper | (third & marks(heads)[parent])))

    # the fields of all records at once (one decoding of their distinct values), then table by table
    rec_table = np.zeros(n_ev + 1, np.int8)
    rec_row = np.zeros(n_ev + 1, np.int64)
    for code, recs in ((1, heads), (2, eps), (3, mis)):
        rec_table[recs] = code
        rec_row[recs] = np.arange(len(recs))
    f_table = rec_table[parent]
    f = np.flatnonzero(leaf & (f_table > 0))
    f_table, f_row = f_table[f], rec_row[parent[f]]
    key_names = list(dict.fromkeys(_RENAME_903.get(n, n) for n in names))
    f_key = np.array([key_names.index(_RENAME_903.get(n, n)) for n in names], np.int64)[ids[f]]
    empty = kind[f] == 0
    f_values = _span_ids(piece, gt[f] + 1 - empty,
                         np.where(empty, 0, lt[np.minimum(f + 1, n_ev - 1)] - gt[f] - 1), strings)

    def fields(code, n_recs):
        """Table ``code``'s fields, one row of numbers per key (-1 where a record lacks it), and their keys in
        order of first appearance."""
        sel = f_table == code
        rows, values = f_row[sel], f_values[sel]
        col, order = pd.factorize(f_key[sel])  # keys numbered in order of first appearance
        cell = col * n_recs + rows
        grid = np.full(len(order) * n_recs, -1, np.int32)
        if len(cell) and np.bincount(cell).max() > 1:  # a repeated field: the last one, as lxml's dict gives
            last = len(cell) - 1 - np.unique(cell[::-1], return_index=True)[1]
            cell, values = cell[last], values[last]
        grid[cell] = values
        return grid.reshape(len(order), n_recs), [key_names[k] for k in order.tolist()]

    def lines(recs):
        return line_base + np.searchsorted(nl, gt[recs]) + 1

    grid, order = fields(1, len(heads))
    keep = (grid >= 0).any(axis=0)  # a HEADER with no fields gives no row (and its child no CHILD or DOB)
    heads, grid = heads[keep], np.maximum(grid[:, keep], 0)
    tables["header"].add(len(heads), dict(zip(order, grid)), order, lines(heads))
    head_of = np.full(n_ev + 1, -1, np.int64)  # the header row of each CHILD element
    head_of[parent[heads]] = np.arange(len(heads))
    head = dict(zip(order, grid))

    def from_header(key, recs):  # the child's CHILD or DOB for its episodes and missing records
        if key not in head or not len(recs):
            return np.zeros(len(recs), np.int32)
        row = head_of[top[np.searchsorted(top, recs, side="right") - 1]]
        return np.where(row >= 0, head[key][row], 0).astype(np.int32)

    for code, kind_name, recs in ((2, "episodes", eps), (3, "missing", mis)):
        grid, order = fields(code, len(recs))
        cols = dict(zip(order, grid))
        cols.pop("CHILD", None)
        out = {"CHILD": from_header("CHILD", recs)}
        if kind_name == "missing":
            own = cols.pop("DOB", None)
            out["DOB"] = from_header("DOB", recs) if own is None else np.where(own >= 0, own, from_header("DOB", recs))
        out.update({k: np.maximum(v, 0) for k, v in cols.items()})
        tables[kind_name].add(len(recs), out, [k for k in order if k != "CHILD"], lines(recs))


def _read_903_fast(path: Path, name: str, required: dict) -> dict[str, pd.DataFrame]:
    """:func:`read_903_xml` by the vectorised tokenizer; ``_Unsupported`` for a file outside its subset.

    A plain (not gzipped) file of at least ``_SPLIT_MIN`` bytes is read as two halves at once, the second by a
    forked process (:func:`_read_halves`); when that fails (the split fell inside an element or a comment, or the
    file is outside the subset) it is read again in one pass, which decides.
    """
    try:
        fh = open_bytes(path)
    except OSError as exc:
        raise InputError(name, f"cannot be read ({exc})") from None
    with fh:
        try:
            data = fh.read(_CHUNK)
        except (OSError, EOFError) as exc:
            raise _Unsupported("unreadable") from exc
        start, line_base = _prolog(data)
        split = None if path.name.lower().endswith(".gz") else _split_point(fh, start)
        if split is not None:
            try:
                return _frames(*_read_halves(path, start, split, line_base), required)
            except _Unsupported:
                fh.seek(len(data))
        return _frames(*_read_range(fh, data[start:], None, line_base)[:2], required)


def _prolog(data: bytes) -> tuple[int, int]:
    """Where the records start (after the declaration and the root's start tag) and the line feeds before."""
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while pos < len(data) and data[pos] in b" \t\r\n":
        pos += 1
    decl = _DECL.match(data, pos)  # (a comment may not come before it)
    if decl is not None:
        if decl.group(4) is not None and decl.group(4).lower() not in (b"utf-8", b"us-ascii", b"ascii"):
            raise _Unsupported("another encoding")
        pos = decl.end()
    elif data[pos:pos + 2] == b"<?":
        raise _Unsupported("a processing instruction")
    blanked, _, _ = _blank_comments(data, final=False)  # comments before the root
    while pos < len(blanked) and blanked[pos] in b" \t\r\n":
        pos += 1
    root = _ROOT.match(blanked, pos)
    if root is None:
        raise _Unsupported("another root or something before it")
    head = data[:root.end()]
    parser = pyexpat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(head + b"</EXPSSDA903>", True)
    except pyexpat.ExpatError as exc:
        raise _Unsupported("the declaration or root tag") from exc
    if b"\r" in head and head.count(b"\r") != head.count(b"\r\n"):
        raise _Unsupported("a lone carriage return")
    return root.end(), head.count(b"\n")


def _read_range(fh, pending: bytes, size: int | None, line_base: int) -> tuple[dict, _Strings, int]:
    """(tables, strings, line feeds before the end) of ``pending`` and the next ``size`` bytes of ``fh``.

    ``size`` None: to the end of the file, which must close the root; otherwise the range ends between records.
    Read ``_CHUNK`` bytes at a time; each piece processed is cut after a whole top-level element.
    """
    tables = {"header": _Columns(), "episodes": _Columns(("CHILD",)), "missing": _Columns(("CHILD", "DOB"))}
    strings = _Strings()
    eof = need_more = False
    while True:
        if not eof and (len(pending) < _CHUNK or need_more):
            need_more = False
            want = _CHUNK if size is None else min(_CHUNK, size)
            try:
                more = fh.read(want) if want else b""
            except (OSError, EOFError) as exc:
                raise _Unsupported("unreadable") from exc
            eof = not more
            if more:
                pending += more
                if size is not None:
                    size -= len(more)
        blanked, limit, comments = _blank_comments(pending, final=eof)  # pending stays as read
        if eof:
            end = len(blanked)
            if size is None:
                end = blanked.rfind(b"<")
                if end < 0 or _ROOT_END.match(blanked, end) is None:
                    raise _Unsupported("no end tag of the root, or something after it")
                tail = blanked[end:]
                if tail.count(b"\r") != tail.count(b"\r\n"):
                    raise _Unsupported("a lone carriage return")
            piece = _Bytes(blanked[:end])
            tokens = _tokens(piece, final=True)
        else:
            piece = _Bytes(blanked[:limit])
            tokens = _tokens(piece, final=False)
            if tokens is None:  # no whole top-level element yet
                need_more = True
                continue
            cut = int(tokens[1][-1]) + 1
            piece = _Bytes(blanked[:cut])
            pending = pending[cut:]
            comments = [c for c in comments if c < cut]
        nl = np.flatnonzero(piece.a == ord("\n"))
        _check_text(piece, len(nl))
        _piece_903(piece, tokens, nl, line_base, tables, strings, comments)
        line_base += len(nl)
        if eof:
            return tables, strings, line_base


def _frames(tables: dict, strings: _Strings, required: dict) -> dict[str, pd.DataFrame]:
    values = strings.array()
    return {kind: tables[kind].frame(values, required[kind]) for kind in ("header", "episodes", "missing")}


def _split_point(fh, start: int) -> int | None:
    """Where to split a large plain file for two processes: the first ``<CHILD>`` tag after the middle of its
    records; None to read it in one pass (a small file, one core, no fork, threads running, no such tag)."""
    if (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) < 2:
        return None
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return None  # forking a process with threads running is unsafe
    size = os.fstat(fh.fileno()).st_size
    if size - start < _SPLIT_MIN:
        return None
    middle = start + (size - start) // 2
    fh.seek(middle)
    at = fh.read(2**20).find(b"<CHILD>")
    return None if at < 0 else middle + at


def _read_halves(path: Path, start: int, split: int, line_base: int) -> tuple[dict, _Strings]:
    """The tables and strings of the records read as two halves at once: ``[start, split)`` here and ``[split,
    end)`` by a forked process (:func:`_read_tail`), which sends its tables back; ``_Unsupported`` when either half
    fails (each half's tags must balance, so the split must fall between two records)."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=_read_tail, args=(path, split, send), daemon=True)
    gc.freeze()  # objects shared with the forked process: its collector leaves them (and their pages) alone
    try:
        worker.start()
    finally:
        gc.unfreeze()
    send.close()
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            tables, strings, line_base = _read_range(fh, b"", split - start, line_base)
        tail = receive.recv()
    except EOFError:  # the process ended without sending
        raise _Unsupported("the second half") from None
    finally:
        receive.close()
        if worker.is_alive() and worker.exitcode is None:
            worker.kill()
        worker.join()
    if tail is None:
        raise _Unsupported("the second half")
    more, their = tail
    numbers = strings.merge(their)
    for kind, table in tables.items():
        table.extend(more[kind], numbers, line_base)
    return tables, strings


def _read_tail(path: Path, start: int, send) -> None:
    """In the forked process: read the records from byte ``start`` to the end and send (tables, strings) back,
    or None when that fails (the parent then reads the file in one pass)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            result = _read_range(fh, b"", None, 0)[:2]
    except Exception:  # noqa: BLE001 (any failure: the parent decides in one pass)
        result = None
    send.send(result)
    send.close()


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


__all__ = ["ROOTS", "XML_TABLES", "xml_return", "read_xml", "read_cin_xml", "read_903_xml", "read_903_xml_lxml", "open_bytes",
           "write_903_xml", "write_cin_xml"]
