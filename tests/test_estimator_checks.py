"""scikit-learn's own estimator checks, for both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skforecast_lstm import LSTMClassifier, LSTMRegressor

# Small and quick: the checks fit each estimator a few hundred times.
FAST = dict(units=8, epochs=100, batch_size=32, learning_rate=0.01, random_state=0)

EXPECTED_FAILURES = {}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(
    [LSTMRegressor(**FAST), LSTMClassifier(**FAST)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
