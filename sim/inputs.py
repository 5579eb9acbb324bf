"""Checks on inputs that cannot be read safely, made before anything reads them.

A provider path could name a FIFO (reading it waits forever), a device (``/dev/zero``
never ends), a huge file, a compressed file or a name longer than the filesystem
allows; :func:`check_provider_file` refuses each with one line before a byte is read.
:func:`checked` is what a model runs through: the config validated again at that moment
(its fields may have been changed since it was built) and its provider path checked.
:func:`whole_number` is the one rule for seeds and replicates given from Python, and
:func:`check_number_text` refuses override text such as ``1_0``, which Hydra's grammar
(like Python's) would silently read as 10.
"""

from __future__ import annotations

import errno
import operator
import os
import re
import stat
from collections.abc import Iterable
from typing import Any

from sim.config import ConfigError, SimConfig, SystemConfig, validate

__all__ = ["MAX_PROVIDER_BYTES", "check_number_text", "check_provider_file", "checked",
           "whole_number"]

#: Largest provider file read (bytes): England's ~16,600 providers take about 1 MB, so
#: 64 MiB leaves room for any real system and stops a runaway file before memory does.
MAX_PROVIDER_BYTES = 64 * 2**20
#: Leading bytes of compressed formats a provider file is sometimes saved in.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"), (b"PK\x03\x04", "zip"), (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
)
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check_provider_file(system: SystemConfig, limit: int = MAX_PROVIDER_BYTES) -> None:
    """Refuse a provider path that is not a regular, uncompressed file of at most ``limit`` bytes.

    Only ``system=csv`` reads a file; a missing file or a folder is left to the CSV
    loader, whose messages say so. Nothing is read but the first few bytes of a regular
    file (to recognise a compressed one).

    Raises:
        ConfigError: naming ``system.path``, the value and what is allowed.
    """
    path = system.path if system.name == "csv" else None
    if not path:
        return
    shown = path if len(path) <= 80 else f"{path[:40]}...{path[-20:]}"
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return  # the loader says "does not exist"
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:
            longest = max(len(part.encode()) for part in str(path).split(os.sep))
            raise ConfigError(f"system.path={shown!r}: the file name is too long for this "
                              f"system ({longest} bytes in one name, {len(path)} in all; "
                              f"at most {_name_max(path)} per name)") from None
        raise ConfigError(f"system.path={shown!r} cannot be read: {err.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        return  # the loader says "is a folder"
    for test, what in _KINDS:
        if test(info.st_mode):
            raise ConfigError(f"system.path={shown!r} is {what}, not a regular file; give a "
                              "provider CSV file")
    if info.st_size > limit:
        raise ConfigError(f"system.path={shown!r} is {info.st_size:,} bytes; a provider file "
                          f"may be at most {limit:,} bytes ({limit // 2**20} MiB)")
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as err:
        raise ConfigError(f"system.path={shown!r} cannot be read: {err.strerror}") from None
    for magic, name in _MAGIC:
        if head.startswith(magic):
            raise ConfigError(f"system.path={shown!r} is a {name}-compressed file, not a CSV "
                              "file; decompress it first and give the .csv")


def _name_max(path: str) -> int:
    try:
        return os.pathconf(os.path.dirname(path) or ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def checked(config: Any) -> SimConfig:
    """``config`` validated now, with its provider path checked: what a model may run.

    A SimConfig is validated when built, but its fields can be changed afterwards
    (``config.context.initial_trust = 5``); this checks it again at the last moment.

    Raises:
        ConfigError: not a SimConfig (naming what to use instead), or a value out of
            range or of the wrong type (naming the key), or an unreadable provider path.
    """
    if not isinstance(config, SimConfig):
        raise ConfigError(f"the config must be a sim.SimConfig, not {type(config).__name__}; "
                          "build one with sim.load_config([...]) or sim.from_dict({...})")
    validate(config)
    check_provider_file(config.system)
    return config


def whole_number(key: str, value: Any) -> int:
    """``value`` as an int if it is a whole number (NumPy integers too), else ConfigError.

    A float (even 2.0), a bool or text is refused, so that ``seed=1.7`` never runs as 1.
    """
    try:
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            raise TypeError
        return int(operator.index(value))
    except TypeError:
        raise ConfigError(f"{key}={value!r} is not an integer; {key} must be a whole "
                          "number >= 0") from None


#: An element of an override's value that Hydra would read as a number with '_' in it.
_UNDERSCORE_NUMBER = re.compile(r"[+-]?(\d[\d_]*)?(\.[\d_]*)?([eE][+-]?[\d_]+)?")


def check_number_text(overrides: Iterable[str]) -> None:
    """Refuse an override whose value holds a number written with ``_`` (``1_0``, ``0.1_5``).

    Hydra's grammar reads them as Python does (``1_0`` is 10), which hides a typo;
    quoted text (``'1_0'``) is text and allowed.

    Raises:
        ConfigError: naming the override and the number.
    """
    for text in overrides:
        key, sep, value = str(text).partition("=")
        if not sep or "_" not in value:
            continue
        for element in re.split(r"[,\[\]\(\)\s:]+", value):
            if "_" in element and any(c.isdigit() for c in element) and \
                    _UNDERSCORE_NUMBER.fullmatch(element):
                raise ConfigError(f"{text}: the number {element} is written with '_'; write "
                                  f"it without ({element.replace('_', '')}), or quote it "
                                  f"('{element}') if it is text")
