"""The teaching app: watch collaboration form and fail in the browser (``collabsim-app``).

A Mesa SolaraViz page for a class, in the style of a NetLogo model: a map of the
providers and their partnerships, live plots of the main outcomes, controls derived
from the parameter schema, and an Info panel with one-click things to try.

Modules, from the ground up (only :mod:`sim.app.page` imports Solara):

- :mod:`sim.app.controls`: which levers and uncertainties the page offers, their
  sliders (range, step, help text) derived from :func:`sim.parameters`, and when a
  change reaches a running model (now, at the regime switch, or on reset).
- :mod:`sim.app.session`: one browser session's settings and the model built from
  them (:class:`~sim.app.session.ClassroomModel`, what SolaraViz resets).
- :mod:`sim.app.presets`: the things to try, each a question, what to look for and
  the settings it applies.
- :mod:`sim.app.charts`: the map and the outcome plots as Altair charts.
- :mod:`sim.app.info`: the Info panel's text.
- :mod:`sim.app.page`: the Solara components and the page (``Page``).
- :mod:`sim.app.serve`: the ``collabsim-app`` console script.
"""
