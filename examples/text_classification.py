"""Sentiment of short review sentences: token ids -> embedding -> LSTM, against bag-of-words.

The 3,000 sentences of the UCI "Sentiment Labelled Sentences" data set (CC BY 4.0,
shipped with the package: ``skforecast_lstm.datasets.load_sentiment_sentences``) are
split 80/20 (stratified, seeded). Words of the training part form the vocabulary (id 0
pads, id 1 is an unknown word); each sentence becomes a list of ids of its own length,
which ``LSTMClassifier(embedding_dim=...)`` pads and masks itself.

The baseline is a logistic regression on bag-of-words counts, the classic strong
baseline for short texts. The script prints both test accuracies and writes
``text_classification.png`` (the training loss and both accuracies).

Run it as it is::

    python examples/text_classification.py

``SKFORECAST_LSTM_QUICK=1`` runs a tiny version in seconds (used by the test suite);
``SKFORECAST_LSTM_OUTDIR`` is the folder for the figure (default: the current folder).
"""

import os
import re
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files, open no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skforecast_lstm import LSTMClassifier  # noqa: E402
from skforecast_lstm.datasets import load_sentiment_sentences  # noqa: E402

QUICK = os.environ.get("SKFORECAST_LSTM_QUICK", "") not in ("", "0")
OUTDIR = Path(os.environ.get("SKFORECAST_LSTM_OUTDIR", "."))
WORD = re.compile(r"[a-z0-9']+")


def words(sentence):
    return WORD.findall(sentence.lower())


def encode(sentences, vocabulary):
    """Each sentence as an array of ids: 1 for unknown words, never 0 (padding)."""
    return [np.array([vocabulary.get(w, 1) for w in words(s)] or [1]) for s in sentences]


data = load_sentiment_sentences()
if QUICK:
    data = data.sample(400, random_state=0)
train, test = train_test_split(data, test_size=0.2, stratify=data["label"], random_state=0)

counts = Counter(w for s in train["sentence"] for w in words(s))
vocabulary = {w: i + 2 for i, (w, _) in enumerate(counts.most_common())}
X_train, X_test = encode(train["sentence"], vocabulary), encode(test["sentence"], vocabulary)
y_train, y_test = train["label"].to_numpy(), test["label"].to_numpy()

# Keras: Sequential([Embedding(len(vocabulary) + 2, 32, mask_zero=True),
#                    LSTM(32, dropout=0.4, recurrent_dropout=0.2), Dense(1, "sigmoid")])
# with EarlyStopping(patience=3, restore_best_weights=True) on a held-out tenth
model = LSTMClassifier(
    units=32, embedding_dim=32, vocab_size=len(vocabulary) + 2, padding_idx=0,
    dropout=0.4, recurrent_dropout=0.2, epochs=2 if QUICK else 20, batch_size=32,
    learning_rate=0.005, early_stopping=True, n_iter_no_change=3, random_state=0,
)
model.fit(X_train, y_train)
lstm_accuracy = model.score(X_test, y_test)
model.summary()

bag = CountVectorizer(token_pattern=WORD.pattern, lowercase=True)
baseline = LogisticRegression(max_iter=1000).fit(bag.fit_transform(train["sentence"]), y_train)
bow_accuracy = baseline.score(bag.transform(test["sentence"]), y_test)

print(f"sentences: {len(train)} train, {len(test)} test; vocabulary {len(vocabulary)} words")
print(f"test accuracy  LSTM (embedding + LSTM): {lstm_accuracy:.3f}")
print(f"test accuracy  bag-of-words logistic regression: {bow_accuracy:.3f}")
for sentence in ["The food was great and the staff friendly.",
                 "Worst phone I ever bought, it broke in a week."]:
    p = model.predict_proba(encode([sentence], vocabulary))[0, 1]
    print(f"P(positive) = {p:.2f}  {sentence}")

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
left.plot(np.arange(1, len(model.loss_curve_) + 1), model.loss_curve_, marker="o")
left.set(xlabel="epoch", ylabel="training log-loss", title="LSTMClassifier training")
right.bar(["LSTM\n(embedding)", "bag-of-words\nlogistic reg."], [lstm_accuracy, bow_accuracy],
          color=["tab:blue", "tab:gray"])
for x, v in enumerate([lstm_accuracy, bow_accuracy]):
    right.text(x, v + 0.01, f"{v:.3f}", ha="center")
right.set(ylim=(0.5, 1.0), ylabel="test accuracy", title="Sentiment of review sentences")
fig.tight_layout()
OUTDIR.mkdir(parents=True, exist_ok=True)
path = OUTDIR / "text_classification.png"
fig.savefig(path, dpi=110, bbox_inches="tight")
print(f"figure written to {path.resolve()}")
