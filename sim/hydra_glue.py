"""Everything that reaches into Hydra's runtime or private modules, in one place.

Hydra composes the configs and launches the jobs; the rest of the package talks to it
only through these functions, so that a Hydra upgrade that moves a private function
breaks one module, and tests can see which internals are used:

* private: ``hydra._internal.utils.get_args_parser`` (:func:`command_line_overrides`),
  ``BasicSweeper.split_arguments`` (:func:`expand_sweep`), ``BasicSweeper.get_job_batch``
  (wrapped by :func:`launch_only`, so that a resumed sweep launches only what it needs)
  and ``validate_batch_is_legal`` (skipped for a batch :func:`launch_as` gives, whose
  jobs the sweep has already validated),
  the global config loader's ``load_sweep_config`` (:func:`compose_job`);
* public: ``HydraConfig`` (the running job: :func:`job_facts`, :func:`output_dir`, ...),
  ``OverridesParser`` (:func:`parse_overrides`), OmegaConf containers.

Nothing here runs a model or writes results. Every function imports Hydra lazily, so
importing this module costs nothing for programs that never use Hydra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.config import ConfigError, SimConfig, set_dotted, to_sim_config
from sim.inputs import check_number_text

try:
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover - hydra-core is a dependency
    Callback = object  # type: ignore[assignment,misc]

__all__ = ["Callback", "command_line_overrides", "compose_job", "default_run_dir",
           "expand_sweep", "hydra_errors", "in_sweep", "job_config", "job_facts",
           "launch_as", "launch_only", "output_dir", "parse_overrides", "plain", "remove_job_files",
           "run_mode_is_single", "scenario_from", "select", "set_run_dir", "sweep_values",
           "task_overrides"]


# --------------------------------------------------------------------------- configs
def scenario_from(cfg: Any) -> SimConfig:
    """A validated SimConfig from a composed config; ``???`` (missing) values are errors.

    Args:
        cfg: a composed Hydra config (DictConfig, with or without the ``hydra`` node),
            a plain nested dict, or a :class:`SimConfig` (returned as it is).

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    if isinstance(cfg, SimConfig):
        return cfg
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(cfg, DictConfig):
        return to_sim_config(cfg)
    check_number_text(OmegaConf.select(cfg, "hydra.overrides.task", default=None) or [])
    try:
        job = OmegaConf.masked_copy(cfg, [k for k in cfg.keys() if k != "hydra"])
        missing = sorted(OmegaConf.missing_keys(job))
        if not missing:
            return to_sim_config(job)
        data = OmegaConf.to_container(job, resolve=True, throw_on_missing=False)
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None)
        first = str(err).splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"{key}: {first}" if key else first) from None
    for key in missing:  # let the schema explain what a missing value needs (system.path)
        set_dotted(data, key, None)
    to_sim_config(data)
    raise ConfigError(f"{missing[0]} has no value; set it on the command line "
                      f"({missing[0]}=...)")


def plain(value: Any) -> Any:
    """OmegaConf containers as plain dicts and lists (resolved); anything else unchanged."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def select(config: Any, key: str, default: Any = None) -> Any:
    """``OmegaConf.select``: the value at a dotted key of a composed config, or ``default``."""
    from omegaconf import OmegaConf

    return OmegaConf.select(config, key, default=default)


# --------------------------------------------------------------------------- overrides
def parse_overrides(strings: Sequence[str]) -> list:
    """Hydra ``Override`` objects for override strings (their typed values, keys).

    Raises:
        hydra.errors.OverrideParseException: a string Hydra cannot parse.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides(list(strings))


def command_line_overrides(argv: Sequence[str]) -> list[str]:
    """The override arguments of a ``collabsim`` command line, as Hydra's parser sees them.

    Raises:
        SystemExit: the arguments do not parse (argparse's behaviour).
    """
    from hydra._internal.utils import get_args_parser

    args, _ = get_args_parser().parse_known_args(list(argv))
    return [str(o) for o in (args.overrides or [])]


def expand_sweep(config: Any) -> list[list[str]]:
    """The jobs Hydra's basic sweeper will launch for this multirun config, in order.

    The same expansion as ``BasicSweeper.sweep``: the experiment's
    ``hydra.sweeper.params`` first, then the command line's overrides.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from omegaconf import OmegaConf

    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    batches = BasicSweeper.split_arguments(parse_overrides(args), None)
    return [list(job) for batch in batches for job in batch]


def sweep_values(config: Any) -> list[tuple[str, int]]:
    """Each swept override of a multirun config with its number of values (``range(0,0)``: 0)."""
    from omegaconf import OmegaConf

    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    out = []
    for text, o in zip(args, parse_overrides(args), strict=True):
        if o.is_sweep_override() and o.is_discrete_sweep():
            out.append((text, len(list(o.sweep_string_iterator()))))
    return out


_LAUNCH: dict[str, dict[tuple[str, ...], list[str]] | list[list[str]]] = {}


def launch_only(sweep_dir: str | Path, subdirs: Mapping[tuple[str, ...], str]) -> None:
    """Make Hydra's basic sweeper launch only these jobs of this sweep, each into its folder.

    ``subdirs`` maps a job (its override strings, as :func:`expand_sweep` lists them) to
    its folder name; the sweeper skips every other job of the sweep in ``sweep_dir`` and
    gives each launched job ``hydra.sweep.subdir`` = its name. The sweeper is created
    after the sweep callback's ``on_multirun_start``, so its batches are filtered by
    wrapping ``BasicSweeper.get_job_batch`` (once per process); sweeps not registered
    here are launched unchanged.
    """
    _LAUNCH[str(Path(sweep_dir))] = {
        tuple(job): [f"hydra.sweep.subdir='{name}'"] for job, name in subdirs.items()}
    _wrap_basic_sweeper()


def launch_as(sweep_dir: str | Path, jobs: Sequence[tuple[Sequence[str], str]]) -> None:
    """Make Hydra's basic sweeper launch exactly these jobs for this sweep, and no other.

    ``jobs`` lists (overrides, folder name): a job of the sweeper may be launched more
    than once, each time into another folder (a design sweep's chunks: the same
    replicate, different points). All are launched as the sweeper's first batch, which
    Hydra does not compose again to validate it: the caller has (as
    :func:`sim.sweep.start_sweep` does, with :func:`sim.sweep.validate_jobs`).
    """
    _LAUNCH[str(Path(sweep_dir))] = [[*job, f"hydra.sweep.subdir='{name}'"]
                                     for job, name in jobs]
    _wrap_basic_sweeper()


def _wrap_basic_sweeper() -> None:
    """Filter or replace the basic sweeper's batches as :data:`_LAUNCH` says (once per process).

    The sweeper is created after the sweep callback's ``on_multirun_start``, so its
    batches are changed by wrapping ``BasicSweeper.get_job_batch``; sweeps not
    registered are launched unchanged.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    if getattr(BasicSweeper.get_job_batch, "_collabsim", False):
        return
    original = BasicSweeper.get_job_batch

    def get_job_batch(self: Any) -> Sequence[Sequence[str]]:
        batch = original(self)
        wanted = _LAUNCH.get(str(Path(str(self.config.hydra.sweep.dir))))
        if wanted is None:
            return batch
        if isinstance(wanted, list):  # launch_as: the whole list, once
            self.overrides = []  # no further batches
            return wanted
        return [[*job, *wanted[tuple(job)]] for job in batch if tuple(job) in wanted]

    original_validate = BasicSweeper.validate_batch_is_legal

    def validate_batch_is_legal(self: Any, batch: Sequence[Sequence[str]]) -> None:
        # A batch given by launch_as was composed and validated job by job before it was
        # planned (sim.sweep.validate_jobs); Hydra would compose every launched job once
        # more here, in this process, one after another, before any starts (a few
        # tenths of a second each). Other sweeps are validated by Hydra as before.
        if isinstance(_LAUNCH.get(str(Path(str(self.config.hydra.sweep.dir)))), list):
            return
        original_validate(self, batch)

    get_job_batch._collabsim = True  # type: ignore[attr-defined]
    BasicSweeper.get_job_batch = get_job_batch
    BasicSweeper.validate_batch_is_legal = validate_batch_is_legal


def default_run_dir(config: Any) -> Path | None:
    """A single run's output folder as configured, or None if the user chose it
    (``hydra.run.dir=...`` on the command line): only the default is renamed if taken."""
    from omegaconf import OmegaConf

    given = OmegaConf.select(config, "hydra.overrides.hydra", default=None) or []
    if any(str(o).lstrip("+~").startswith("hydra.run.dir=") for o in given):
        return None
    return Path(str(OmegaConf.select(config, "hydra.run.dir")))


def set_run_dir(config: Any, folder: Path) -> None:
    """Set ``hydra.run.dir`` of a config Hydra is about to run (before it makes the folder)."""
    from omegaconf import open_dict, read_write

    with read_write(config.hydra), open_dict(config.hydra):
        config.hydra.run.dir = str(folder)


def compose_job(config: Any, job: Sequence[str]) -> Any:
    """Compose one job of a multirun as Hydra's launcher will (a DictConfig).

    Only valid inside a running Hydra app (a sweep callback), which holds the loader.

    Raises:
        Hydra's and OmegaConf's own exceptions for unknown keys or options.
    """
    from hydra.core.global_hydra import GlobalHydra

    loader = GlobalHydra.instance().config_loader()
    return loader.load_sweep_config(config, list(job))


def hydra_errors() -> tuple[type[BaseException], ...]:
    """The exception types Hydra and OmegaConf raise for a bad key, option or value."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    return (HydraException, OmegaConfBaseException)


def job_config(cfg: Any) -> dict:
    """A composed config without its ``hydra`` node, resolved, as plain nested dicts."""
    from omegaconf import OmegaConf

    job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    return OmegaConf.to_container(job, resolve=True)


# --------------------------------------------------------------------------- the running job
def _hydra_config() -> Any | None:
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get() if HydraConfig.initialized() else None


def output_dir() -> Path | None:
    """The running job's output folder (``hydra.runtime.output_dir``); None outside Hydra."""
    hc = _hydra_config()
    return None if hc is None else Path(hc.runtime.output_dir)


def task_overrides() -> list[str]:
    """The running job's overrides (``hydra.overrides.task``); empty outside Hydra."""
    hc = _hydra_config()
    return [] if hc is None else list(hc.overrides.task)


def run_mode_is_single() -> bool:
    """Whether Hydra runs a single job (mode RUN), not a multirun; False outside Hydra."""
    from hydra.types import RunMode

    hc = _hydra_config()
    return hc is not None and hc.mode == RunMode.RUN


def in_sweep() -> bool:
    """Whether this job is one of a multirun (a single run has Hydra's mode RUN; a sweep's
    jobs have MULTIRUN, or no mode when the sweep came from ``-m``)."""
    return _hydra_config() is not None and not run_mode_is_single()


def job_facts() -> dict:
    """Hydra's view of the running job, for provenance (empty outside a Hydra app).

    Keys: ``overrides``, ``choices`` (config group options, Hydra's own left out),
    ``output_dir``, ``mode`` ("RUN" or "MULTIRUN"), and when they apply ``job_num``
    and ``launcher``.
    """
    from omegaconf import OmegaConf

    hc = _hydra_config()
    if hc is None:
        return {}
    facts = {
        "overrides": list(hc.overrides.task),
        "choices": {k: v for k, v in OmegaConf.to_container(hc.runtime.choices).items()
                    if not k.startswith("hydra/")},
        "output_dir": hc.runtime.output_dir,
        "mode": "RUN" if run_mode_is_single() else "MULTIRUN",
    }
    if hc.job.get("num") is not None:
        facts["job_num"] = hc.job.num
    launcher = hc.runtime.choices.get("hydra/launcher")
    if launcher and facts["mode"] == "MULTIRUN":
        facts["launcher"] = launcher
    return facts


def remove_job_files(folder: Path, default_name: str) -> None:
    """Remove what Hydra wrote into a job's output folder (its ``.hydra/`` and job log),
    then the folder if that left it empty.

    Only Hydra's own files are removed: a user's ``hydra.run.dir=.`` must never lose
    anything else. ``default_name`` is the job log's name outside a Hydra app.
    """
    import shutil

    hc = _hydra_config()
    subdir = hc.output_subdir if hc is not None else ".hydra"
    if subdir:
        shutil.rmtree(folder / subdir, ignore_errors=True)
    name = hc.job.name if hc is not None else default_name
    try:
        (folder / f"{name}.log").unlink(missing_ok=True)
        folder.rmdir()
    except OSError:
        pass
