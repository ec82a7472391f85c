"""Pre-labelling: spaCy NER on every sentence, mapped onto the project's labels, as Label Studio tasks.

Entities always come from spaCy's greedy `ner` (identical to the full pipeline's). With
`scores="greedy"` (the default) newsner walks the same greedy transition sequence itself and keeps,
for every decision, the model's probability of the chosen action (softmax over the valid actions):
a span's score is the product of the probabilities of the actions that built it (B…L or U), the task's
score is its least certain span, or for a sentence without entities its least certain "outside"
decision. (spaCy's beam search was measured and rejected: on this greedily trained model it prefers
other paths than greedy's and gives the greedy entities near-zero mass.) `scores="none"` leaves the
`score` keys out rather than filling them with a made-up constant.

The package, by concern: `model` (loading the pipeline), `decode` (greedy decoding with a probability
per decision), `tasks` (sentence records to tasks), `backends` (here, processes or Dask, one interface)
and `stream` (`prelabel()`, which ties them together).
"""

from newsner.prelabel.model import load_pipeline, model_version
from newsner.prelabel.stream import PrelabelOptions, prelabel
from newsner.prelabel.tasks import PrelabelReport

__all__ = ["PrelabelOptions", "PrelabelReport", "load_pipeline", "model_version", "prelabel"]
