#!/usr/bin/env python3
"""Turns unpacked Debian packages into plain-text corpus files (called by scripts/fetch-corpus.sh).

Python 3 standard library only. Subcommands:
  austen ROOT OUT   ROOT holds an unpacked r-cran-janeaustenr; writes OUT/austen/<book>.txt and OUT/austen.txt
  web ROOT OUT      ROOT holds an unpacked sword-text-web; writes OUT/web.txt, one verse per line
  summary FILE...   prints path, characters and lines of each file on stderr

Every output is written under a temporary name and renamed into place, so a failure never leaves a
half-written file. Any surprise in the input formats is an error that names the file and what was expected.
"""

import bz2
import gzip
import html
import lzma
import os
import re
import struct
import sys
import tempfile
import zlib
from pathlib import Path

# Fixed order of the concatenated austen.txt (the package's own order is alphabetical, not publication).
AUSTEN_BOOKS = ("emma", "mansfieldpark", "northangerabbey", "persuasion", "prideprejudice", "sensesensibility")


class FormatError(Exception):
    pass


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; outputs are ordinary shared files
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def find_one(root: Path, pattern: str, what: str) -> Path:
    hits = sorted(root.rglob(pattern))
    if len(hits) != 1:
        raise FormatError(f"{root}: expected exactly one {pattern} ({what}), found {len(hits)}: "
                          + ", ".join(str(h) for h in hits[:5]))
    return hits[0]


# ---------------------------------------------------------------------------------------------------------
# R's XDR serialization (src/main/serialize.c): "X\n", then big-endian int32 version (2 or 3), writer and
# minimum reader versions, and for version 3 the native encoding. Each item starts with an int32 of flags:
# bits 0-7 the SEXP type, bit 8 "is object", bit 9 "has attributes", bit 10 "has tag", bits 12+ the gp
# "levels" (for CHARSXP, the encoding). Vector lengths are int32; -1 announces a 64-bit length as two int32.

NILSXP, SYMSXP, LISTSXP, LANGSXP, CHARSXP, LGLSXP = 0, 1, 2, 6, 9, 10
INTSXP, REALSXP, CPLXSXP, STRSXP, VECSXP, EXPRSXP, RAWSXP = 13, 14, 15, 16, 19, 20, 24
REFSXP, NILVALUE_SXP = 255, 254
# Singleton references that carry no payload; they can appear in attributes and pairlists.
SPECIAL_SXPS = {253: "GlobalEnv", 252: "UnboundValue", 251: "MissingArg", 250: "BaseNamespace",
                242: "EmptyEnv", 241: "BaseEnv"}
UTF8_MASK, LATIN1_MASK, BYTES_MASK, ASCII_MASK = 1 << 3, 1 << 2, 1 << 1, 1 << 6


class RValue:
    """One deserialized R object: its SEXP type, its value (a Python list for vectors, (tag, value) pairs
    for pairlists, a str for symbols) and its attributes as a dict name -> RValue."""

    def __init__(self, sexptype, value, attrs=None):
        self.type, self.value, self.attrs = sexptype, value, attrs or {}

    def names(self):
        names = self.attrs.get("names")
        return names.value if names is not None else None


class RUnserializer:
    def __init__(self, data: bytes, source: str):
        self.data, self.pos, self.source = data, 0, source
        self.refs = []
        self.native_encoding = "utf-8"

    def fail(self, message):
        raise FormatError(f"{self.source}: R serialization, byte {self.pos}: {message}")

    def take(self, n):
        if self.pos + n > len(self.data):
            self.fail(f"truncated: need {n} more bytes, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def length(self):
        n = self.int32()
        if n == -1:
            upper, lower = self.int32(), self.int32()
            n = (upper << 32) | (lower & 0xFFFFFFFF)
        elif n < -1:
            self.fail(f"negative vector length {n}")
        return n

    def read(self) -> RValue:
        magic = self.take(2)
        if magic != b"X\n":
            self.fail(f"format {magic!r} is not XDR binary (expected b'X\\n'; ascii and native formats "
                      "are not supported)")
        version = self.int32()
        self.int32()  # writer's R version
        self.int32()  # minimum R version to read it
        if version == 3:
            self.native_encoding = self.take(self.int32()).decode("ascii").lower()
        elif version != 2:
            self.fail(f"serialization version {version} (expected 2 or 3)")
        item = self.item()
        if self.pos != len(self.data):
            self.fail(f"{len(self.data) - self.pos} trailing bytes after the top-level object")
        return item

    def attributes(self, flags):
        if not flags & (1 << 9):
            return {}
        pairs = self.item()
        if pairs.type != LISTSXP:
            self.fail(f"attributes are SEXP type {pairs.type} (expected a pairlist, type 2)")
        return {tag: value for tag, value in pairs.value}

    def charsxp(self, flags):
        n = self.int32()
        if n == -1:
            return None  # NA_STRING
        raw = self.take(n)
        levels = flags >> 12
        if levels & UTF8_MASK:
            encoding = "utf-8"
        elif levels & LATIN1_MASK:
            encoding = "latin-1"
        elif levels & (ASCII_MASK | BYTES_MASK):
            encoding = "ascii" if levels & ASCII_MASK else "latin-1"
        else:
            encoding = self.native_encoding
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as e:
            self.fail(f"string {raw[:40]!r} does not decode as {encoding}: {e}")

    def item(self) -> RValue:
        flags = self.int32()
        sexptype = flags & 0xFF
        if sexptype == NILVALUE_SXP:
            return RValue(NILSXP, None)
        if sexptype in SPECIAL_SXPS:
            return RValue(sexptype, SPECIAL_SXPS[sexptype])
        if sexptype == REFSXP:
            index = flags >> 8 or self.int32()
            if not 1 <= index <= len(self.refs):
                self.fail(f"reference {index} outside the table of {len(self.refs)} entries")
            return self.refs[index - 1]
        if sexptype == SYMSXP:
            name = self.item()
            if name.type != CHARSXP:
                self.fail(f"symbol name is SEXP type {name.type} (expected CHARSXP, 9)")
            symbol = RValue(SYMSXP, name.value)
            self.refs.append(symbol)
            return symbol
        if sexptype in (LISTSXP, LANGSXP):
            # Pairlists are read iteratively along the CDR so long ones do not exhaust the stack.
            head = RValue(sexptype, [])
            node_flags = flags
            while True:
                attrs = self.attributes(node_flags)
                if not head.value:
                    head.attrs = attrs
                tag = None
                if node_flags & (1 << 10):
                    symbol = self.item()
                    tag = symbol.value
                head.value.append((tag, self.item()))
                node_flags = self.int32()
                if node_flags & 0xFF == NILVALUE_SXP:
                    return head
                if node_flags & 0xFF not in (LISTSXP, LANGSXP):
                    self.fail(f"pairlist continues with SEXP type {node_flags & 0xFF} (expected a pairlist)")
        if sexptype == CHARSXP:
            return RValue(CHARSXP, self.charsxp(flags))
        if sexptype in (LGLSXP, INTSXP):
            n = self.length()
            value = list(struct.unpack(f">{n}i", self.take(4 * n)))
        elif sexptype == REALSXP:
            n = self.length()
            value = list(struct.unpack(f">{n}d", self.take(8 * n)))
        elif sexptype == CPLXSXP:
            n = self.length()
            value = list(struct.unpack(f">{2 * n}d", self.take(16 * n)))
        elif sexptype == RAWSXP:
            value = self.take(self.length())
        elif sexptype == STRSXP:
            value = []
            for _ in range(self.length()):
                element_flags = self.int32()
                if element_flags & 0xFF != CHARSXP:
                    self.fail(f"character vector element is SEXP type {element_flags & 0xFF} (expected 9)")
                value.append(self.charsxp(element_flags))
        elif sexptype in (VECSXP, EXPRSXP):
            value = [self.item() for _ in range(self.length())]
        else:
            self.fail(f"unsupported SEXP type {sexptype} (flags {flags:#x}); this reader handles data "
                      "vectors, lists, pairlists and symbols only")
        return RValue(sexptype, value, self.attributes(flags))


def r_unserialize(data: bytes, source: str) -> RValue:
    return RUnserializer(data, source).read()


def read_lazyload_db(rdb: Path, rdx: Path) -> dict:
    """Reads an R lazy-load database: name -> RValue for every variable the .rdx index lists."""
    # The .rdx is a saveRDS() file, so normally gzip; accept a bare zlib stream or no compression too.
    raw = rdx.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    elif raw[:1] == b"\x78":
        raw = zlib.decompress(raw)
    index = r_unserialize(raw, str(rdx))
    names = index.names()
    if index.type != VECSXP or not names or "variables" not in names:
        raise FormatError(f"{rdx}: expected a named list with 'variables', got SEXP type {index.type} "
                          f"with names {names}")
    variables = index.value[names.index("variables")]
    compressed = 1
    if "compressed" in names:
        flag = index.value[names.index("compressed")]
        compressed = flag.value[0] if flag.value else 1
    db = rdb.read_bytes()
    result = {}
    for name, entry in zip(variables.names() or [], variables.value):
        if entry.type != INTSXP or len(entry.value) != 2:
            raise FormatError(f"{rdx}: variable '{name}' has no [offset, length] pair")
        offset, size = entry.value
        if offset < 0 or size < 5 or offset + size > len(db):
            raise FormatError(f"{rdb}: '{name}' at bytes {offset}+{size} lies outside the file ({len(db)} bytes)")
        record = db[offset:offset + size]
        # Each record: big-endian uint32 uncompressed length, then the payload. With compress = 2 or 3
        # (bzip2, xz) a type byte precedes it: '0' stored, '1' zlib, '2' bzip2, 'Z' xz.
        expected = struct.unpack(">I", record[:4])[0]
        payload, method = record[4:], "1"
        if compressed in (2, 3):
            method, payload = chr(record[4]), record[5:]
        try:
            if method == "1":
                data = zlib.decompress(payload)
            elif method == "2":
                data = bz2.decompress(payload)
            elif method == "Z":
                data = lzma.decompress(payload)
            elif method == "0":
                data = payload
            else:
                raise FormatError(f"{rdb}: '{name}' has compression type {method!r} (expected 0, 1, 2 or Z)")
        except (zlib.error, OSError, lzma.LZMAError) as e:
            raise FormatError(f"{rdb}: '{name}' does not decompress: {e}") from e
        if len(data) != expected:
            raise FormatError(f"{rdb}: '{name}' decompresses to {len(data)} bytes, header says {expected}")
        result[name] = r_unserialize(data, f"{rdb}:{name}")
    return result


def extract_austen(root: Path, out: Path) -> None:
    rdb = find_one(root, "janeaustenr/data/Rdata.rdb", "the package's data lazy-load database")
    rdx = rdb.with_suffix(".rdx")
    if not rdx.is_file():
        raise FormatError(f"{rdx}: missing (expected next to {rdb.name})")
    objects = read_lazyload_db(rdb, rdx)
    books = []
    for name in AUSTEN_BOOKS:
        if name not in objects:
            raise FormatError(f"{rdb}: no object '{name}' (found: {', '.join(sorted(objects))})")
        book = objects[name]
        if book.type != STRSXP:
            raise FormatError(f"{rdb}: '{name}' is SEXP type {book.type} (expected a character vector, 16)")
        if any(line is None for line in book.value):
            raise FormatError(f"{rdb}: '{name}' contains NA strings (expected text lines only)")
        if any("\n" in line or "\r" in line for line in book.value):
            raise FormatError(f"{rdb}: '{name}' has line breaks inside elements (expected one line each)")
        books.append("".join(line + "\n" for line in book.value))
    for name, text in zip(AUSTEN_BOOKS, books):
        write_atomic(out / "austen" / f"{name}.txt", text)
    write_atomic(out / "austen.txt", "\n".join(books))


# ---------------------------------------------------------------------------------------------------------
# SWORD zText (what engWEB2015eb 426.0 turned out to be; conf: ModDrv=zText, CompressType=ZIP,
# BlockType=BOOK, SourceType=OSIS, Versification=NRSVA). Per testament ("ot", "nt"):
#   .bzs  12-byte little-endian entries (offset u32, compressed size u32, uncompressed size u32) into .bzz;
#   .bzz  zlib streams, one per block (here one per book, plus block 0 for the testament heading);
#   .bzv  10-byte entries (block u32, offset u32, size u16): one per versification slot, in order.
# The slots follow SWORD's layout: [0] module heading, [1] testament heading, then per book a book
# introduction slot and per chapter a chapter-heading slot followed by the verses. Slots of verses the
# module lacks have size 0. Verse tags are not stored (osis2mod strips them); chapter headings hold
# <chapter sID="Book.N"/>, and a book's introduction is the slot just before its chapter 1 heading.
# Observed quirks: Genesis's introduction slot holds the whole preface; Revelation 22:21 carries the
# glossary after </chapter>; footnotes often sit between two words with no space around them.

ZTEXT_DRIVERS = {"ztext": (10, "<IIH")}  # zText4 would use (12, "<III"); not seen, so refused below
CHAPTER_START = re.compile(r'<chapter\b[^>]*\bsID="([^"]+)"')
CHAPTER_END = re.compile(r'<chapter\b[^>]*\beID=')
NOTE = re.compile(r"<note\b[^>]*?(?:/>|>.*?</note>)", re.S)
# Elements whose content is not verse text: non-canonical headings and the speaker labels of the Song.
DROPPED = re.compile(r'<title\b(?![^>]*canonical="true")[^>]*>.*?</title>|<speaker\b[^>]*>.*?</speaker>', re.S)
# Word-level markup is removed without a trace; every other tag (line, paragraph, milestone) is a break.
INLINE_TAG = re.compile(r"</?(?:w|q|seg|name|hi|transChange|foreign|rdg|divineName|catchWord|reference)\b[^>]*>")
ANY_TAG = re.compile(r"<[^>]*>")
NOTE_MARK = "\x00"
CLOSING_PUNCT = ".,;:!?)]”’"
NOTE_GAP = re.compile(r"\s*" + NOTE_MARK + r"\s*")


def parse_conf(conf: Path) -> dict:
    values = {}
    for line in conf.read_text(encoding="utf-8", errors="replace").splitlines():
        if "=" in line and not line.lstrip().startswith("#") and not line.startswith("["):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), value.strip())
    return values


def osis_to_text(osis: str) -> str:
    text = osis
    end = CHAPTER_END.search(text)
    if end:
        text = text[:end.start()]  # after a chapter's end come only book ends and back matter
    text = NOTE.sub(NOTE_MARK, text)
    text = DROPPED.sub(" ", text)
    text = INLINE_TAG.sub("", text)
    text = ANY_TAG.sub(" ", text)
    if "<" in text or ">" in text:
        raise FormatError(f"unbalanced markup left in verse text: {text[:120]!r}")
    text = html.unescape(text)
    # Footnotes often sit between two words with no space left around them, so a footnote stands for a
    # space, except before closing punctuation (the text also has "coins <note/> ?").
    text = re.sub(NOTE_MARK + "+", NOTE_MARK, text)
    text = NOTE_GAP.sub(lambda m: "" if m.end() == len(text) or text[m.end()] in CLOSING_PUNCT or m.start() == 0
                        else " ", text)
    return " ".join(text.split())


def read_testament(module: Path, testament: str, entry_size: int, entry_format: str):
    """Yields (chapter osisID or None, raw OSIS text) for every slot of one testament, in stored order."""
    files = {ext: module / f"{testament}.{ext}" for ext in ("bzs", "bzv", "bzz")}
    for path in files.values():
        if not path.is_file():
            raise FormatError(f"{path}: missing (a zText module has {testament}.bzs, .bzv and .bzz)")
    bzs, bzv, bzz = (files[ext].read_bytes() for ext in ("bzs", "bzv", "bzz"))
    if len(bzs) % 12:
        raise FormatError(f"{files['bzs']}: {len(bzs)} bytes is not a whole number of 12-byte block entries")
    if len(bzv) % entry_size:
        raise FormatError(f"{files['bzv']}: {len(bzv)} bytes is not a whole number of {entry_size}-byte entries")
    blocks = [struct.unpack_from("<III", bzs, i) for i in range(0, len(bzs), 12)]
    cache = {}

    def block(number):
        if number not in cache:
            if number >= len(blocks):
                raise FormatError(f"{files['bzv']}: block {number} past the {len(blocks)} blocks of {files['bzs'].name}")
            offset, size, usize = blocks[number]
            if offset + size > len(bzz):
                raise FormatError(f"{files['bzz']}: block {number} ends at byte {offset + size}, past the end ({len(bzz)})")
            try:
                data = zlib.decompress(bzz[offset:offset + size])
            except zlib.error as e:
                raise FormatError(f"{files['bzz']}: block {number} does not inflate: {e}") from e
            if len(data) != usize:
                raise FormatError(f"{files['bzz']}: block {number} inflates to {len(data)} bytes, index says {usize}")
            cache.clear()  # slots run through the blocks in order; keep one inflated block at a time
            cache[number] = data
        return cache[number]

    for i in range(0, len(bzv), entry_size):
        number, offset, size = struct.unpack_from(entry_format, bzv, i)
        if size == 0:
            yield ""
            continue
        data = block(number)
        if offset + size > len(data):
            raise FormatError(f"{files['bzv']}: slot {i // entry_size} ends at byte {offset + size} of block "
                              f"{number}, which has {len(data)}")
        try:
            yield data[offset:offset + size].decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError(f"{files['bzz']}: slot {i // entry_size} is not UTF-8: {e}") from e


def extract_web(root: Path, out: Path) -> None:
    confs = [c for c in root.rglob("mods.d/*.conf")]
    if len(confs) != 1:
        raise FormatError(f"{root}: expected exactly one SWORD mods.d/*.conf, found {len(confs)}")
    conf_path = confs[0]
    conf = parse_conf(conf_path)
    expect = {"ModDrv": "ztext", "CompressType": "zip", "SourceType": "osis", "Encoding": "utf-8"}
    for key, want in expect.items():
        if conf.get(key, "").lower() != want:
            raise FormatError(f"{conf_path}: {key}={conf.get(key)!r} (this reader expects {want})")
    entry_size, entry_format = ZTEXT_DRIVERS[conf["ModDrv"].lower()]
    module = (conf_path.parent.parent / conf.get("DataPath", "")).resolve()
    if not module.is_dir():
        raise FormatError(f"{conf_path}: DataPath {conf.get('DataPath')!r} is not a directory under {root}")

    lines, books = [], []
    for testament in ("ot", "nt"):
        slots = list(read_testament(module, testament, entry_size, entry_format))
        chapters = [CHAPTER_START.search(s) for s in slots]
        book_intro = {i - 1 for i, m in enumerate(chapters) if m and m.group(1).endswith(".1")}
        if not book_intro:
            raise FormatError(f"{module}/{testament}.bzv: no <chapter sID=\"Book.1\"/> headings found")
        chapter = None
        for i, slot in enumerate(slots):
            if chapters[i]:
                chapter = chapters[i].group(1)
                continue
            if i < 2 or i in book_intro or not slot or chapter is None:
                continue  # module and testament headings, book introductions, absent verses
            text = osis_to_text(slot)
            if text:
                lines.append(text)
                book = chapter.rsplit(".", 1)[0]
                if not books or books[-1] != book:
                    books.append(book)
    if not lines:
        raise FormatError(f"{module}: no verse text found")
    print(f"corpus_extract: web.txt: {len(lines)} verses of {len(books)} books ({books[0]} … {books[-1]})",
          file=sys.stderr)
    write_atomic(out / "web.txt", "".join(line + "\n" for line in lines))


def summary(paths) -> None:
    for p in map(Path, paths):
        text = p.read_text(encoding="utf-8")
        print(f"  {p}: {len(text):,} characters, {text.count(chr(10)):,} lines", file=sys.stderr)


def main(argv) -> int:
    if len(argv) >= 2 and argv[1] == "summary":
        summary(argv[2:])
        return 0
    if len(argv) != 4 or argv[1] not in ("austen", "web"):
        print(__doc__, file=sys.stderr)
        return 2
    root, out = Path(argv[2]), Path(argv[3])
    try:
        (extract_austen if argv[1] == "austen" else extract_web)(root, out)
    except FormatError as e:
        print(f"corpus_extract: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
