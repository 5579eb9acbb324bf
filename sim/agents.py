"""Provider: a Mesa agent that is a readable view of one row of the model's arrays.

The state lives in :class:`~sim.model.ProviderState` arrays so that the weekly
step is vectorised; each property reads (never copies) the agent's row, so
``model.agents`` queries, ``agg`` and visualisation see up-to-date values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.kinds import Kind

if TYPE_CHECKING:
    from sim.model import CollaborationModel


class Provider(mesa.Agent):
    """One healthcare or social care provider (a trust, PCN, care home or local authority)."""

    def __init__(self, model: CollaborationModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def kind(self) -> Kind:
        return Kind(int(self.model.state.kind[self.index]))

    @property
    def area(self) -> int:
        return int(self.model.state.area[self.index])

    @property
    def pos_km(self) -> tuple[float, float]:
        x, y = self.model.state.xy[self.index]
        return float(x), float(y)

    @property
    def funded_posts(self) -> float:
        """Funded posts (FTE)."""
        return float(self.model.state.funded[self.index])

    @property
    def staff(self) -> float:
        """Staff in post (FTE)."""
        return float(self.model.state.staff[self.index])

    @property
    def vacancy_rate(self) -> float:
        """1 - staff in post / funded posts."""
        return 1.0 - self.staff / self.funded_posts

    @property
    def backlog(self) -> float:
        """Episodes waiting for service."""
        return float(self.model.state.backlog[self.index])

    @property
    def pressure(self) -> float:
        """Workload / capacity last week (> 1: overloaded)."""
        return float(self.model.state.pressure[self.index])

    @property
    def faith(self) -> float:
        """Staff faith in collaboration, 0-1."""
        return float(self.model.state.faith[self.index])

    @property
    def admin_share(self) -> float:
        """Share of staff time on collaboration paperwork."""
        return float(self.model.state.admin_share[self.index])

    @property
    def quality(self) -> float:
        """Quality of practice, 0-1."""
        return float(self.model.state.quality[self.index])

    @property
    def data_maturity(self) -> float:
        return float(self.model.state.maturity[self.index])

    @property
    def n_partners(self) -> int:
        return int(self.model.degree[self.index])

    def __repr__(self) -> str:
        return (f"Provider({self.unique_id}, {self.kind.name.lower()}, area={self.area}, "
                f"staff={self.staff:.1f}/{self.funded_posts:.1f}, faith={self.faith:.2f})")
