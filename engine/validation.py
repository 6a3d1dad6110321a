"""The loss on documents held out of training (validation): which of them a model can read, and their mean
loss, computed as training computes a step's loss but with no backward pass and no update."""

import math

from engine.errors import TrainingDiverged
from engine.gc_pause import paused

MAX_DOCS = 256  # the validation loss is the mean over at most this many held-out documents, spread evenly over them


def evaluated(val_docs, tokenizer, limit=MAX_DOCS):
    """(the documents the validation loss is the mean over, how many held-out ones were left out because they
    hold a character the training documents do not have). At most `limit`, evenly spaced through val_docs."""
    readable = [doc for doc in val_docs if tokenizer.can_read(doc)]
    if len(readable) > limit:
        readable = [readable[i * len(readable) // limit] for i in range(limit)]
    return readable, sum(1 for doc in val_docs if not tokenizer.can_read(doc))


def validation_loss(model, docs):
    """The mean over docs of each one's training loss (mean -log p over its positions) with the model's weights;
    TrainingDiverged if it is not a finite number."""
    total = 0.0
    with paused():
        for doc in docs:
            tokens, n = model.positions(doc)
            try:
                total += model.loss(tokens, n).data
            except (OverflowError, ValueError, ZeroDivisionError):
                total = math.inf
                break
    loss = total / len(docs)
    if not math.isfinite(loss):
        raise TrainingDiverged(f'The validation loss is {loss}: a probability fell to 0; try a lower learning rate.')
    return loss
