"""Small public data sets shipped with the package."""

from importlib import resources

import pandas as pd

__all__ = ["load_co2", "load_sentiment_sentences"]


def load_co2():
    """Monthly mean atmospheric CO2 at Mauna Loa, Hawaii, January 1965 to December 2001.

    444 monthly values in parts per million (ppmv): a rising trend with a
    yearly cycle, the classic seasonal series of Keeling's measurements. Each
    value is the mean of that month's weekly averages (months before 1965 have
    gaps and are left out).

    Returns
    -------
    pandas.Series
        Named ``'co2'``, with a monthly ``DatetimeIndex`` (``freq='MS'``).

    Notes
    -----
    Source: Keeling, C.D. and T.P. Whorf (2004). Atmospheric CO2
    concentrations derived from flask air samples at sites in the SIO network.
    In *Trends: A Compendium of Data on Global Change*. Carbon Dioxide
    Information Analysis Center, Oak Ridge National Laboratory, U.S.
    Department of Energy, Oak Ridge, Tennessee, U.S.A. The weekly series is
    distributed with statsmodels as ``statsmodels.datasets.co2``, whose
    licence note reads "This is public domain."; this file holds its monthly
    means rounded to 0.01 ppmv.

    Examples
    --------
    >>> from skforecast_lstm.datasets import load_co2
    >>> y = load_co2()
    >>> len(y), y.index.freqstr, y.index[0].year, y.index[-1].year
    (444, 'MS', 1965, 2001)
    """
    with resources.files(__package__).joinpath("co2_monthly.csv").open("r") as handle:
        frame = pd.read_csv(handle)
    index = pd.DatetimeIndex(pd.to_datetime(frame["date"], format="%Y-%m"), freq="MS")
    return pd.Series(frame["co2"].to_numpy(dtype=float), index=index, name="co2")


def load_sentiment_sentences():
    """3,000 short review sentences labelled positive (1) or negative (0).

    1,000 sentences each from product reviews (amazon.com), movie reviews
    (imdb.com) and restaurant reviews (yelp.com), half positive and half
    negative in each source, chosen to carry a clear sentiment.

    Returns
    -------
    pandas.DataFrame
        Columns ``source`` (``'amazon'``, ``'imdb'``, ``'yelp'``),
        ``sentence`` (str) and ``label`` (int, 1 = positive).

    Notes
    -----
    "Sentiment Labelled Sentences" data set of the UCI Machine Learning
    Repository (https://doi.org/10.24432/C57604), licensed under Creative
    Commons Attribution 4.0 (CC BY 4.0), created for: D. Kotzias, M. Denil,
    N. de Freitas and P. Smyth (2015), *From Group to Individual Labels Using
    Deep Features*, KDD 2015. Shipped unchanged but for the file format (one
    CSV with a ``source`` column instead of three tab-separated files).

    Examples
    --------
    >>> from skforecast_lstm.datasets import load_sentiment_sentences
    >>> data = load_sentiment_sentences()
    >>> data.shape, int(data["label"].sum())
    ((3000, 3), 1500)
    >>> sorted(data["source"].unique())
    ['amazon', 'imdb', 'yelp']
    """
    with resources.files(__package__).joinpath("sentiment_sentences.csv").open(
        "r", encoding="utf-8"
    ) as handle:
        return pd.read_csv(handle)
