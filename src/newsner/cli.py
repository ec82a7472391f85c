"""The `newsner` command line: a thin layer over the library.

Every command reads `./newsner.toml` (or `--config FILE`), prints a one-line summary, exits 0 on
success and 1 with `Error: …` on bad input or a failed service, never with a traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import fields
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from newsner import __version__
from newsner.config import Settings, load_settings
from newsner.errors import NewsnerError
from newsner.pipeline import run_pipeline
from newsner.prelabel import PrelabelOptions
from newsner.project import ProjectPaths
from newsner.publish import push_to_hub as upload
from newsner.steps import (
    agree_step,
    export_step,
    ingest_step,
    prelabel_step,
    publish_step,
    pull_step,
    push_step,
    review_step,
    settle_step,
    split_step,
    train_step,
    validate_step,
)
from newsner.studio.accounts import add_people, local_studio_status, login_details
from newsner.studio.server import LocalStudio, install_server
from newsner.train import TrainOptions

app = typer.Typer(
    name="newsner",
    help="Turn raw news articles into a human-annotated named-entity dataset.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])


class Scores(StrEnum):
    greedy = "greedy"
    none = "none"


class ReviewSelect(StrEnum):
    disagreements = "disagreements"
    all = "all"


class ExportKind(StrEnum):
    spacy = "spacy"
    conll = "conll"


ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Settings file (default: ./newsner.toml); its folder is the project folder."),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786); default: DASK_SCHEDULER_ADDRESS."),
]
AdjudicationsOption = Annotated[
    Path | None,
    typer.Option(
        "--adjudications", help="Reviewers' decisions (default: adjudications.jsonl beside the annotations, if any)."
    ),
]
WorkersOption = Annotated[int | None, typer.Option("--workers", min=1, help="Start a local Dask cluster of N workers.")]


def _in_project(default: str) -> str:
    return f"default: {default} in the project folder"


def _input(what: str, default: str) -> Any:
    """A step's input file, an argument; its default is in the project folder."""
    return Annotated[Path | None, typer.Argument(help=f"{what} ({_in_project(default)}).")]


def _jsonl_output(what: str, default: str) -> Any:
    """A step's JSONL output (`-` for stdout); its default is in the project folder."""
    return Annotated[
        str | None, typer.Option("-o", "--output", help=f"{what} JSONL ('-' for stdout; {_in_project(default)}).")
    ]


def _folder_output(what: str, default: str) -> Any:
    """A step's output folder; its default is in the project folder."""
    return Annotated[Path | None, typer.Option("-o", "--output", help=f"{what} ({_in_project(default)}).")]


RawArgument = Annotated[
    list[Path] | None,
    typer.Argument(help=f"Raw article files or folders (.txt, .md, .jsonl; {_in_project('corpus/raw')})."),
]
ArticlesArgument = _input("Articles JSONL from `newsner ingest`", "corpus/articles.jsonl")
SentencesArgument = _input("Sentences JSONL from `newsner split`", "corpus/sentences.jsonl")
TasksArgument = _input("Tasks JSONL from `newsner prelabel`", "annotation/tasks.jsonl")
AnnotationsArgument = _input("annotations.jsonl (from `pull`, by hand or another tool)", "annotation/annotations.jsonl")
ArticlesOutput = _jsonl_output("Articles", "corpus/articles.jsonl")
SentencesOutput = _jsonl_output("Sentences", "corpus/sentences.jsonl")
TasksOutput = _jsonl_output("Tasks", "annotation/tasks.jsonl")
ReportsOutput = _folder_output("Report folder", "reports")
ExportOutput = _folder_output("Output folder", "dist/export")
ModelOutput = _folder_output("Model folder to write", "models/ner")
SentencesOption = Annotated[
    Path | None,
    typer.Option("--sentences", help=f"sentences.jsonl (paragraphs; {_in_project('corpus/sentences.jsonl')})."),
]
GuidelinesOption = Annotated[
    Path | None,
    typer.Option("--guidelines", help=f"Markdown shown as instructions ({_in_project('annotation/guidelines.md')})."),
]

_T = TrainOptions  # its defaults are `newsner train`'s
TRAIN_HELP = {
    "max_steps": "Training steps at most.",
    "max_epochs": "Passes over the training data at most (0: no limit).",
    "patience": "Stop after this many steps without a better validation F1.",
    "eval": "Evaluate every N steps (default: at least 8 evaluations per run, at most every 100 steps).",
    "budget": "A time budget: stop at the first update past it (the result then depends on the machine's speed).",
    "seed": "Random seed (same seed and step budget, same model on CPU).",
    "scratch": "Do not start from the base pipeline's weights.",
    "strict": "A configured label without training examples is an error, not a warning.",
    "width": "tok2vec width (another than the base's needs --from-scratch).",
    "depth": "tok2vec convolution layers.",
    "window": "Tokens either side that each layer sees.",
    "rows": "Hash-embedding rows (NORM; the other features get a share).",
    "hidden": "The NER parser's hidden layer.",
}
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace the output folder even if newsner did not write it.")
]


def say(message: str) -> None:
    """One line for the user, always on stderr: stdout is kept for data (`-o -`, `validate`, `studio login`)."""
    typer.echo(message, err=True)


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def guarded(func: F) -> F:
    """Turn every expected failure into `Error: …` and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NewsnerError as err:
            fail(str(err))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(1) from None
        except OSError as err:
            fail(f"{err.filename or ''}: {err.strerror or err}".lstrip(": "))
        except (typer.Exit, typer.Abort):
            raise
        except Exception as err:  # a bug: one line, not a traceback (NEWSNER_DEBUG=1 shows it)
            if os.environ.get("NEWSNER_DEBUG"):
                raise
            fail(
                f"unexpected {type(err).__name__}: {err} (a bug in newsner: please report it with the command "
                f"you ran; NEWSNER_DEBUG=1 shows the traceback)"
            )

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"newsner {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Turn raw news articles into a human-annotated named-entity dataset."""


@app.command()
@guarded
def ingest(
    raw_paths: RawArgument = None,
    output: ArticlesOutput = None,
    config: ConfigOption = None,
) -> None:
    """Clean raw articles and write article records with content-hash ids.

    Exit code 0 when every input was read; 1 when some inputs were skipped (each is listed; the good
    articles are still written).
    """
    paths = ProjectPaths.of(config)
    raw_paths = raw_paths or [paths.raw]
    output = output or str(paths.articles)
    written, report = ingest_step(raw_paths, output, root=paths.root)
    for line in [*(f"skipped {s}" for s in report.skipped), *(f"duplicate {d}" for d in report.duplicates)]:
        say(line)
    say(f"ingest: {report.summary()} -> {output}")
    if report.skipped:
        fail(f"{len(report.skipped)} input(s) skipped (listed above); the {written} good articles were written")


@app.command()
@guarded
def split(
    articles: ArticlesArgument = None,
    output: SentencesOutput = None,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    config: ConfigOption = None,
) -> None:
    """Split articles into sentences (paragraph-aware, offsets into the article; on one machine or a Dask cluster)."""
    paths = ProjectPaths.of(config)
    articles = articles or paths.articles
    output = output or str(paths.sentences)
    report = split_step(articles, output, scheduler=scheduler, workers=workers)
    say("\n".join([*(f"long run: {run}" for run in report.long_runs[:20]), f"split: {report.summary()} -> {output}"]))


@app.command()
@guarded
def prelabel(
    sentences: SentencesArgument = None,
    output: TasksOutput = None,
    model: Annotated[
        str | None, typer.Option("--model", help="spaCy pipeline name or path (default: [prelabel] model).")
    ] = None,
    n_process: Annotated[int | None, typer.Option("--n-process", min=1, help="Worker processes.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Sentences per batch.")] = None,
    scores: Annotated[
        Scores | None, typer.Option("--scores", help="greedy: the model's probability per span; none: no scores.")
    ] = None,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    config: ConfigOption = None,
) -> None:
    """Pre-label sentences with spaCy NER and write Label Studio tasks (on one machine or a Dask cluster)."""
    paths = ProjectPaths.of(config)
    sentences = sentences or paths.sentences
    output = output or str(paths.tasks)
    options = PrelabelOptions(
        model=model,
        n_process=n_process,
        batch_size=batch_size,
        scores=scores.value if scores else None,
        scheduler=scheduler,
        workers=workers,
    )
    report = prelabel_step(sentences, output, load_settings(config), options, show_progress=True)
    say(f"prelabel: {report.summary()} -> {output}")


@app.command()
@guarded
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Record files (default: every one in corpus/ and annotation/).")
    ] = None,
    schema: Annotated[
        str | None, typer.Option("--schema", help="Schema to use instead of guessing from the file name.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Check record files against their JSON Schemas and cross-field rules."""
    files, records, problems = validate_step(paths, load_settings(config), schema=schema)
    for problem in problems:
        typer.echo(problem)
    if problems:
        fail(f"{len(problems)} problem(s) in {files} file(s), {records} records")
    say(f"validate: {records} records in {files} files, all valid")


@app.command()
@guarded
def agree(
    annotations: AnnotationsArgument = None,
    output: ReportsOutput = None,
    predictions: Annotated[
        Path | None, typer.Option("--predictions", help="tasks.jsonl, for pre-label quality.")
    ] = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write PNG plots.")] = True,
    adjudications: AdjudicationsOption = None,
    config: ConfigOption = None,
) -> None:
    """Inter-annotator agreement: span F1, token kappa/alpha, categories, disagreements, annotators against gold."""
    paths = ProjectPaths.of(config)
    annotations = annotations or paths.annotations
    output = output or paths.reports
    report = agree_step(
        annotations, output, load_settings(config), predictions=predictions, plots=plots, adjudications=adjudications
    )
    exact = report["span_f1"]["exact"]["mean"]
    say(
        f"agree: {report['n_units']} units, {report['n_annotators']} annotators; exact span F1 "
        f"{'–' if exact is None else f'{exact:.3f}'}; {report['n_disagreements']} disagreements -> {output}/"
    )


@app.command()
@guarded
def publish(
    annotations: AnnotationsArgument = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Dataset folder (default: dist/<[dataset] name> in the project folder).",
        ),
    ] = None,
    tasks: Annotated[
        Path | None,
        typer.Option(
            "--tasks",
            help="tasks.jsonl, for pre-label quality and provenance (default: annotation/tasks.jsonl).",
        ),
    ] = None,
    sentences: SentencesOption = None,
    articles: Annotated[
        Path | None,
        typer.Option(
            "--articles",
            help="articles.jsonl: each article's source and rights for the card (default: beside the sentences).",
        ),
    ] = None,
    push_to_hub: Annotated[
        str | None, typer.Option("--push-to-hub", help="Hub dataset repo (token from HF_TOKEN).")
    ] = None,
    private: Annotated[bool, typer.Option("--private", help="Create the Hub repo as private.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --push-to-hub: list what would be uploaded.")
    ] = False,
    adjudications: AdjudicationsOption = None,
    force: ForceOption = False,
    config: ConfigOption = None,
) -> None:
    """Adjudicate and write the Hugging Face dataset (parquet, card, agreement).

    The output folder is replaced as a whole, atomically; a folder that is not empty and was not written
    by publish is refused unless --force."""
    paths = ProjectPaths.of(config)
    annotations = annotations or paths.annotations
    tasks = tasks or paths.tasks
    sentences = sentences or paths.sentences
    settings = load_settings(config)
    out = output or paths.dataset(settings.dataset.name)
    report = publish_step(
        annotations,
        out,
        settings,
        tasks=tasks,
        sentences=sentences,
        adjudications=adjudications,
        force=force,
        articles=articles,
    )
    say(f"publish: {report.summary()} -> {out}")
    if push_to_hub:
        files = upload(out, push_to_hub, private=private, dry_run=dry_run)
        say(("would upload" if dry_run else "uploaded") + f" {len(files)} files to {push_to_hub}: " + ", ".join(files))


@app.command("export")
@guarded
def export_command(
    kind: Annotated[ExportKind, typer.Argument(help="spacy (a DocBin per split) or conll (CoNLL-2003 style).")],
    annotations: AnnotationsArgument = None,
    output: ExportOutput = None,
    sentences: SentencesOption = None,
    config: ConfigOption = None,
) -> None:
    """Export the adjudicated train/test data (same split as `publish`) for spaCy or CoNLL tools."""
    paths = ProjectPaths.of(config)
    annotations = annotations or paths.annotations
    output = output or paths.export
    sentences = sentences or paths.sentences
    paths, report = export_step(kind.value, annotations, output, load_settings(config), sentences=sentences)
    say(f"export {kind.value}: {report.summary()} -> " + ", ".join(str(p) for p in paths))


@app.command()
@guarded
def train(
    annotations: AnnotationsArgument = None,
    output: ModelOutput = None,
    sentences: SentencesOption = None,
    max_steps: Annotated[int, typer.Option("--max-steps", min=1, help=TRAIN_HELP["max_steps"])] = _T.max_steps,
    max_epochs: Annotated[int, typer.Option("--max-epochs", min=0, help=TRAIN_HELP["max_epochs"])] = _T.max_epochs,
    patience: Annotated[int, typer.Option("--patience", min=0, help=TRAIN_HELP["patience"])] = _T.patience,
    eval_frequency: Annotated[
        int | None, typer.Option("--eval-frequency", min=1, help=TRAIN_HELP["eval"])
    ] = _T.eval_frequency,
    max_seconds: Annotated[
        float | None, typer.Option("--max-seconds", min=1, help=TRAIN_HELP["budget"])
    ] = _T.max_seconds,
    seed: Annotated[int, typer.Option("--seed", help=TRAIN_HELP["seed"])] = _T.seed,
    from_scratch: Annotated[bool, typer.Option("--from-scratch", help=TRAIN_HELP["scratch"])] = False,
    strict: Annotated[bool, typer.Option("--strict", help=TRAIN_HELP["strict"])] = False,
    width: Annotated[int, typer.Option("--width", min=16, help=TRAIN_HELP["width"])] = _T.width,
    depth: Annotated[int, typer.Option("--depth", min=1, help=TRAIN_HELP["depth"])] = _T.depth,
    window_size: Annotated[int, typer.Option("--window-size", min=1, help=TRAIN_HELP["window"])] = _T.window_size,
    embed_rows: Annotated[int, typer.Option("--embed-rows", min=100, help=TRAIN_HELP["rows"])] = _T.embed_rows,
    hidden_width: Annotated[int, typer.Option("--hidden-width", min=8, help=TRAIN_HELP["hidden"])] = _T.hidden_width,
    force: ForceOption = False,
    config: ConfigOption = None,
) -> None:
    """Train the pre-label model on the adjudicated train split with spaCy; select on validation, report test once."""
    paths = ProjectPaths.of(config)
    annotations = annotations or paths.annotations
    output = output or paths.model
    sentences = sentences or paths.sentences
    given = locals()  # the options are named as TrainOptions' fields (tests/test_cli.py checks)
    options = TrainOptions(
        base="" if from_scratch else None, **{f.name: given[f.name] for f in fields(TrainOptions) if f.name in given}
    )

    def progress(p: dict[str, Any]) -> None:
        say(
            f"train: step {p['step']:>5}  epoch {p['epoch']:>3}  loss {p['loss']:9.1f}  validation F1 {p['f1']:.3f}  "
            f"best {p['best_f1']:.3f}  {p['seconds']:5.0f} s"
        )

    report = train_step(
        annotations,
        output,
        load_settings(config),
        sentences=sentences,
        options=options,
        on_progress=progress,
        force=force,
    )
    for warning in report.warnings:
        say(f"warning: {warning}")
    say(f"train: {report.summary()} -> {output} (metrics.json inside; use it with `newsner prelabel --model {output}`)")


@app.command()
@guarded
def run(
    with_studio: Annotated[
        bool, typer.Option("--with-studio", help="Push to and pull from Label Studio first.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """The offline chain: ingest, split, prelabel, agree, publish (validating at every step)."""
    for line in run_pipeline(load_settings(config), with_studio=with_studio):
        say(line)


studio_app = typer.Typer(help="The local Label Studio (data in .newsner/studio/).", no_args_is_help=True)
app.add_typer(studio_app, name="studio")


def _local_studio(settings: Settings) -> Any:

    return LocalStudio.for_settings(settings)


@studio_app.command("install")
@guarded
def studio_install() -> None:
    """Install the Label Studio server (newsner's `studio` extra) into this environment."""
    say(f"studio: {install_server()} installed; start it with `newsner studio start`")


@studio_app.command("start")
@guarded
def studio_start(config: ConfigOption = None) -> None:
    """Start the local Label Studio (first start takes about 30 s)."""
    studio = _local_studio(load_settings(config))
    studio.start()
    say(f"studio: running at {studio.url} (pid {studio.pid()}); admin login stored in {studio.credentials_path}")


@studio_app.command("stop")
@guarded
def studio_stop(config: ConfigOption = None) -> None:
    """Stop the local Label Studio."""
    studio = _local_studio(load_settings(config))
    say("studio: stopped" if studio.stop() else "studio: was not running")


@studio_app.command("status")
@guarded
def studio_status(config: ConfigOption = None) -> None:
    """Show whether the local Label Studio runs, and each annotator project's progress (on stdout).

    Progress counts only the owner's own annotations; a sentence labelled by someone else is shown
    apart (`newsner studio settle` returns it to its owner). Exit code 0 when it runs, 3 when it is stopped.
    """
    status = local_studio_status(load_settings(config))
    if not status.running:
        typer.echo(
            f"studio: stopped (nothing answers at {status.url}"
            + (f"; pid {status.pid} is alive but not healthy" if status.pid else "")
            + "); start it with `newsner studio start`"
        )
        raise typer.Exit(3)
    rows = status.progress
    typer.echo(
        f"studio: running at {status.url}, pid {status.pid}; {len(rows)} annotator projects"
        + ("" if rows else " (add annotators, then `newsner push`)")
    )
    for row in rows:
        typer.echo(
            f"  {row.annotator}: project {row.project}, {row.done} of {row.tasks} tasks annotated"
            + (f", {row.by_others} labelled by someone else (held; `newsner studio settle`)" if row.by_others else "")
        )


@studio_app.command("add-annotator")
@guarded
def studio_add_annotator(
    emails: Annotated[list[str], typer.Argument(help="Annotators' e-mail addresses.")],
    config: ConfigOption = None,
) -> None:
    """Create annotator accounts (local studio) and add them to the annotator pool (annotation/annotators.json).

    On a team server (LABEL_STUDIO_URL) the accounts must exist; they are added to the pool.
    """
    names, added = add_people(load_settings(config), emails, "annotator")
    say(
        f"studio: {len(emails)} annotator account(s) ready ({len(added)} new in the pool: {', '.join(names)}); "
        f"`newsner push` assigns them sentences; hand each person their login with `newsner studio login EMAIL`"
    )


@studio_app.command("add-reviewer")
@guarded
def studio_add_reviewer(
    emails: Annotated[list[str], typer.Argument(help="Reviewers' e-mail addresses.")],
    config: ConfigOption = None,
) -> None:
    """Create reviewer accounts (local studio) and add them to the pool as reviewers (they decide in the review
    project; the maintainer always may)."""

    names, added = add_people(load_settings(config), emails, "reviewer")
    say(
        f"studio: {len(emails)} reviewer account(s) ready ({len(added)} new in the pool: {', '.join(names)}); "
        f"`newsner review` fills the review project; hand each person their login with `newsner studio login EMAIL`"
    )


@studio_app.command("login")
@guarded
def studio_login(
    email: Annotated[
        str, typer.Argument(help="The person's e-mail address (an annotator, a reviewer or the maintainer).")
    ],
    config: ConfigOption = None,
) -> None:
    """Show one person's login and the project they work in, to hand over to that person alone."""
    login = login_details(load_settings(config), email)
    where = (
        "open this one only, then Label All Tasks"
        if login.role == "annotator"
        else "open its task list and click the first sentence: worst agreement first; Label All Tasks hides the "
        "versions"
    )
    project = f"{login.projects[0]} ({where})" if login.projects else f"none: {login.missing}"
    typer.echo(
        f"address:  {login.url}\ne-mail:   {login.email}\npassword: {login.password}\n"
        f"role:     {login.role}\nproject:  {project}"
    )


@studio_app.command("settle")
@guarded
def studio_settle(
    annotation_dir: Annotated[
        Path | None,
        typer.Option("--annotations", help="The folder with held.jsonl. Default: annotation in the project folder."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be removed.")] = False,
    config: ConfigOption = None,
) -> None:
    """Remove held stray annotations (made in someone else's project) from Label Studio, after recording them in
    settled.jsonl, so the sentence returns to its owner's queue. Pull first."""
    paths = ProjectPaths.of(config)
    annotation_dir = annotation_dir or paths.annotation
    report = settle_step(annotation_dir, load_settings(config), dry_run=dry_run)
    for item in report.removed:
        say(
            f"{'would remove' if dry_run else 'removed'}: task {item['task_id']} annotation {item['annotation_id']} "
            f"by {item['annotator']} (sentence {item['sentence_id']})"
        )
    for line in report.left:
        say(f"left: {line}")
    say(f"settle: {report.summary()}")


@app.command()
@guarded
def push(
    tasks: TasksArgument = None,
    guidelines: GuidelinesOption = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Tasks per import request.")] = None,
    config: ConfigOption = None,
) -> None:
    """Create or update the Label Studio project and import the tasks it does not have yet."""
    paths = ProjectPaths.of(config)
    tasks = tasks or paths.tasks
    guidelines = guidelines or paths.guidelines
    url, report = push_step(tasks, load_settings(config), guidelines=guidelines, batch_size=batch_size)
    for problem in report.invalid[:20]:
        say(f"invalid {problem}")
    say(f"push: {report.summary()} on {url}")
    if report.invalid:
        fail(f"{len(report.invalid)} invalid task(s) were not pushed (listed above); fix them and push again")


@app.command()
@guarded
def pull(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Annotation folder. Default: annotation in the project folder."),
    ] = None,
    sentences: SentencesOption = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Drop annotations the server does not have (default: keep them).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Export the annotations: raw snapshot in exports/, normalised annotations.jsonl, pull-report.json.

    Annotations already in annotations.jsonl that the server lacks are kept (and counted) unless --replace.
    """
    paths = ProjectPaths.of(config)
    output = output or paths.annotation
    sentences = sentences or paths.sentences
    path, report = pull_step(output, load_settings(config), sentences=sentences, replace=replace)
    for problem in report.problems[:20]:
        say(problem)
    for held in report.held[:20]:
        say(f"held: task {held['task_id']} (sentence {held['sentence_id']}): {held['reason']}")
    say(
        f"pull: {report.summary()} -> {path} (held for review: {output / 'held.jsonl'}; raw exports in "
        f"{output / 'exports'})"
    )


@app.command()
@guarded
def review(
    annotations: AnnotationsArgument = None,
    select: Annotated[
        ReviewSelect | None,
        typer.Option("--select", help="disagreements (default: [review] select) or all multiply-annotated sentences."),
    ] = None,
    audit: Annotated[
        float | None,
        typer.Option(
            "--audit",
            min=0.0,
            max=1.0,
            help="Also this fraction of the agreeing sentences (default: [review] audit_fraction).",
        ),
    ] = None,
    guidelines: GuidelinesOption = None,
    config: ConfigOption = None,
) -> None:
    """Fill the review project: each sentence that needs a decision, with every annotator's version as a tab."""
    paths = ProjectPaths.of(config)
    annotations = annotations or paths.annotations
    guidelines = guidelines or paths.guidelines
    url, report = review_step(
        annotations,
        load_settings(config),
        guidelines=guidelines,
        select=select.value if select else None,
        audit_fraction=audit,
    )
    say(f"review: {report.summary()}; project {report.project} on {url}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
