"""scikit-learn's own estimator checks, for both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skforecast_lstm import LSTMClassifier, LSTMRegressor

# The defaults as a user gets them, and a short budget: scikit-learn's checks (among them
# check_regressors_train's R^2 > 0.5 on raw tabular data) must hold for both.
ESTIMATORS = [
    LSTMRegressor(random_state=0), LSTMClassifier(random_state=0),
    LSTMRegressor(epochs=30, random_state=0), LSTMClassifier(epochs=30, random_state=0),
]

_SAMPLE_WEIGHT_REASON = (
    "Minibatch training is stochastic in what it sees together: a sample of weight 2 and the "
    "same sample repeated twice land in different minibatches and shuffles, so the fitted "
    "weights differ although both minimise the same expected loss (scikit-learn marks "
    "MLPRegressor/MLPClassifier and SGD estimators the same way)."
)
EXPECTED_FAILURES = {
    name: {"check_sample_weight_equivalence_on_dense_data": _SAMPLE_WEIGHT_REASON}
    for name in ("LSTMRegressor", "LSTMClassifier")
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
