"""``collabsim-validate``: run the validation suite and write its report.

Exit status: 0 every criterion passed at the base scenario; 3 some did not; 2 a bad
argument or override (nothing ran); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.validation.patterns import PATTERNS
from sim.validation.settings import Settings

_DEFAULTS = Settings()


def parser() -> argparse.ArgumentParser:
    """The command's arguments (defaults from :class:`Settings`)."""
    p = argparse.ArgumentParser(
        prog="collabsim-validate",
        description="Check the model against the patterns of the evidence (MODEL.md, and one "
        "against published effect sizes) "
        "with paired replicates, at the base scenario and at four other plausible settings, "
        "plus the status-quo calibration and the regime decomposition; write validation.md, "
        "validation.json, CSV tables and figures.",
        epilog="Examples:\n"
        "  collabsim-validate                                  # the full report\n"
        "  collabsim-validate --replicates 20 --robustness-replicates 0 "
        "--decomposition-replicates 0\n"
        "  collabsim-validate --patterns 7_trust_asymmetry 10_ambition --out /tmp/v \\\n"
        "      system=teaching time.burn_in_weeks=52 time.policy_weeks=104\n\n"
        "Patterns: " + ", ".join(p.key for p in PATTERNS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="Hydra-style overrides of the base scenario, as for collabsim "
                   "(e.g. system=teaching time.policy_weeks=156)")
    p.add_argument("--replicates", type=int, default=_DEFAULTS.replicates,
                   help="paired replicates per pattern at the base scenario (>= 2; "
                   "default %(default)s)")
    p.add_argument("--robustness-replicates", type=int,
                   default=_DEFAULTS.robustness_replicates,
                   help="paired replicates per robustness setting (0 skips them; default "
                   "%(default)s)")
    p.add_argument("--decomposition-replicates", type=int,
                   default=_DEFAULTS.decomposition_replicates,
                   help="paired replicates per cell of the regime decomposition (a 2^6 "
                   "factorial over the levers separating mandated from locally led; 0 skips "
                   "it; default %(default)s)")
    p.add_argument("--workers", type=int, default=_DEFAULTS.workers,
                   help="parallel processes (default %(default)s)")
    p.add_argument("--patterns", nargs="+", default=list(_DEFAULTS.patterns), metavar="KEY",
                   help="only these patterns (default: all)")
    p.add_argument("--out", type=Path, default=_DEFAULTS.out,
                   help="folder the report is written into (default %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the validation, return the exit status."""
    from sim.config import ConfigError
    from sim.validation.suite import run_validation

    p = parser()
    args = p.parse_args(argv)
    try:
        settings = Settings(overrides=tuple(args.overrides), replicates=args.replicates,
                            robustness_replicates=args.robustness_replicates,
                            decomposition_replicates=args.decomposition_replicates,
                            workers=args.workers, patterns=tuple(args.patterns), out=args.out)
        return run_validation(settings, progress=not args.no_progress)
    except ConfigError as err:
        print(f"collabsim-validate: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("collabsim-validate: interrupted; the report was not written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
