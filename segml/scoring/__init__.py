"""Scoring: the input checks, the compiled numpy scorer, and the compile step.

* :mod:`segml.scoring.checks` -- :func:`score`, :func:`score_features`, :func:`score_one`:
  check new customers against a model's input contract, then assign them;
* :mod:`segml.scoring.compiled` -- :class:`CompiledScorer`, a fitted segmenter compiled
  into numpy operations (same model matrix and labels as the fitted pipeline);
* :mod:`segml.scoring.registry` -- which fitted transformers compile, and how;
* :mod:`segml.scoring.steps`, :mod:`segml.scoring.fuse` -- the compiled steps and their
  fusion into broadcasts; :mod:`segml.scoring.assign` -- labels, distances, confidences
  and drivers from the model matrix; :mod:`segml.scoring.parts` -- the pieces of a
  fitted segmenter.
"""

from segml.scoring.checks import (
    PROSPECT_SEGMENT_ID,
    PROSPECT_SEGMENT_NAME,
    ScoreResult,
    score,
    score_features,
    score_one,
)
from segml.scoring.compiled import CompiledScorer
from segml.scoring.parts import SegmenterParts, split_segmenter

__all__ = [
    "PROSPECT_SEGMENT_ID",
    "PROSPECT_SEGMENT_NAME",
    "CompiledScorer",
    "ScoreResult",
    "SegmenterParts",
    "score",
    "score_features",
    "score_one",
    "split_segmenter",
]
