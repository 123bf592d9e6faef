"""Classify activities from accelerometer-like sequences with LSTMClassifier.

Each sample is a 2.5 s window of a three-axis accelerometer at 20 Hz, so a 3-D
array ``(n_samples, 50 time steps, 3 axes)``. Four activities: *sitting*
(gravity and sensor noise), *walking* and *running* (oscillations of different
frequency and strength), *stairs* (walking with a slight tilt). Every window
starts at a random phase of the gait, with a random amplitude and tempo, so the
class is in the *shape over time*, not in the value at any one time step.

The LSTM reads the windows as they are; the baseline is a logistic regression
on the same windows flattened to 150 columns. The script prints both accuracies
and a classification report, and draws both confusion matrices.

Run it as it is::

    python examples/sequence_classification.py

``SKFORECAST_LSTM_QUICK=1`` runs a tiny version in seconds (used by the test
suite); ``SKFORECAST_LSTM_OUTDIR`` is the folder for the figure (default: the
current folder).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files, open no window
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, classification_report
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skforecast_lstm import LSTMClassifier

QUICK = os.environ.get("SKFORECAST_LSTM_QUICK", "") not in ("", "0")
OUTDIR = Path(os.environ.get("SKFORECAST_LSTM_OUTDIR", "."))
N_SAMPLES = 240 if QUICK else 2000
EPOCHS = 2 if QUICK else 40
RATE_HZ, N_STEPS = 20, 50
ACTIVITIES = ["sitting", "walking", "running", "stairs"]


def accelerometer_windows(n_samples, seed=0):
    """Synthetic (n_samples, 50, 3) windows and their activity labels."""
    rng = np.random.default_rng(seed)
    t = np.arange(N_STEPS) / RATE_HZ
    labels = rng.choice(ACTIVITIES, size=n_samples)
    X = np.empty((n_samples, N_STEPS, 3))
    for i, activity in enumerate(labels):
        phase = rng.uniform(0, 2 * np.pi)
        tilt = rng.normal(scale=0.05, size=3)  # how the phone sits in the pocket
        if activity == "sitting":
            freq, amp = 0.0, 0.0
        elif activity == "running":
            freq, amp = rng.uniform(2.4, 3.0), rng.uniform(0.6, 1.0)
        else:  # walking and stairs share the gait
            freq, amp = rng.uniform(1.5, 2.1), rng.uniform(0.2, 0.4)
        step = np.sin(2 * np.pi * freq * t + phase)
        X[i, :, 0] = tilt[0] + 0.5 * amp * np.sin(np.pi * freq * t + phase)  # sway
        X[i, :, 1] = tilt[1] + 0.3 * amp * step
        X[i, :, 2] = 1.0 + tilt[2] + amp * step  # vertical: gravity plus steps
        if activity == "stairs":
            X[i, :, 1] += 0.12  # leaning forward
            X[i, :, 2] += 0.25 * amp * np.maximum(step, 0)  # harder push up
    X += rng.normal(scale=0.05, size=X.shape)
    return X, labels


def main():
    X, y = accelerometer_windows(N_SAMPLES)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    print(f"Train {X_train.shape}, test {X_test.shape}: (samples, time steps, axes)")

    lstm = LSTMClassifier(units=32, epochs=EPOCHS, learning_rate=0.005,
                          early_stopping=not QUICK, n_iter_no_change=8, random_state=0)
    lstm.fit(X_train, y_train)
    pred_lstm = lstm.predict(X_test)

    flat = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    flat.fit(X_train.reshape(len(X_train), -1), y_train)
    pred_flat = flat.predict(X_test.reshape(len(X_test), -1))

    acc_lstm = accuracy_score(y_test, pred_lstm)
    acc_flat = accuracy_score(y_test, pred_flat)
    print(f"LSTMClassifier: {lstm.n_iter_} epochs, test accuracy {acc_lstm:.3f}")
    print(f"Logistic regression on flattened windows: test accuracy {acc_flat:.3f}")
    print(classification_report(y_test, pred_lstm, zero_division=0))

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2),
                             gridspec_kw={"width_ratios": [1.3, 1, 1]})
    t = np.arange(N_STEPS) / RATE_HZ
    for k, activity in enumerate(ACTIVITIES):
        i = np.flatnonzero(y == activity)[0]
        line, = axes[0].plot(t, X[i, :, 2] + 1.5 * k)
        axes[0].text(t[-1] + 0.08, 1.0 + 1.5 * k, activity, color=line.get_color(),
                     va="center")
    axes[0].set_xlim(0, t[-1] + 0.7)
    axes[0].set_yticks([])
    axes[0].set_xlabel("seconds")
    axes[0].set_title("Vertical axis, one window per activity")
    for ax, pred, name, acc in [(axes[1], pred_lstm, "LSTMClassifier", acc_lstm),
                                (axes[2], pred_flat, "Logistic regression (flat)", acc_flat)]:
        ConfusionMatrixDisplay.from_predictions(
            y_test, pred, labels=ACTIVITIES, normalize="true", values_format=".2f",
            cmap="Blues", colorbar=False, ax=ax,
        )
        ax.set_title(f"{name}\naccuracy {acc:.3f}")
        ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()

    OUTDIR.mkdir(parents=True, exist_ok=True)
    path = OUTDIR / "sequence_classification.png"
    fig.savefig(path, dpi=90, bbox_inches="tight")
    print(f"Figure written to {path}")


if __name__ == "__main__":
    main()
