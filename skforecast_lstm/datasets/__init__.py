"""Small public-domain series shipped with the package."""

from importlib import resources

import pandas as pd

__all__ = ["load_co2"]


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
