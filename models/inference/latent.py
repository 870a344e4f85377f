"""The latent-intensity pieces shared by the daily nowcast (:mod:`models.inference.nowcast`)
and the monthly backtest model (:mod:`models.inference.monthly`): the AR(1)-around-a-trend
log-intensity, the negative-binomial log pmf, and prior-to-PyMC helpers. Built inside the
current PyMC model; both models call them, neither copies them."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

__all__ = ["beta_rv", "latent_intensity", "lognormal_rv", "nb_logpmf"]


def lognormal_rv(name, prior, dims=None):
    """A LogNormal random variable with the (mu, sigma) of ``prior`` (a :class:`Prior` whose
    spec is a config LogNormal)."""
    spec = prior.spec
    return pm.LogNormal(name, mu=spec.mu, sigma=spec.sigma, dims=dims)


def beta_rv(name, spec, dims=None):
    """A Beta random variable with the (alpha, beta) of a config Beta ``spec``."""
    a, b = spec.alpha_beta
    return pm.Beta(name, alpha=a, beta=b, dims=dims)


def latent_intensity(n_steps: int, priors: dict, *, series_dim: str, time_dim: str,
                     anchor: str = "start"):
    """The latent intensity shared by the event (daily) and the backtest (monthly) models, built
    inside the current PyMC model::

        log lambda[s, t] = log_base_intensity[s] + trend[s] * (t - (n_steps-1)) + eps[s, t]
        eps[s, t] = persistence * eps[s, t-1] + innovation_sd * z[s, t],  eps[s, 0] = innovation_sd * z[s, 0]

    ``priors`` maps intensity_at_origin (LogNormal, events per time step), trend (Normal, per
    step), persistence (Beta) and innovation_sd (LogNormal) to :class:`models.inference.priors.Prior`.
    Non-centred (z ~ N(0, 1)) so NUTS samples it without funnels. The first deviation has the
    scale of one innovation rather than the stationary scale sigma / sqrt(1 - phi^2): with few
    steps the stationary start makes a funnel as persistence nears 1 (divergences in SBC), and
    the trend line already carries the level. Returns (lambda, eps).

    ``anchor="mean"`` (an option; the default ``"start"`` is the form above) subtracts the
    path's mean over the steps, ``eps[s, t] - mean_t eps[s, t]``, so ``log_base_intensity`` is the
    series' mean log-intensity on the trend line (carried to the last step) and no common shift
    of the deviations can trade off against it: with the start form, level and a persistent
    deviation form a ridge when the data are informative (R-hat and divergences in the monthly
    backtest).
    """
    if anchor not in ("start", "mean"):
        raise ValueError(f"anchor must be 'start' or 'mean', got {anchor!r}")
    T = n_steps
    intensity = priors["intensity_at_origin"].spec
    a = pm.Normal("log_base_intensity", mu=intensity.mu, sigma=intensity.sigma, dims=series_dim)
    trend = pm.Normal("trend", mu=priors["trend"].spec.mean, sigma=priors["trend"].spec.sd,
                      dims=series_dim)
    phi = beta_rv("persistence", priors["persistence"].spec)
    sigma = lognormal_rv("innovation_sd", priors["innovation_sd"])
    z = pm.Normal("innovation_z", 0.0, 1.0, dims=(series_dim, time_dim))
    lag = np.subtract.outer(np.arange(T), np.arange(T))  # t - s
    weights = pt.switch(lag >= 0, phi ** np.maximum(lag, 0), 0.0)
    path = (z * sigma) @ weights.T
    if anchor == "mean":
        path = path - path.mean(axis=1, keepdims=True)
    eps = pm.Deterministic("ar_deviation_path", path, dims=(series_dim, time_dim))
    steps_to_origin = np.arange(T) - (T - 1)
    log_lam = a[:, None] + trend[:, None] * steps_to_origin[None, :] + eps
    lam = pm.Deterministic("intensity", pt.exp(log_lam), dims=(series_dim, time_dim))
    return lam, eps


def nb_logpmf(y, mean, size):
    """Negative-binomial log pmf of count ``y`` with the given mean and size (PyTensor)."""
    return (pt.gammaln(y + size) - pt.gammaln(size) - pt.gammaln(y + 1)
            + size * (pt.log(size) - pt.log(size + mean)) + y * (pt.log(mean) - pt.log(size + mean)))
