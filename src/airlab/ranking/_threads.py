"""Run the numeric kernels with single-threaded BLAS.

The ranking problems are tiny dense matrices (agents x agents). Multi-threaded OpenBLAS only adds
synchronisation there, and on a busy machine each BLAS call can wait milliseconds for its worker
threads: L-BFGS-B on 8 ratings measured 1.3 s instead of 11 ms. The public kernels are therefore
wrapped in a BLAS limit of one thread (a cached ``threadpoolctl`` controller, ~20 us per call).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_controller: Any = None


def single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """Context manager limiting every loaded BLAS library to one thread."""
    global _controller
    if _controller is None:
        try:
            import scipy.optimize  # noqa: F401  (load scipy's BLAS before discovery)
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            return contextlib.nullcontext()
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def single_threaded(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``func`` under :func:`single_threaded_blas`."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with single_threaded_blas():
            return func(*args, **kwargs)

    return wrapper
