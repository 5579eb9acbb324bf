"""The mechanisms of the weekly step, as pure functions on arrays.

Each function takes arrays (one row per provider or per partnership) and
parameters, and returns new arrays; none reads files, Hydra or global state, and
any randomness comes from the generator passed in.
"""
