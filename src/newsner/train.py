"""`newsner train`: update the pre-label model from the adjudicated annotations, with spaCy's own training.

The data are the DocBins of `newsner export spacy` (the same adjudication, split and grouping as
`publish`): training uses the train split, model selection and early stopping the validation split,
and the test split is evaluated once, at the end. The loop is spaCy's own (`train_while_improving`,
what `spacy train` wraps), driven here step by step, so progress, the time budget and the stop reason
are plain code. The saved `config.cfg` needs nothing but spaCy and newsner: `spacy train config.cfg
--paths.train … --paths.dev …` rebuilds the pipeline (newsner's one callback is registered through
its `spacy_callbacks` entry point). The pipeline is spaCy's CPU
"efficiency" NER (a `tok2vec` component and an `ner` that listens to it) with exactly the project's
labels. By default it starts from the base pipeline's weights: its tokenizer and vocabulary
(`spacy.copy_from_base_model.v1`) and the weights of the tok2vec inside its `ner`, copied into the
fresh `tok2vec` after spaCy's initialisation (the architectures are the same). Starting from those
weights was measured to be worth +17 F1 at 500 sentences and +3 at 14k over training from scratch.

The result is a pipeline folder that `spacy.load`, `newsner prelabel --model DIR` and
`[prelabel] model = "DIR"` use as is, with `metrics.json` beside its `meta.json`.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner import __version__
from newsner.annotations import Unit
from newsner.config import Settings
from newsner.errors import InputError, ModelError
from newsner.export import export
from newsner.outputs import OutputTarget, output_folder
from newsner.prelabel.model import model_name

CONFIG = """
[paths]
train = null
dev = null

[system]
gpu_allocator = null
seed = {seed}

[nlp]
lang = "{lang}"
pipeline = ["tok2vec","ner"]
batch_size = 1000

[components]

[components.tok2vec]
factory = "tok2vec"

[components.tok2vec.model]
@architectures = "spacy.Tok2Vec.v2"

[components.tok2vec.model.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = ${{components.tok2vec.model.encode.width}}
attrs = ["NORM","PREFIX","SUFFIX","SHAPE"]
rows = {rows}
include_static_vectors = false

[components.tok2vec.model.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = {width}
depth = {depth}
window_size = {window_size}
maxout_pieces = 3

[components.ner]
factory = "ner"

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = {hidden_width}
maxout_pieces = 2
use_upper = true
nO = null

[components.ner.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = ${{components.tok2vec.model.encode.width}}
upstream = "*"

[corpora]

[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${{paths.train}}

[corpora.dev]
@readers = "spacy.Corpus.v1"
path = ${{paths.dev}}

[training]
seed = ${{system.seed}}
dropout = {dropout}
patience = {patience}
max_epochs = {max_epochs}
max_steps = {max_steps}
eval_frequency = {eval_frequency}

[training.batcher]
@batchers = "spacy.batch_by_words.v1"
discard_oversize = false
tolerance = 0.2

[training.batcher.size]
@schedules = "compounding.v1"
start = 100
stop = 1000
compound = 1.001

[training.optimizer]
@optimizers = "Adam.v1"
learn_rate = 0.001

[training.score_weights]
ents_f = 1.0
ents_p = 0.0
ents_r = 0.0

[initialize]
{initialize}
"""

FROM_BASE = """
[initialize.before_init]
@callbacks = "spacy.copy_from_base_model.v1"
tokenizer = "{base}"
vocab = "{base}"

[initialize.after_init]
@callbacks = "newsner.tok2vec_from_base.v1"
base = "{base}"
"""


@dataclass
class TrainOptions:
    """What `newsner train` may be told; the defaults are the ones measured to generalise."""

    base: str | None = None  # default: [prelabel] model; "" trains from scratch
    max_steps: int = 2500
    max_epochs: int = 20  # bounds small data: 2,000 sentences stop after 20 passes, not 2500 steps
    patience: int = 800
    eval_frequency: int | None = None  # default: often enough for ≥ 8 evaluations per run, at most every 100 steps
    dropout: float = 0.1
    seed: int = 0
    max_seconds: float | None = None  # a time budget for the training loop: it stops at the first step past it
    strict: bool = False  # a configured label without training examples is an error, not a warning
    # the architecture (spaCy's CPU NER): the defaults are en_core_web_sm's, whose weights they start from
    width: int = 96  # tok2vec width
    depth: int = 4  # tok2vec convolution layers
    window_size: int = 1  # tokens either side each layer sees
    embed_rows: int = 5000  # hash-embedding rows for NORM (PREFIX, SUFFIX, SHAPE get 1/5, 1/2, 1/2 of it)
    hidden_width: int = 64  # the NER parser's hidden layer

    def architecture(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "depth": self.depth,
            "window_size": self.window_size,
            "rows": [self.embed_rows, self.embed_rows // 5, self.embed_rows // 2, self.embed_rows // 2],
            "hidden_width": self.hidden_width,
        }


BASE_ARCHITECTURE = TrainOptions().architecture()


EVALUATIONS = 8  # at least this many evaluations per run when the frequency is chosen automatically
MAX_EVAL_FREQUENCY = 100


@dataclass
class TrainReport:
    metrics: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        m = self.metrics
        return (
            f"{m['train_sentences']} training sentences, {m['steps']} steps in {m['seconds']:.0f} s "
            f"(stopped by {m['stopped_by']}; evaluated every {m['eval_frequency']} steps); best validation F1 "
            f"{m['validation']['f1']:.3f} at step {m['best_step']}; test split ({m['test_sentences']} sentences, "
            f"reported once): P {m['test']['precision']:.3f} R {m['test']['recall']:.3f} F1 {m['test']['f1']:.3f}; "
            f"model {m['model']}"
        )


CALLBACK = "newsner.tok2vec_from_base.v1"


def tok2vec_from_base(base: str) -> Callable[[Any], Any]:
    """`[initialize.after_init]`: copy the base pipeline's NER tok2vec weights into the fresh `tok2vec`.

    Registered with spaCy through newsner's `spacy_callbacks` entry point, so `spacy train` on a saved
    config.cfg finds it with only newsner installed.
    """

    def copy_weights(nlp: Any) -> Any:
        import spacy

        source = spacy.load(base)
        if "ner" not in source.pipe_names:
            raise ModelError(
                f"base pipeline {base!r} has no `ner` whose weights could be reused; "
                f"train from scratch with --from-scratch"
            )
        try:
            weights = source.get_pipe("ner").model.get_ref("tok2vec").layers[0].to_bytes()
            nlp.get_pipe("tok2vec").model.from_bytes(weights)
        except (KeyError, ValueError, IndexError) as err:
            raise ModelError(
                f"the weights of {base!r} do not fit the efficiency NER architecture ({err}); "
                f"train from scratch with --from-scratch"
            ) from None
        return nlp

    return copy_weights


def _data_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def train_model(
    units: list[Unit],
    settings: Settings,
    output: Path,
    *,
    options: TrainOptions | None = None,
    sentences: list[dict[str, Any]] | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    force: bool = False,
) -> TrainReport:
    """Train an NER pipeline on the adjudicated train split and write it, with `metrics.json`, to `output`.

    Model selection and early stopping use the validation split; the test split is evaluated once, at
    the end, on the selected model. Evaluation runs often enough for at least 8 evaluations (at most
    every 100 steps, or `eval_frequency`) and always on the final weights; the model written is the best
    on validation, the most trained one on a tie, so it is never one that saw no update unless nothing
    better exists. Training ends at `max_steps` or `max_epochs`, after `patience` steps without a better
    validation F1, or at the first step past `max_seconds` (evaluation included; then the final weights
    are evaluated once more). `on_progress` gets a dict per evaluation (step, epoch, loss, validation
    F1, best so far, seconds).

    `output` is replaced as a whole, atomically, and only when it is empty, an earlier model, or `force`
    is set (checked before training starts; `OutputError` otherwise). The pipeline is named after the
    dataset, and its version carries the training data's hash, so pre-labels of different rounds have
    different `model_version`s. Raises `InputError` for too little data (an empty split; a configured
    label without examples only with `strict`) and `ModelError` for a base pipeline without usable weights.
    """
    from spacy.tokens import DocBin
    from spacy.util import load_config_from_str, load_model_from_config, registry

    target = OutputTarget(output, "train", root=settings.root, force=force, legacy=_earlier_model)
    target.check()
    registry.callbacks.register(CALLBACK, func=tok2vec_from_base)  # also an entry point, for `spacy train`
    options = options or TrainOptions()
    base = model_name(settings) if options.base is None else options.base
    report = TrainReport()
    with tempfile.TemporaryDirectory(prefix="newsner-train-") as tmp:
        work = Path(tmp)
        paths, _ = export("spacy", units, settings, work / "data", sentences=sentences)
        docs = {p.stem: DocBin().from_disk(p) for p in paths}
        counts = {split: len(docbin) for split, docbin in docs.items()}
        if min(counts.values()) == 0:
            raise InputError(
                f"too little data to train: {counts['train']} training, {counts['validation']} validation and "
                f"{counts['test']} test sentences; every split needs sentences: annotate more, or for a first small "
                f'round set [split] group_by = "paragraph" (or adjust validation_fraction / test_fraction)'
            )
        seen = {ent.label_ for doc in docs["train"].get_docs(_vocab()) for ent in doc.ents}
        missing = [label for label in settings.entities if label not in seen]
        if missing:
            message = (
                f"no training example of {', '.join(missing)}: the model cannot learn "
                f"{'it' if len(missing) == 1 else 'them'} from this data (annotate sentences with "
                f"{'it' if len(missing) == 1 else 'them'}, or drop {'it' if len(missing) == 1 else 'them'} from "
                f"[labels] entities)"
            )
            if options.strict:
                raise InputError(message)
            report.warnings.append(message)
        data_hash = _data_hash(paths)
        architecture = options.architecture()
        changed = {k: v for k, v in architecture.items() if k != "hidden_width" and v != BASE_ARCHITECTURE[k]}
        if base and changed:
            own = ", ".join(f"{k} {BASE_ARCHITECTURE[k]}" for k in changed)
            raise InputError(
                f"the base pipeline's weights fit only its own tok2vec ({own}); "
                f"to train another architecture ({', '.join(f'{k} {v}' for k, v in changed.items())}), "
                f"add --from-scratch"
            )
        text = CONFIG.format(
            seed=options.seed,
            **architecture,
            lang=settings.dataset.language,
            dropout=options.dropout,
            patience=options.patience,
            max_steps=options.max_steps,
            max_epochs=options.max_epochs,
            eval_frequency=options.eval_frequency or MAX_EVAL_FREQUENCY,
            initialize=FROM_BASE.format(base=base) if base else "",
        )
        config = load_config_from_str(
            text,
            overrides={
                "paths.train": str(work / "data" / "train.spacy"),
                "paths.dev": str(work / "data" / "validation.spacy"),
            },
        )
        config = load_model_from_config(config, auto_fill=True, validate=True).config  # spaCy's defaults filled in
        run = _run_loop(config, base, options, work, on_progress)
        best = run["nlp"]
        best.meta.update(
            {
                "name": _model_name(settings),
                "version": f"0.1.0+{data_hash[:8]}",
                "description": f"NER for {settings.dataset.name}, trained by newsner {__version__} on "
                f"{counts['train']} adjudicated sentences (training data sha256 "
                f"{data_hash[:16]})",
                "labels": {"ner": settings.entities},
            }
        )
        test = _scores(best, docs["test"])
        metrics = {
            "base_model": base or None,
            "model": f"{best.meta['lang']}_{best.meta['name']}-{best.meta['version']}",
            "labels": list(best.get_pipe("ner").labels),
            "train_sentences": counts["train"],
            "validation_sentences": counts["validation"],
            "test_sentences": counts["test"],
            "steps": run["steps"],
            "best_step": run["best_step"],
            "eval_frequency": run["eval_frequency"],
            "stopped_by": run["stopped_by"],
            "seconds": round(run["seconds"], 1),
            "seed": options.seed,
            "options": {k: v for k, v in options.__dict__.items() if k != "base"},
            "training_data_sha256": data_hash,
            "validation": _scores(best, docs["validation"])["micro"],
            "test": test["micro"],
            "per_label": test["per_label"],
            "warnings": report.warnings,
        }
        with output_folder(target) as folder:
            best.to_disk(folder)
            _portable_config(folder / "config.cfg", eval_frequency=run["eval_frequency"])
            (folder / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    report.metrics = metrics
    return report


def _vocab() -> Any:
    from spacy.vocab import Vocab

    return Vocab()


def _model_name(settings: Settings) -> str:
    """A spaCy package name from the dataset's name: `kz-news-ner` -> `kz_news_ner`."""
    import re

    return re.sub(r"[^0-9a-zA-Z]+", "_", settings.dataset.name).strip("_").lower() or "newsner"


def _scores(nlp: Any, docbin: Any) -> dict[str, Any]:
    """Exact entity P/R/F1 (micro and per label) of `nlp` on a DocBin of gold docs."""
    from spacy.training import Example

    scores = nlp.evaluate([Example(nlp.make_doc(doc.text), doc) for doc in docbin.get_docs(nlp.vocab)])
    micro = {
        "precision": round(scores["ents_p"] or 0.0, 4),
        "recall": round(scores["ents_r"] or 0.0, 4),
        "f1": round(scores["ents_f"] or 0.0, 4),
    }
    per_label = {
        label: {"precision": round(v["p"], 4), "recall": round(v["r"], 4), "f1": round(v["f"], 4)}
        for label, v in sorted((scores.get("ents_per_type") or {}).items())
    }
    return {"micro": micro, "per_label": per_label}


def _run_loop(
    config: Any, base: str, options: TrainOptions, work: Path, on_progress: Callable[[dict[str, Any]], None] | None
) -> dict[str, Any]:
    """spaCy's own training loop (`train_while_improving`, what `spacy train` wraps), driven step by step.

    Returns the best pipeline on validation (loaded from disk), the steps, the best step, the evaluation
    frequency used and what stopped training.
    """
    import spacy
    from spacy.schemas import ConfigSchemaTraining
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import create_evaluation_callback, create_train_batches, train_while_improving
    from spacy.util import registry, resolve_dot_names

    try:
        nlp = init_nlp(config, use_gpu=-1)
    except OSError as err:
        raise ModelError(f"base pipeline {base!r} cannot be loaded ({err}); install it or use --from-scratch") from None
    training = registry.resolve(nlp.config.interpolate()["training"], schema=ConfigSchemaTraining)
    train_corpus, dev_corpus = resolve_dot_names(
        nlp.config.interpolate(), [training["train_corpus"], training["dev_corpus"]]
    )
    frequency = options.eval_frequency or _eval_frequency(nlp, train_corpus, training["batcher"], options)
    evaluate = create_evaluation_callback(nlp, dev_corpus, training["score_weights"])
    optimizer = training["optimizer"]
    start = time.perf_counter()
    deadline = start + options.max_seconds if options.max_seconds is not None else None
    steps = train_while_improving(
        nlp,
        optimizer,
        create_train_batches(nlp, train_corpus, training["batcher"], options.max_epochs),
        evaluate,
        dropout=options.dropout,
        accumulate_gradient=1,
        patience=options.patience,
        max_steps=options.max_steps,
        eval_frequency=frequency,
        exclude=[],
        annotating_components=[],
        before_update=None,
    )
    best_path = work / "model-best"
    best_score, best_step, step, stopped, last_evaluated = -1.0, -1, 0, None, -1
    epoch, losses, checkpoints = 0, 0.0, []

    def keep(score: float, at: int) -> None:
        nonlocal best_score, best_step
        if score > best_score or (score == best_score and at > best_step):  # a tie goes to the trained model
            best_score, best_step = score, at
            with nlp.use_params(optimizer.averages):
                nlp.to_disk(best_path)

    def report(score: float, at: int) -> None:
        if on_progress is not None:
            on_progress(
                {
                    "step": at,
                    "epoch": epoch,
                    "loss": losses,
                    "f1": score,
                    "best_f1": best_score,
                    "seconds": time.perf_counter() - start,
                }
            )

    for _, info, is_best in steps:
        step, epoch, checkpoints = info["step"], info["epoch"], info["checkpoints"]
        losses = float(sum(info["losses"].values()))
        if is_best is not None:
            keep(float(info["score"]), step)
            last_evaluated = step
            report(float(info["score"]), step)
        if deadline is not None and step and time.perf_counter() >= deadline:
            stopped = "time budget"
            break
    if stopped is None:  # spaCy's loop checks patience (from its earliest best step), then max_steps, else epochs
        earliest_best = -max((score, -at) for score, at in checkpoints)[1] if checkpoints else 0
        stopped = (
            "patience"
            if options.patience and step - earliest_best >= options.patience
            else "max_steps"
            if options.max_steps and step >= options.max_steps
            else "max_epochs"
        )
    if last_evaluated != step:  # always judge the final weights too
        with nlp.use_params(optimizer.averages):
            score, _ = evaluate()
        keep(float(score), step)
        report(float(score), step)
    return {
        "nlp": spacy.load(best_path),
        "steps": step + 1,
        "best_step": best_step,
        "eval_frequency": frequency,
        "stopped_by": stopped,
        "seconds": time.perf_counter() - start,
    }


def _eval_frequency(nlp: Any, corpus: Any, batcher: Any, options: TrainOptions) -> int:
    """Evaluate often enough for at least `EVALUATIONS` evaluations in this run, at most every 100 steps."""
    per_epoch = sum(1 for _ in batcher(corpus(nlp)))  # the first epoch's batches (later ones are larger)
    expected = options.max_steps if not options.max_epochs else min(options.max_steps, per_epoch * options.max_epochs)
    return max(1, min(MAX_EVAL_FREQUENCY, expected // EVALUATIONS))


def _earlier_model(folder: Path) -> bool:
    """A model folder written by a newsner from before output marks: a spaCy pipeline with metrics.json."""
    return all((folder / name).is_file() for name in ("config.cfg", "meta.json", "metrics.json"))


def _portable_config(path: Path, *, eval_frequency: int) -> None:
    """Keep this run's temporary data paths out of the saved config (`spacy train` gets them as --paths.*) and
    record the evaluation frequency the run used, so `spacy train` on it evaluates as often."""
    from spacy.util import load_config

    config = load_config(path, interpolate=False)
    config["paths"]["train"] = config["paths"]["dev"] = None
    config["training"]["eval_frequency"] = eval_frequency
    config.to_disk(path)
