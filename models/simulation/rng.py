"""Named random streams and per-draw ("paired") samplers for the Monte Carlo engine.

Common random numbers, Starsim-style: every random quantity comes from a stream whose seed is a
stable hash of (run seed, stream name, integer keys such as chunk and day), never from global state
and never from Python's salted ``hash()``. Two scenarios that ask for the same stream get the same
numbers, so their difference is computed draw by draw with little noise.

Counting variates matters as much as naming streams. numpy's Poisson and binomial samplers use
rejection: how many raw numbers one variate consumes depends on its parameters, so in a shared
stream a lever change in one draw shifts the numbers of every later draw. The samplers here
(:func:`poisson`, :func:`binomial`) instead give each draw a fixed pair of uniforms per attempt: the
first attempt from a fast PCG64 stream keyed by (name, chunk, day), rare retries from a counter-based
hash keyed by (name, chunk, day, attempt, draw). A draw's variate therefore depends only on its own
parameters and its own numbers, whatever the other draws do, and a run with more draws extends
(does not reshuffle) a run with fewer.

Algorithms (both exact, the transformed-rejection methods of W. Hörmann, numpy's own choice for
Poisson): Poisson by PTRS (Hörmann 1993, Insurance: Math. Econ. 12:39-45) for means >= 10 and by
inversion below; binomial by BTRS (Hörmann 1993, J. Stat. Comput. Simul. 46:101-110) for
n*min(p, 1-p) >= 10 and by inversion below.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np
from scipy.special import gammaln

_U53 = 2.0**-53
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _digest(seed: int, name: str, keys: Sequence[int], size: int) -> int:
    # JSON of the list is an unambiguous encoding: ("a", 1) and ("a1",) or (1, 0) and (1,) differ.
    text = json.dumps([int(seed), name, *(int(k) for k in keys)], separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=size).digest(), "little")


def stable_hash(name: str) -> int:
    """A 64-bit hash of ``name`` that is the same in every process and on every machine."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """The generator for stream ``name`` at integer ``keys`` (e.g. chunk, day) of run ``seed``.

    The 128-bit entropy is a hash of all three, so streams differing in any of them are
    statistically independent, and the same arguments always give the same numbers.
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(_digest(seed, name, keys, 16))))


def stream_key(seed: int, name: str, *keys: int) -> np.uint64:
    """A 64-bit key for :func:`counter_uniforms` (same hashing as :func:`stream`)."""
    return np.uint64(_digest(seed, name, keys, 8))


def counter_uniforms(key: np.ndarray | np.uint64, counter: np.ndarray) -> np.ndarray:
    """Uniforms in the open interval (0, 1), one per ``counter``, from the SplitMix64 finaliser of
    ``key + counter * golden``: a counter-based generator, so each number depends only on its
    own (key, counter) and any subset can be computed alone."""
    x = _splitmix(np.asarray(key, dtype=np.uint64) + np.asarray(counter, dtype=np.uint64) * _GOLDEN)
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * _U53


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def attempt_keys(base: np.ndarray, attempt: int) -> np.ndarray:
    """Keys for retry ``attempt`` of streams with 64-bit ``base`` keys (a SplitMix64 step, so the
    derivation is cheap and easy to reproduce in compiled code)."""
    base = np.asarray(base, np.uint64)
    # Array (not scalar) arithmetic: uint64 wrap-around is intended and arrays do not warn.
    return _splitmix(base + np.full(base.shape, attempt, np.uint64) * _GOLDEN)


class DrawUniforms:
    """Uniform pairs for the rejection samplers: ``n`` draws in each of several named streams.

    One named stream per leading index (e.g. one per region). Attempt 1 comes from
    ``stream(seed, name, *keys)`` as an ``(n, 2)`` array (draw ``j``'s pair is row ``j``, so more
    draws extend the array); attempt ``a >= 2`` for draw ``j`` uses counters ``2j`` and
    ``2j + 1`` under key ``attempt_keys(stream_key(seed, name, *keys), a)``. :meth:`block`
    selects draws and lays them out as ``(streams, n_between, draws)``: ``n_between`` copies
    (scenarios) sharing the same numbers.
    """

    def __init__(self, seed: int, names: Sequence[str], keys: Sequence[int], n: int):
        self.seed, self.names, self.keys, self.n = seed, tuple(names), tuple(keys), n
        first = np.stack([stream(seed, nm, *keys).random((n, 2)) for nm in self.names])
        self.u, self.v = first[:, :, 0], first[:, :, 1]
        """(streams, n) attempt-1 uniforms."""
        self.base_keys = np.array([stream_key(seed, nm, *keys) for nm in self.names], np.uint64)
        """(streams,) keys from which retry keys are derived (:func:`attempt_keys`)."""

    def block(self, draws: slice = slice(None), n_between: int = 1) -> _Block:
        return _Block(self, range(self.n)[draws], n_between)

    def retry_keys(self, attempt: int) -> np.ndarray:
        """Counter-generator keys of attempt ``attempt`` (>= 2), one per stream."""
        return attempt_keys(self.base_keys, attempt)


class _Block:
    """Draws ``draws`` (a range) of a :class:`DrawUniforms`, shaped (streams, n_between, draws)."""

    def __init__(self, parent: DrawUniforms, draws: range, n_between: int):
        self.parent, self.start, self.n_between = parent, draws.start, n_between
        self.size = len(draws)
        self.sl = slice(draws.start, draws.stop)
        self.shape = (len(parent.names), n_between, self.size)

    def first(self) -> tuple[np.ndarray, np.ndarray]:
        """Attempt-1 pairs as flat arrays over ``shape``."""
        u = self.parent.u[:, None, self.sl]
        v = self.parent.v[:, None, self.sl]
        return np.broadcast_to(u, self.shape).ravel(), np.broadcast_to(v, self.shape).ravel()

    def retry(self, attempt: int, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs for attempt ``attempt`` (>= 2) at flat indices ``flat`` into ``shape``."""
        keys = self.parent.retry_keys(attempt)[flat // (self.n_between * self.size)]
        draw = (self.start + flat % self.size).astype(np.uint64)
        return (counter_uniforms(keys, np.uint64(2) * draw),
                counter_uniforms(keys, np.uint64(2) * draw + np.uint64(1)))


def _invert(first: np.ndarray, ratio, params: tuple, u: np.ndarray) -> np.ndarray:
    """Inversion by sequential search from 0: the smallest k with u < F(k), F built from
    pmf(0) = ``first`` and pmf(k) = pmf(k-1) * ratio(k, *params). One uniform per variate."""
    out = np.zeros(first.shape)
    pos = np.flatnonzero(u >= first)
    p, cdf, ua = first[pos], first[pos], u[pos]
    params = tuple(x[pos] for x in params)
    k = 0
    while pos.size:
        k += 1
        p = p * ratio(k, *params)
        cdf = cdf + p
        hit = ua < cdf
        # p == 0: past the support (binomial k > n) or the pmf underflowed, so u sits in the last
        # ~1e-16 of the CDF lost to rounding; the last k with positive mass is the answer.
        exhausted = p == 0
        out[pos[hit]] = k
        out[pos[exhausted & ~hit]] = k - 1
        keep = ~(hit | exhausted)
        pos, p, cdf, ua = pos[keep], p[keep], cdf[keep], ua[keep]
        params = tuple(x[keep] for x in params)
    return out


def _ptrs(mu, u, v):
    """One PTRS attempt for means ``mu`` >= 10: candidate k and whether it is accepted."""
    b = 0.931 + 2.53 * np.sqrt(mu)
    a = -0.059 + 0.02483 * b
    us = 0.5 - np.abs(u - 0.5)
    k = np.floor((2 * a / us + b) * (u - 0.5) + mu + 0.43)
    accept = (us >= 0.07) & (v <= 0.9277 - 3.6224 / (b - 2))
    slow = np.flatnonzero(~accept)
    if slow.size:
        k_s, us_s, v_s, a_s, b_s, mu_s = k[slow], us[slow], v[slow], a[slow], b[slow], mu[slow]
        inv_alpha = 1.1239 + 1.1328 / (b_s - 3.4)
        lhs = np.log(v_s * inv_alpha / (a_s / (us_s * us_s) + b_s))
        rhs = -mu_s + k_s * np.log(mu_s) - gammaln(k_s + 1)
        accept[slow] = (k_s >= 0) & ~((us_s < 0.013) & (v_s > us_s)) & (lhs <= rhs)
    return k, accept


_LOG_FACTORIAL_TAIL = np.array([
    0.08106146679532726, 0.04134069595540929, 0.02767792568499834, 0.02079067210376509,
    0.01664469118982119, 0.01387612882307075, 0.01189670994589177, 0.01041126526197209,
    0.009255462182712733, 0.008330563433362871])
"""lgamma(k+1) - ((k+0.5) log(k+1) - (k+1) + log(2 pi)/2) for k = 0..9."""


def _log_factorial_tail(k: np.ndarray) -> np.ndarray:
    """The Stirling remainder of log(k!) (see the table); series in 1/(k+1) from k = 10
    (error < 1e-10)."""
    kp1 = k + 1
    kp1sq = kp1 * kp1
    series = (1 / 12 - (1 / 360 - 1 / 1260 / kp1sq) / kp1sq) / kp1
    small = k < 10
    if small.any():
        series[small] = _LOG_FACTORIAL_TAIL[k[small].astype(np.int64)]
    return series


def _btrs(n, p, u, v):
    """One BTRS attempt for counts ``n`` and p <= 0.5 with n p >= 10: candidate and acceptance."""
    spq = np.sqrt(n * p * (1 - p))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    us = 0.5 - np.abs(u - 0.5)
    k = np.floor((2 * a / us + b) * (u - 0.5) + n * p + 0.5)
    in_range = (k >= 0) & (k <= n)
    accept = in_range & (us >= 0.07) & (v <= 0.92 - 4.2 / b)
    slow = np.flatnonzero(~accept & in_range)
    if slow.size:
        n_s, p_s, k_s, us_s, b_s = n[slow], p[slow], k[slow], us[slow], b[slow]
        alpha = (2.83 + 5.1 / b_s) * spq[slow]
        lhs = np.log(v[slow] * alpha / (a[slow] / (us_s * us_s) + b_s))
        # log(f(k) / f(m)) with f the binomial pmf and m its mode, by Stirling's series
        # (Hörmann 1993, step 3.3): no lgamma of numbers in the millions.
        m = np.floor((n_s + 1) * p_s)
        r = p_s / (1 - p_s)
        rhs = ((m + 0.5) * np.log((m + 1) / (r * (n_s - m + 1)))
               + (n_s + 1) * np.log((n_s - m + 1) / (n_s - k_s + 1))
               + (k_s + 0.5) * np.log(r * (n_s - k_s + 1) / (k_s + 1))
               + _log_factorial_tail(m) + _log_factorial_tail(n_s - m)
               - _log_factorial_tail(k_s) - _log_factorial_tail(n_s - k_s))
        accept[slow] = lhs <= rhs
    return k, accept


def _rejection(attempt_fn, params: tuple, idx: np.ndarray, uniforms: _Block,
               u: np.ndarray, v: np.ndarray, out: np.ndarray) -> None:
    """Run ``attempt_fn`` on elements ``idx`` until every one is accepted, attempt 1 with the
    given uniforms, later attempts with per-draw counter-based uniforms."""
    if idx.size != out.size:
        params, u, v = tuple(x[idx] for x in params), u[idx], v[idx]
    attempt = 1
    while True:
        k, ok = attempt_fn(*params, u, v)
        out[idx[ok]] = k[ok]
        if ok.all():
            return
        rejected = ~ok
        idx = idx[rejected]
        params = tuple(x[rejected] for x in params)
        attempt += 1
        u, v = uniforms.retry(attempt, idx)


def poisson(mean: np.ndarray, uniforms: _Block) -> np.ndarray:
    """Poisson variates (float64) with the given means, shaped ``uniforms.shape``; paired per draw.

    ``mean`` must be finite and >= 0.
    """
    mu = np.broadcast_to(mean, uniforms.shape).astype(np.float64, copy=False).ravel()
    u, v = uniforms.first()
    out = np.empty(mu.shape)
    small = mu < 10
    i = np.flatnonzero(small)
    if i.size:
        out[i] = _invert(np.exp(-mu[i]), lambda k, m: m / k, (mu[i],), u[i])
    large = np.flatnonzero(~small) if i.size else np.arange(mu.size)
    if large.size:
        with np.errstate(divide="ignore"):  # u or v exactly 0: log(0) = -inf rejects correctly
            _rejection(_ptrs, (mu,), large, uniforms, u, v, out)
    return out.reshape(uniforms.shape)


def binomial(count: np.ndarray, prob: np.ndarray, uniforms: _Block) -> np.ndarray:
    """Binomial variates (float64) shaped ``uniforms.shape``; paired per draw.

    ``count``: integer-valued floats >= 0; ``prob`` in [0, 1].
    """
    n = np.broadcast_to(count, uniforms.shape).astype(np.float64, copy=False).ravel()
    p = np.broadcast_to(prob, uniforms.shape).astype(np.float64, copy=False).ravel()
    flip = p > 0.5
    any_flip = flip.any()
    if any_flip:
        p = np.where(flip, 1 - p, p)
    u, v = uniforms.first()
    out = np.empty(n.shape)
    small = n * p < 10
    i = np.flatnonzero(small)
    if i.size:
        n_i, p_i = n[i], p[i]
        out[i] = _invert(np.exp(n_i * np.log1p(-p_i)), lambda k, nn, odds: (nn - k + 1) / k * odds,
                         (n_i, p_i / (1 - p_i)), u[i])
    large = np.flatnonzero(~small) if i.size else np.arange(n.size)
    if large.size:
        with np.errstate(divide="ignore"):
            _rejection(_btrs, (n, p), large, uniforms, u, v, out)
    if any_flip:
        out = np.where(flip, n - out, out)
    return out.reshape(uniforms.shape)

