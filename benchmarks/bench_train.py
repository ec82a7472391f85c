"""`newsner train`: time, peak memory and held-out F1 of the defaults, and of training from scratch.

    python benchmarks/bench_train.py --conll-train train.txt --conll-test test.txt [--sizes 500,2000,14000]
    python benchmarks/bench_train.py --synthetic 2000,14000      # time and memory only
    python benchmarks/bench_train.py --annotations FILE --sentences FILE [--config FILE]

Each training runs in its own process (`newsner train`), so the peak RSS is that training's.

- `--conll-train/--conll-test`: news annotated with this project's four labels in the CoNLL-2003
  layout (a token per line, its tag in the last column, IOB1 or IOB2, `-DOCSTART-` between
  documents). The training file becomes newsner annotations (one document = one article, so `newsner
  train` splits it by article into train, validation and test; it selects on validation and reports its
  own test split once); the test file is held out and scored
  with `newsner prelabel --model` (exact character spans, micro P/R/F1, the figure annotators feel), as is
  the stock pipeline. `--sizes` draws the learning curve: the first N training sentences, whole
  documents, in a fixed order. Goals: defaults reach micro F1 >= 0.83 (aim 0.85); <= 3 minutes and
  <= 1.5 GB for 2,000 sentences, <= 15 minutes and <= 2 GB for 14k.
- `--synthetic N,M`: news-like sentences made here from templates, with `--patience 0` so that every
  configuration runs the defaults' whole step budget: the worst-case time and memory of the defaults
  for that many sentences. Its F1 says nothing about real news.
- `--annotations`: any newsner annotations (the repository's own by default: mechanics, not quality).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from _measure import measured

from newsner.ids import content_id, sentence_id
from newsner.io import write_jsonl

ROOT = Path(__file__).resolve().parents[1]
ANNOTATOR = "annotator-benchmark"

Sentence = tuple[list[str], list[str]]  # tokens, IOB tags


def read_conll(path: Path) -> list[list[Sentence]]:
    """Documents of sentences from a CoNLL-2003-style file."""
    documents: list[list[Sentence]] = [[]]
    tokens: list[str] = []
    tags: list[str] = []

    def close_sentence() -> None:
        if tokens:
            documents[-1].append((tokens.copy(), tags.copy()))
            tokens.clear()
            tags.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            close_sentence()
        elif parts[0] == "-DOCSTART-":
            close_sentence()
            if documents[-1]:
                documents.append([])
        else:
            tokens.append(parts[0])
            tags.append(parts[-1])
    close_sentence()
    return [document for document in documents if document]


def spans_of(tokens: list[str], tags: list[str]) -> tuple[str, list[dict]]:
    """The sentence text (tokens joined by spaces) and its entity spans; reads IOB1 and IOB2."""
    text, spans, starts = "", [], []
    for token in tokens:
        starts.append(len(text) + (1 if text else 0))
        text += (" " if text else "") + token
    current = None
    for i, tag in enumerate([*tags, "O"]):
        kind, _, label = tag.partition("-")
        continues = current and kind == "I" and label == current["label"]
        if current and not continues:
            current["end"] = starts[i - 1] + len(tokens[i - 1])
            spans.append(current)
            current = None
        if kind in ("B", "I") and not continues:
            current = {"start": starts[i], "label": label}
    return text, spans


def write_records(documents: list[list[Sentence]], folder: Path) -> tuple[Path, Path, int]:
    """newsner sentences.jsonl and annotations.jsonl (one annotator) for the documents."""
    folder.mkdir(parents=True, exist_ok=True)
    sentences, annotations, count = [], [], 0
    for number, document in enumerate(documents):
        made = [spans_of(tokens, tags) for tokens, tags in document]
        article = content_id("benchmark", number, *(text for text, _ in made))
        start = 0
        for index, (text, spans) in enumerate(made):
            sid = sentence_id(article, start, text)
            sentences.append(
                {
                    "id": sid,
                    "article_id": article,
                    "index": index,
                    "text": text,
                    "start": start,
                    "end": start + len(text),
                    "paragraph": index,
                }
            )
            annotations.append(
                {
                    "sentence_id": sid,
                    "article_id": article,
                    "annotator": ANNOTATOR,
                    "text": text,
                    "spans": spans,
                    "ground_truth": False,
                    "lead_time": 1.0,
                    "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                    "source": {"project": 1, "task_id": count + 1, "annotation_id": count + 1},
                }
            )
            start += len(text) + 1
            count += 1
    write_jsonl(folder / "sentences.jsonl", sentences)
    write_jsonl(folder / "annotations.jsonl", annotations)
    return folder / "annotations.jsonl", folder / "sentences.jsonl", count


def first_sentences(documents: list[list[Sentence]], n: int) -> list[list[Sentence]]:
    """Whole documents, in a fixed shuffled order, until at least `n` sentences."""
    order = list(documents)
    random.Random(13).shuffle(order)
    chosen, count = [], 0
    for document in order:
        if count >= n:
            break
        chosen.append(document)
        count += len(document)
    return chosen


FIRST = (
    "Amina Anna Arman Bolat Carlos Dana Elena Erlan Farida Gulnara Hassan Ivan Jamila Kairat Laura Marat "
    "Mei Nurlan Olga Pavel Rustam Saule Timur Yerlan Zhanna".split()
)
LAST = (
    "Abenov Baker Chen Dauletov Esposito Fischer Garcia Ibrayev Kim Lee Mukanov Novak Omarova Petrov "
    "Rossi Sato Tokayeva Usenov Volkov Weber Zhakupov".split()
)
ORG_STEMS = "Halyk Kazatomprom Samruk Kaspi Caspian Steppe Eurasian Tengiz Altyn Nomad".split()
ORG_KINDS = ["Bank", "Group", "Holding", "Ministry of Energy", "University", "Council", "Airways", "Party"]
PLACES = (
    "Almaty Astana Shymkent Karaganda Aktobe Taraz Pavlodar Oskemen Semey Atyrau Kostanay Kyzylorda "
    "Moscow Beijing Tashkent Bishkek Ankara Berlin Geneva Brussels".split()
)
MISC = "Kazakh Russian Chinese Uzbek European Soviet Turkic Caspian Olympic Nauryz".split()
TEMPLATES = [
    "{PER}, a spokesperson for {ORG}, said on Tuesday that talks in {LOC} would resume next week.",
    "Officials in {LOC} confirmed that {PER} had met representatives of {ORG} to discuss the {MISC} proposal.",
    "The {MISC} delegation, led by {PER}, arrived in {LOC} after a two-day stop in {LOC}.",
    "{ORG} reported a 12 percent rise in quarterly profit, its chief executive {PER} told reporters in {LOC}.",
    "According to {ORG}, more than 3,000 people gathered in central {LOC} on Sunday.",
    "{PER} and {PER} signed the agreement on behalf of {ORG} and {ORG}.",
    "Prices in {LOC} rose sharply in March, the {MISC} statistics office said.",
    "Speaking at the {MISC} forum, {PER} urged {ORG} to publish the report before the vote.",
    "The court in {LOC} postponed the hearing until {PER} could attend, a lawyer for {ORG} said.",
    "Flights between {LOC} and {LOC} were cancelled after {ORG} cited the storm.",
    "Analysts at {ORG} expect the {MISC} currency to weaken against the dollar this year.",
    "{PER}, who was born in {LOC}, joined {ORG} in 2015 and now leads its {MISC} programme.",
]


def synthetic_documents(n: int, seed: int = 7) -> list[list[Sentence]]:
    """`n` news-like sentences in documents of 20, each with IOB2 tags."""
    rng = random.Random(seed)
    pick = {
        "PER": lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "ORG": lambda: f"{rng.choice(ORG_STEMS)} {rng.choice(ORG_KINDS)}",
        "LOC": lambda: rng.choice(PLACES),
        "MISC": lambda: rng.choice(MISC),
    }
    sentences = []
    for _ in range(n):
        tokens, tags = [], []
        for word in rng.choice(TEMPLATES).split():
            label = next((name for name in pick if f"{{{name}}}" in word), None)
            if label is None:
                tokens.append(word)
                tags.append("O")
                continue
            before, after = word.split(f"{{{label}}}")
            entity = pick[label]().split()
            if before:
                tokens.append(before)
                tags.append("O")
            tokens.extend(entity)
            tags.extend([f"B-{label}"] + [f"I-{label}"] * (len(entity) - 1))
            if after:
                tokens.append(after)
                tags.append("O")
        sentences.append((tokens, tags))
    return [sentences[i : i + 20] for i in range(0, n, 20)]


def held_out_f1(model: str | None, sentences: Path, gold: Path, config: Path) -> tuple[float, float, float]:
    """Micro P/R/F1 of `newsner prelabel` (with `model`, else the configured one) against the gold spans."""
    from newsner.config import load_settings
    from newsner.io import read_records
    from newsner.prelabel import PrelabelOptions, prelabel

    settings = load_settings(config)
    truth = {(a["sentence_id"], s["start"], s["end"], s["label"]) for a in read_records(gold) for s in a["spans"]}
    found = {
        (t["data"]["sentence_id"], r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
        for t in prelabel(read_records(sentences), settings, PrelabelOptions(model=model))
        for r in t["predictions"][0]["result"]
    }
    hits = len(truth & found)
    p, r = hits / max(len(found), 1), hits / max(len(truth), 1)
    return p, r, 2 * p * r / max(p + r, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conll-train", type=Path)
    parser.add_argument("--conll-test", type=Path)
    parser.add_argument("--sizes", default="", help="learning curve: training sentences, e.g. 500,2000,14000")
    parser.add_argument("--synthetic", default="", help="sentence counts, e.g. 2000,14000 (time and memory only)")
    parser.add_argument("--annotations", type=Path, default=ROOT / "annotation" / "annotations.jsonl")
    parser.add_argument("--sentences", type=Path, default=ROOT / "corpus" / "sentences.jsonl")
    parser.add_argument("--config", type=Path, default=ROOT / "newsner.toml")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--no-scratch", action="store_true", help="only the defaults (base weights)")
    parser.add_argument(
        "--train-args",
        default="",
        help="more `newsner train` options for every run, e.g. "
        '"--hidden-width 128"; a tok2vec change (--width, --depth, --window-size, --embed-rows) is '
        "refused with base weights: pass it with --scratch-only",
    )
    parser.add_argument("--scratch-only", action="store_true", help="only the from-scratch run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    config = args.config
    if args.conll_train or args.synthetic:  # documents are articles: split by article
        config = work / "newsner.toml"
        config.write_text(args.config.read_text().replace('group_by = "paragraph"', 'group_by = "article"'))

    datasets: list[tuple[str, Path, Path]] = []
    extra: list[str] = []
    if args.conll_train:
        documents = read_conll(args.conll_train)
        total = sum(map(len, documents))
        for size in [int(s) for s in args.sizes.split(",") if s] or [total]:
            annotations, sentences, count = write_records(first_sentences(documents, size), work / f"train-{size}")
            datasets.append((f"{count} CoNLL sentences", annotations, sentences))
    elif args.synthetic:
        extra = ["--patience", "0"]
        for size in (int(s) for s in args.synthetic.split(",")):
            annotations, sentences, count = write_records(synthetic_documents(size), work / f"synthetic-{size}")
            datasets.append((f"{count} synthetic sentences", annotations, sentences))
    else:
        datasets.append((str(args.annotations), args.annotations, args.sentences))
    test = write_records(read_conll(args.conll_test), work / "test") if args.conll_test else None
    if test:
        p, r, f = held_out_f1(None, test[1], test[0], config)
        print(
            f"held-out test: {test[2]} sentences; stock pipeline (mapped, as configured): "
            f"P {p:.3f} R {r:.3f} F1 {f:.3f}"
        )

    runs = {"defaults (base weights)": [], "from scratch": ["--from-scratch"]}
    if args.no_scratch:
        del runs["from scratch"]
    if args.scratch_only:
        del runs["defaults (base weights)"]
    for label, annotations, sentences in datasets:
        print(label + (" (the whole step budget: --patience 0)" if extra else "") + ":")
        for name, options in runs.items():
            out = work / f"{name.split()[0]}-{annotations.parent.name}"
            command = [
                str(annotations),
                "--sentences",
                str(sentences),
                "--config",
                str(config),
                "-o",
                str(out),
                *extra,
                *options,
                *(["--max-steps", str(args.max_steps)] if args.max_steps else []),
                *args.train_args.split(),
            ]
            seconds, peak = measured([sys.executable, "-m", "newsner.cli", "train", *command])
            m = json.loads((out / "metrics.json").read_text())
            line = (
                f"  {name:24s} {m['train_sentences']:>6} train / {m['validation_sentences']:>5} validation / "
                f"{m['test_sentences']:>5} test  {seconds:6.1f} s  peak {peak:6.0f} MiB  {m['steps']:>5} steps "
                f"({m['stopped_by']}, best at {m['best_step']}, every {m['eval_frequency']})  validation F1 "
                f"{m['validation']['f1']:.3f}  split test F1 {m['test']['f1']:.3f}"
            )
            if test:
                p, r, f = held_out_f1(str(out), test[1], test[0], config)
                line += f"  held-out P {p:.3f} R {r:.3f} F1 {f:.3f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
