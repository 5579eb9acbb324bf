"""Which mechanism functions have been replaced in this process, so that compiled code
steps aside for them.

A modeller changes a mechanism by assigning a new function to its module
(``relations.update_trust = my_update``; ``notebooks/06_changing_a_mechanism.ipynb``).
The compiled weeks (:mod:`~sim.dynamics.provider_week`,
:mod:`~sim.dynamics.partnership_week`) were compiled with the package's own functions
and cannot see such an assignment. So each of them declares the functions it stands
for as :class:`Originals`, and asks :meth:`Originals.any_replaced` every week; when
anything has been replaced it runs its plain-Python twin instead, which calls every
mechanism through its module. With nothing replaced the twins give the same numbers as the
compiled weeks, to the bit (``tests/test_replacing_mechanisms.py``).

A run records what was replaced in its provenance, and a replacement changes the run's
code fingerprint, so that its results can never pass for the package's
(:func:`replaced_mechanisms`).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np


class ReplacedMechanismError(RuntimeError):
    """A replaced mechanism cannot be used as it is: it returned the wrong shapes, or the
    work would go to fresh processes, which cannot see the replacement."""


#: Every :class:`Originals` declared, for :func:`replaced_mechanisms`.
_DECLARED: list[Originals] = []


class Originals:
    """Module functions as the package defined them, remembered when declared (at import).

    Args:
        functions: each module with the names of its functions that a compiled week
            stands for.
        compiled: whether a compiled week stands for these (False: a catalogue, to
            record replacements by; see :func:`stood_for`).
    """

    def __init__(self, functions: dict[ModuleType, tuple[str, ...]],
                 compiled: bool = True) -> None:
        #: (module, name, the function as defined) for each function declared.
        self.functions = tuple((module, name, getattr(module, name))
                               for module, names in functions.items() for name in names)
        self.compiled = compiled
        _DECLARED.append(self)

    @classmethod
    def of_modules(cls, *modules: ModuleType) -> Originals:
        """A catalogue of every public function defined in ``modules`` (compiled ones
        included)."""
        return cls({module: tuple(name for name, value in vars(module).items()
                                  if not name.startswith("_") and callable(value)
                                  and getattr(value, "__module__", None) == module.__name__
                                  and not isinstance(value, type))
                    for module in modules}, compiled=False)

    def any_replaced(self) -> bool:
        """Whether any of the functions differs from the package's: what a compiled week
        asks every week (about a microsecond for a dozen functions)."""
        for module, name, original in self.functions:
            if getattr(module, name) is not original:
                return True
        return False

    def replaced(self) -> list[str]:
        """The functions now different from the package's, as ``module.name``; [] if none."""
        return [f"{module.__name__}.{name}" for module, name, original in self.functions
                if getattr(module, name) is not original]


def replaced_mechanisms() -> list[str]:
    """Every mechanism function this process has replaced (``module.name``, sorted), of
    those declared (:mod:`sim.model` declares every public function of the mechanism
    modules); [] when the model is the package's own."""
    return sorted({name for originals in _DECLARED for name in originals.replaced()})


def stood_for() -> set[str]:
    """Every function a compiled week stands for (``module.name``). A profiler that
    wraps one of them would time the week's plain-Python twin, not the compiled week."""
    return {f"{module.__name__}.{name}" for originals in _DECLARED if originals.compiled
            for module, name, _ in originals.functions}


def checked(result: Any, function: str, *shapes: tuple[int, ...]) -> Any:
    """``result`` of mechanism ``function`` (``module.name``), unchanged, once it has the
    shapes the week needs: one array, or a tuple of them, one per shape (() a number).

    The plain-Python weeks check what every mechanism returns, since a replacement that
    returns, say, one trust per partnership instead of two would otherwise broadcast
    into wrong numbers, or fail far from its cause.

    Raises:
        ReplacedMechanismError: naming the function, what it returned and what is needed.
    """
    parts = (result,) if len(shapes) == 1 else result
    if not isinstance(parts, tuple | list) or len(parts) != len(shapes):
        raise ReplacedMechanismError(
            f"{function} returned a {type(result).__name__}, but the week needs "
            f"{len(shapes)} arrays of shapes {list(shapes)}: a replacement must return what "
            "the original returns")
    for position, (part, shape) in enumerate(zip(parts, shapes, strict=True)):
        if np.shape(part) != shape:
            subject = (f"{function}'s result {position + 1} of {len(shapes)} is"
                       if len(shapes) > 1 else f"{function} returned")
            raise ReplacedMechanismError(
                f"{subject} a {type(part).__name__} of shape {np.shape(part)}, but the week "
                f"needs shape {shape}: a replacement must return what the original returns")
    return result
