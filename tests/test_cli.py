"""The command line's own wiring: options that pass through by name, and help that names the defaults."""

from __future__ import annotations

import inspect
from dataclasses import fields

from newsner import cli
from newsner.train import TrainOptions


def test_every_training_option_is_a_train_flag_of_the_same_name_and_default():
    """`newsner train` hands its options to TrainOptions by name: a field without a flag, or a flag whose
    default differs from the field's, would silently not reach training."""
    parameters = inspect.signature(cli.train).parameters
    settable = {f.name: f.default for f in fields(TrainOptions)}
    settable.pop("base")  # --from-scratch
    settable.pop("dropout")  # not a flag: measured, not tuned per run
    assert {name: parameters[name].default for name in settable if name in parameters} == settable
