"""Bit-identical outputs across a refactor: save a fixed set of fits, then compare.

``python benchmarks/golden.py --save FILE`` fits a fixed set of models (plain
and with options, both estimators, the forecaster) with fixed
``random_state`` and saves their predictions, loss curves and weights;
``python benchmarks/golden.py --check FILE`` refits them with the code now
importable and reports every array that differs by a single bit. Run
``--save`` on the old revision (e.g. a ``git worktree`` on ``PYTHONPATH``)
and ``--check`` on the new one, on the same machine: bits depend on the CPU
and the BLAS build.
"""

import argparse
import sys
import warnings

import numpy as np
import pandas as pd


def _data(seed=0, n=96, T=12, F=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, F)).astype(np.float32)
    y = X[:, -3:, 0].sum(axis=1) + 0.5 * X[:, :, 1].mean(axis=1) + 3.0
    return X, y


def cases():
    """name -> function returning a dict of arrays."""
    from skforecast_lstm import LSTMClassifier, LSTMForecaster, LSTMRegressor

    X, y = _data()
    labels = (y > np.median(y)).astype(int)
    three = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    Y2 = np.stack([y, -y], axis=1)

    def reg(target=y, **kw):
        def run():
            params = dict(units=8, epochs=4, batch_size=16, random_state=0)
            est = LSTMRegressor(**{**params, **kw})
            fitted = est.fit(X, target)
            out = {"pred": fitted.predict(X), "loss": np.asarray(est.loss_curve_)}
            out.update({f"w_{k}": v for k, v in est.state_dict().items()})
            return out
        return run

    def clf(target, **kw):
        def run():
            est = LSTMClassifier(units=8, epochs=4, batch_size=16, random_state=0, **kw)
            est.fit(X, target)
            return {"proba": est.predict_proba(X), "loss": np.asarray(est.loss_curve_)}
        return run

    def tokens():
        rng = np.random.default_rng(1)
        T = rng.integers(1, 20, size=(80, 10))
        target = (T[:, -1] > 10).astype(int)
        est = LSTMClassifier(units=8, epochs=3, batch_size=16, random_state=0, embedding_dim=4,
                             vocab_size=20).fit(T, target)
        return {"proba": est.predict_proba(T), "loss": np.asarray(est.loss_curve_)}

    def ids():
        ids = np.repeat(np.arange(4), 24)[:, None, None] * np.ones((1, X.shape[1], 1))
        Xi = np.concatenate([X, ids.astype(np.float32)], axis=2)
        est = LSTMRegressor(units=8, epochs=3, batch_size=16, random_state=0,
                            id_embedding=(4, 2)).fit(Xi, y)
        return {"pred": est.predict(Xi), "loss": np.asarray(est.loss_curve_)}

    def partial():
        est = LSTMRegressor(units=8, batch_size=16, random_state=0)
        for _ in range(3):
            est.partial_fit(X, y)
        return {"pred": est.predict(X), "loss": np.asarray(est.loss_curve_)}

    def early():
        est = LSTMRegressor(units=8, epochs=6, batch_size=16, random_state=0,
                            early_stopping=True).fit(X, y)
        return {"pred": est.predict(X), "val": np.asarray(est.validation_loss_curve_)}

    def early_dropout():
        est = LSTMRegressor(units=8, epochs=6, batch_size=16, random_state=0, dropout=0.2,
                            early_stopping=True).fit(X, y)
        return {"pred": est.predict(X), "val": np.asarray(est.validation_loss_curve_)}

    def forecaster():
        rng = np.random.default_rng(2)
        t = np.arange(150)
        values = 50 + 0.2 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(size=150)
        series = pd.Series(values, index=pd.date_range("2000-01", periods=150, freq="MS"))
        est = LSTMRegressor(units=8, epochs=5, batch_size=16, learning_rate=0.005)
        f = LSTMForecaster(24, 6, estimator=est, random_state=0).fit(series)
        return {"pred": f.predict().to_numpy()}

    return {
        "regressor plain": reg(),
        "regressor float64": reg(dtype="float64"),
        "regressor no standardize": reg(standardize=False),
        "regressor stacked": reg(units=(8, 6)),
        "regressor multi-output": reg(Y2),
        "regressor quantiles": reg(quantiles=[0.1, 0.5, 0.9]),
        "regressor absolute": reg(loss="absolute_error"),
        "regressor huber": reg(loss="huber"),
        "regressor dropout": reg(dropout=0.2, recurrent_dropout=0.1),
        "regressor l2": reg(l2=1e-3),
        "regressor bidirectional": reg(bidirectional=True),
        "regressor relu": reg(activation="relu"),
        "regressor sgd": reg(optimizer="sgd", learning_rate=0.01),
        "regressor encoder-decoder": reg(Y2, decoder_units=6, output_steps=2),
        "classifier binary": clf(labels),
        "classifier softmax": clf(three),
        "classifier dropout": clf(three, dropout=0.2),
        "classifier tokens": tokens,
        "regressor id_embedding": ids,
        "regressor partial_fit": partial,
        "regressor early_stopping": early,
        "regressor early_stopping dropout": early_dropout,
        "forecaster": forecaster,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", metavar="FILE")
    group.add_argument("--check", metavar="FILE")
    args = parser.parse_args(argv)
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, run in cases().items():
            for key, value in run().items():
                results[f"{name}/{key}"] = np.asarray(value)
    if args.save:
        np.savez(args.save, **results)
        print(f"saved {len(results)} arrays from {len(cases())} cases to {args.save}")
        return 0
    saved = np.load(args.check)
    bad = [k for k in saved.files if k not in results or results[k].shape != saved[k].shape
           or results[k].dtype != saved[k].dtype
           or not np.array_equal(results[k], saved[k], equal_nan=True)]
    new = sorted(set(results) - set(saved.files))
    for key in bad:
        print(f"DIFFERS: {key}")
    for key in new:
        print(f"not in the saved file: {key}")
    print(f"{len(saved.files) - len(bad)} of {len(saved.files)} arrays bit-identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
