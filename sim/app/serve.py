"""``collabsim-app``: serve the teaching page on this machine and print its address.

A thin wrapper around ``solara run sim.app.page``: it picks the address, makes the
page's JavaScript available without internet (:func:`offline_assets`), prints the
address for the class, then hands over to Solara's server until Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from pathlib import Path

log = logging.getLogger(__name__)

#: Libraries that Solara's Vega-Lite widget requests by major version only (vegalite.vue).
#: Solara fetches them from a CDN the first time; the solara-assets package ships exact
#: versions of them, which these aliases point to, so a classroom without internet (or
#: a firewall that blocks the CDN) still gets the charts.
MAJOR_ALIASES: tuple[str, ...] = ("vega@5", "vega-lite@5", "vega-embed@6")


def offline_assets(cache: Path | None = None) -> list[str]:
    """Point each alias in :data:`MAJOR_ALIASES` at the newest shipped version of that major.

    Args:
        cache: Solara's asset folder (default: its configured proxy cache, where
            solara-assets installs the libraries).

    Returns:
        The aliases created now (none when all exist already, or no version is shipped).
    """
    if cache is None:
        import solara.server.settings

        cache = Path(solara.server.settings.assets.proxy_cache_dir)
    made = []
    for alias in MAJOR_ALIASES:
        link = cache / alias
        if link.exists():
            continue
        name, major = alias.split("@")
        shipped = sorted((p for p in cache.glob(f"{name}@{major}.*") if p.is_dir()),
                         key=lambda p: _version(p.name.split("@")[1]))
        if not shipped:
            log.warning("no %s@%s.* in %s: the browser will need the internet for charts",
                        name, major, cache)
            continue
        try:
            link.symlink_to(shipped[-1].name, target_is_directory=True)
        except OSError as err:  # a read-only install: Solara falls back to the CDN
            log.warning("could not link %s to %s (%s)", link, shipped[-1].name, err)
            continue
        made.append(alias)
    return made


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in text.replace("-", ".").split("."))


def free_port(host: str) -> int:
    """A port on ``host`` that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="collabsim-app",
        description="Serve the collabsim teaching page (a Mesa SolaraViz app) in the browser.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; "
                             "0.0.0.0 lets a class connect over the network)")
    parser.add_argument("--port", type=int, default=8765,
                        help="port (default 8765; 0 picks a free one)")
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Serve the page until Ctrl-C, after printing its address."""
    args = parse_args(argv)
    port = args.port or free_port(args.host)
    offline_assets()
    shown = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host
    print(f"collabsim teaching app: http://{shown}:{port}/  (Ctrl-C to stop)", flush=True)
    from solara.__main__ import main as solara_main

    sys.argv = ["solara", "run", "sim.app.page", "--host", args.host, "--port", str(port),
                "--open" if args.open else "--no-open", "--log-level", "warning"]
    solara_main()


if __name__ == "__main__":
    main()
