"""Who is near whom: neighbour lists computed once per run with k-d trees.

Three lists feed the weekly step, so that no step ever compares all pairs of
providers (which would cost O(providers²)):

- ``routes``: for each (provider, target kind) pair on a care pathway, the nearby
  providers of that kind tried for handoffs without a relationship;
- ``candidates``: for each provider, the nearest providers of each linked kind,
  from which it may choose partners;
- ``assigned``: for each provider and linked kind, the nearest providers of that
  kind in the same area, which an assigning authority would pick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from sim.kinds import LINKED, N_KINDS, PATHWAYS


def _nearest(points: np.ndarray, members: np.ndarray, queries: np.ndarray, k: int,
             exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices (into the whole population) of the ``k`` nearest ``members`` to each query.

    Missing neighbours are -1. If ``exclude`` is given, a query's own index is skipped.
    """
    out = np.full((len(queries), k), -1, dtype=np.int64)
    if len(members) == 0 or len(queries) == 0:
        return out
    want = min(k + (exclude is not None), len(members))
    _, idx = cKDTree(points[members]).query(points[queries], k=want)
    idx = np.asarray(idx).reshape(len(queries), want)
    found = members[idx]
    if exclude is not None:
        found = np.where(found == exclude[:, None], -1, found)
        # shift real neighbours left so the excluded self leaves a -1 at the end
        order = np.argsort(found < 0, axis=1, kind="stable")
        found = np.take_along_axis(found, order, axis=1)
    cols = min(k, found.shape[1])
    out[:, :cols] = found[:, :cols]
    return out


@dataclass(frozen=True)
class Routes:
    """Handoff groups (sender, target kind) and the receivers each may use ad hoc.

    Attributes:
        sender: provider index of each group (G,).
        kind: target kind of each group (G,).
        share: share of the sender's served episodes needing this handoff (G,).
        pair_group: group of each (group, ad hoc receiver) pair (P,).
        pair_receiver: the receiver of each pair (P,).
    """

    sender: np.ndarray
    kind: np.ndarray
    share: np.ndarray
    pair_group: np.ndarray
    pair_receiver: np.ndarray


def handoff_routes(kind: np.ndarray, xy: np.ndarray, expected_flow: np.ndarray,
                   expected_intake: np.ndarray, min_receivers: int, coverage: float = 2.0,
                   max_receivers: int = 256) -> Routes:
    """One group per (provider, kind it hands patients to), with its nearby receivers.

    Each group gets its ``min_receivers`` nearest providers of the target kind, and
    more, nearest first, until their expected intake covers ``coverage`` times the
    group's expected flow: a hospital discharging to care homes needs many homes, a
    care home sending to hospital needs one or two (assumption: senders look as far
    as they must, and no further).

    Args:
        expected_flow: episodes/week each provider is expected to serve (N).
        expected_intake: episodes/week each provider is expected to accept (N).
    """
    # pathways to a kind the system lacks do not exist here (nobody to hand over to)
    present = np.bincount(kind, minlength=N_KINDS) > 0
    senders, kinds = np.nonzero((PATHWAYS[kind] > 0) & present[None, :])
    share = PATHWAYS[kind[senders], kinds]
    need = coverage * expected_flow[senders] * share
    groups, receivers = [], []
    for k in range(N_KINDS):
        rows = np.flatnonzero(kinds == k)
        members = np.flatnonzero(kind == k)
        if len(rows) == 0 or len(members) == 0:
            continue
        few = _nearest(xy, members, senders[rows], min_receivers, exclude=senders[rows])
        covered = np.where(few >= 0, expected_intake[np.maximum(few, 0)], 0.0).sum(axis=1)
        short = covered < need[rows]
        if short.any():
            many = _nearest(xy, members, senders[rows[short]], max_receivers,
                            exclude=senders[rows[short]])
            cum = np.cumsum(np.where(many >= 0, expected_intake[np.maximum(many, 0)], 0.0),
                            axis=1)
            count = np.maximum((cum < need[rows[short], None]).sum(axis=1) + 1, min_receivers)
            many[np.arange(many.shape[1])[None, :] >= count[:, None]] = -1
            wide = np.full((len(rows), many.shape[1]), -1, dtype=np.int64)
            wide[:, :few.shape[1]] = few
            wide[short] = many
            few = wide
        g = np.broadcast_to(rows[:, None], few.shape)
        keep = few >= 0
        groups.append(g[keep])
        receivers.append(few[keep])
    if not groups:  # no care pathway links any two providers of this system
        groups, receivers = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    return Routes(senders, kinds, share, np.concatenate(groups), np.concatenate(receivers))


def partner_candidates(kind: np.ndarray, xy: np.ndarray, per_kind: int) -> np.ndarray:
    """(N, kinds*per_kind) nearest providers of each linked kind; -1 where not linked."""
    n = len(kind)
    out = np.full((n, N_KINDS, per_kind), -1, dtype=np.int64)
    everyone = np.arange(n)
    for k in range(N_KINDS):
        members = np.flatnonzero(kind == k)
        queries = everyone[LINKED[kind, k]]
        out[queries, k] = _nearest(xy, members, queries, per_kind, exclude=queries)
    return out.reshape(n, N_KINDS * per_kind)


def assigned_partners(kind: np.ndarray, area: np.ndarray, xy: np.ndarray,
                      per_kind: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs an authority assigns: each provider's nearest of each pathway kind in its area."""
    a_list, b_list = [], []
    for ar in np.unique(area):
        in_area = np.flatnonzero(area == ar)
        for k in range(N_KINDS):
            members = in_area[kind[in_area] == k]
            queries = in_area[PATHWAYS[kind[in_area], k] > 0]
            if len(members) == 0 or len(queries) == 0:
                continue
            near = _nearest(xy, members, queries, per_kind, exclude=queries)
            q = np.repeat(queries, per_kind)
            b = near.ravel()
            a_list.append(q[b >= 0])
            b_list.append(b[b >= 0])
    if not a_list:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(a_list), np.concatenate(b_list)


def replacement_partners(kind: np.ndarray, area: np.ndarray, xy: np.ndarray,
                         queries: np.ndarray, want: np.ndarray, barred: np.ndarray,
                         depth: int = 8) -> np.ndarray:
    """The provider an authority assigns in place of a failed partner, or -1.

    For each query provider and wanted kind: the nearest provider of that kind in the
    query's area whose pair with the query is not ``barred`` (pair keys
    ``min * n + max``, sorted: existing partnerships and pairs that already failed),
    looking at most ``depth`` neighbours deep.
    """
    n = len(kind)
    out = np.full(len(queries), -1, dtype=np.int64)
    for ar, k in set(zip(area[queries].tolist(), want.tolist(), strict=True)):
        rows = np.flatnonzero((area[queries] == ar) & (want == k))
        members = np.flatnonzero((area == ar) & (kind == k))
        near = _nearest(xy, members, queries[rows], depth, exclude=queries[rows])
        q = queries[rows][:, None]
        keys = np.minimum(q, near) * n + np.maximum(q, near)
        pos = np.minimum(np.searchsorted(barred, keys), max(len(barred) - 1, 0))
        taken = (barred[pos] == keys) if len(barred) else np.zeros(keys.shape, dtype=bool)
        free = (near >= 0) & ~taken
        first = free.argmax(axis=1)
        out[rows] = np.where(free.any(axis=1), near[np.arange(len(rows)), first], -1)
    return out
