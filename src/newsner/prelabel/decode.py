"""Greedy NER decoding that keeps the probability of every decision, and span scores from it.

Entities always come from spaCy's greedy `ner` (identical to the full pipeline's). newsner walks the same
greedy transition sequence itself and keeps, for every decision, the model's probability of the chosen
action (softmax over the valid actions): a span's score is the product of the probabilities of the
actions that built it (B…L or U). (spaCy's beam search was measured and rejected: on this greedily
trained model it prefers other paths than greedy's and gives the greedy entities near-zero mass.)
"""

from __future__ import annotations

from typing import Any


class GreedyWalker:
    """Greedy NER decoding with the probability of every chosen action (same decisions as spaCy's)."""

    def __init__(self, ner: Any):
        import numpy

        self.numpy = numpy
        self.ner = ner
        self.names = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
        self.masks: dict[tuple[str | None, int], Any] = {}

    def _mask(self, state: Any, open_label: str | None) -> Any:
        key = (open_label, min(state.buffer_length(), 2))
        if key not in self.masks:
            self.masks[key] = self.numpy.array([self.ner.moves.is_valid(state, name) for name in self.names])
        return self.masks[key]

    def __call__(self, docs: list[Any]) -> list[list[tuple[str, float]]]:
        """Set greedy entities on `docs`; return per doc the (action, probability) sequence."""
        np = self.numpy
        states = self.ner.moves.init_batch(docs)
        step = self.ner.model.predict(docs)
        paths: list[list[tuple[str, float]]] = [[] for _ in states]
        index = {id(state): i for i, state in enumerate(states)}
        active = [state for state in states if not state.is_final()]
        while active:
            scores = step.predict(active)
            for state, row in zip(active, scores, strict=True):
                path = paths[index[id(state)]]
                last = path[-1][0] if path else "O"
                open_label = last[2:] if last[:2] in ("B-", "I-") else None
                valid = np.where(self._mask(state, open_label), row, -np.inf)
                probs = np.exp(valid - valid.max())
                best = int(np.argmax(valid))
                path.append((self.names[best], float(probs[best] / probs.sum())))
            active = self.ner.transition_states(active, scores)
        step.clear_memory()  # as spaCy's own greedy parse does: its closures hold the batch's tensors in cycles
        self.ner.set_annotations(docs, states)
        return paths


def span_probability(path: list[tuple[str, float]], start: int, end: int) -> float:
    probability = 1.0
    for _, p in path[start:end]:
        probability *= p
    return probability


def score(value: float) -> float:
    """A probability (a product of softmax outputs: in [0, 1] by construction, so not clamped) to 4 places."""
    return round(value, 4)
