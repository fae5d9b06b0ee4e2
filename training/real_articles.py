"""Real labelled articles: FA-KES texts labelled per the guide, shipped with their text.

Real text is what users judge the model on, so the project owns a labelled set
of real articles (FA-KES, CC BY 4.0; attribution in the datasheet). Annotators
cut passages themselves on the raw text, so the segmenter's errors stay
visible in every score. They write the tagged text in the corpus authoring
format (``.sm``) with any line layout they find readable; :func:`anchor`
places each tagged passage back on the article's exact text (one paragraph,
as the dataset ships it), which is what is shipped and trained on.

``python -m sourcemark.training.real_articles select OUT_DIR`` draws the
articles (fixed seed, dev split fixed before labelling) and writes one starter
``.sm`` per article; ``check FILE...`` anchors labelled files and names each
problem; ``build FILE... --out F`` writes the anchored documents as JSONL.
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.bundled import DATA_DIR
from sourcemark.jsonl import write_documents
from sourcemark.markup import MarkupError, compile_markup
from sourcemark.validation import ERROR, validate_document

REALTEXT = DATA_DIR.parents[2] / "shared" / "realtext" / "fakes-unlabelled.jsonl"
ATTRIBUTION = (
    "FA-KES: Abu Salem, Al Feel, Elbassuoni, Jaber & Farah (2019), "
    "A Fake News Dataset around the Syrian War, ICWSM 13(01); CC BY 4.0"
)

#: Articles drawn: dev per outlet, train in all; lengths kept to what annotators can cut carefully.
DEV_PER_OUTLET = 4
TRAIN_ARTICLES = 150
MIN_CHARS, MAX_CHARS = 300, 4500
SELECTION_SEED = 20261207


class AnchorError(ValueError):
    """A labelled file does not fit its article's text; the message names the file and the place."""


def read_realtext(path: Path = REALTEXT) -> dict[str, dict]:
    """FA-KES records by doc_id."""
    records = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            records[record["doc_id"]] = record
    return records


def select_articles(records: dict[str, dict], seed: int = SELECTION_SEED) -> tuple[list[str], list[str]]:
    """(dev ids, train ids): dev spread evenly over the outlets, train in proportion to them."""
    rng = random.Random(seed)
    by_outlet: dict[str, list[str]] = defaultdict(list)
    for doc_id in sorted(records):
        if MIN_CHARS <= len(records[doc_id]["text"]) <= MAX_CHARS:
            by_outlet[records[doc_id]["meta"]["outlet"]].append(doc_id)
    for ids in by_outlet.values():
        rng.shuffle(ids)
    dev = [doc_id for outlet in sorted(by_outlet) for doc_id in by_outlet[outlet][:DEV_PER_OUTLET]]
    rest = [doc_id for outlet in sorted(by_outlet) for doc_id in by_outlet[outlet][DEV_PER_OUTLET:]]
    rng.shuffle(rest)
    return dev, sorted(rest[:TRAIN_ARTICLES])


def starter_markup(record: dict, split: str) -> str:
    """A ``.sm`` file holding the raw article under its header, for an annotator to tag."""
    meta = record.get("meta", {})
    header = [f"@doc_id: {record['doc_id']}", f"@outlet: {meta.get('outlet', '')}",
              f"@date: {meta.get('date', '')}", f"@split: {split}"]
    return "\n".join(header) + "\n---\n" + record["text"] + "\n"


def _mismatch(span: str, text: str, cursor: int, gap_end: int) -> str:
    """Why ``span`` is not at ``gap_end``: untagged text before it, or the first changed character."""
    found = text.find(span, cursor)
    if found >= 0:
        return f"untagged text {text[gap_end:found][:80]!r} comes before it"
    same = 0
    while same < len(span) and gap_end + same < len(text) and span[same] == text[gap_end + same]:
        same += 1
    return (f"character {same} of the passage differs from the article: passage has "
            f"{span[max(0, same - 20):same + 20]!r}, article has {text[gap_end + max(0, same - 20):gap_end + same + 20]!r}")


def anchor(compiled: Document, text: str, path: str) -> Document:
    """The compiled passages placed on ``text``, which must hold them in order with only whitespace between."""
    passages = []
    cursor = 0
    for number, passage in enumerate(compiled.passages, 1):
        span = compiled.text[passage.start:passage.end]
        gap_end = cursor
        while gap_end < len(text) and text[gap_end].isspace():
            gap_end += 1
        if not text.startswith(span, gap_end):
            raise AnchorError(f"{path}: passage {number} {span[:50]!r} does not follow passage {number - 1}: "
                              + _mismatch(span, text, cursor, gap_end))
        shift = gap_end - passage.start
        sources = [SourceMention(s.start + shift, s.end + shift, s.type) for s in passage.sources]
        passages.append(Passage(gap_end, gap_end + len(span), passage.label, sources, extra=dict(passage.extra)))
        cursor = gap_end + len(span)
    if text[cursor:].strip():
        raise AnchorError(f"{path}: text after the last passage is untagged: {text[cursor:cursor + 60]!r}")
    return Document(doc_id=compiled.doc_id, text=text, meta=dict(compiled.meta), passages=passages)


def anchor_file(path: Path, records: dict[str, dict]) -> Document:
    """Compile one labelled ``.sm`` file and anchor it on its FA-KES text."""
    compiled = compile_markup(path.read_text(encoding="utf-8"), str(path))
    record = records.get(compiled.doc_id)
    if record is None:
        raise AnchorError(f"{path}: {compiled.doc_id} is not a FA-KES article")
    doc = anchor(compiled, record["text"], str(path))
    meta = {k: v for k, v in record.get("meta", {}).items() if k in ("outlet", "date", "title")}
    meta.update(split=compiled.meta.get("split", ""), source="FA-KES", license="CC BY 4.0")
    doc.meta = meta
    return doc


def _check(paths: list[Path], records: dict[str, dict]) -> tuple[list[Document], list[str]]:
    docs, errors = [], []
    for path in paths:
        try:
            docs.append(anchor_file(path, records))
        except (MarkupError, AnchorError) as exc:
            errors.append(str(exc))
    return docs, errors


def main(argv: list[str] | None = None) -> int:
    """``select OUT_DIR`` | ``check FILE...`` | ``build FILE... --out F``."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in {"select", "check", "build"}:
        print(main.__doc__, file=sys.stderr)
        return 2
    records = read_realtext()
    if args[0] == "select":
        out = Path(args[1])
        dev, train = select_articles(records)
        for split, ids in (("dev", dev), ("train", train)):
            for doc_id in ids:
                (out / split).mkdir(parents=True, exist_ok=True)
                (out / split / f"{doc_id}.sm").write_text(starter_markup(records[doc_id], split), encoding="utf-8")
        print(f"{len(dev)} dev, {len(train)} train starter files in {out}")
        return 0
    out_path = None
    if "--out" in args:
        index = args.index("--out")
        out_path = Path(args[index + 1])
        args = args[:index] + args[index + 2:]
    docs, errors = _check([Path(a) for a in args[1:]], records)
    for doc in docs:
        errors += [str(p) for p in validate_document(doc, doc.doc_id) if p.level == ERROR]
    for error in errors:
        print(error, file=sys.stderr)
    for doc in docs:
        counts = defaultdict(int)
        for p in doc.passages:
            counts[p.label] += 1
        print(f"{doc.doc_id}: {len(doc.passages)} passages {dict(counts)} "
              f"{sum(len(p.sources) for p in doc.passages)} mentions")
    if out_path and not errors:
        write_documents(out_path, sorted(docs, key=lambda d: d.doc_id))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
