"""Sparse index sets of the LP, derived once from ModelInputs.

Who produces what, who consumes which stage's product, and which lanes exist: every
variable and constraint of the model is indexed by one of these lists, never by a
dense product of countries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from optimizer.model.inputs import COALITION_POOL, GRADES, REST_POOL, ModelInputs

Flow = tuple[str, str, str, int, str]  # country, stage, material, year, grade


@dataclass
class ModelIndex:
    """Index lists and lookups for the variables and constraints."""

    production: list[Flow] = field(default_factory=list)
    local: list[Flow] = field(default_factory=list)
    exports: list[tuple[str, str, str, str, int, str]] = field(default_factory=list)  # r, pool, s, m, t, g
    imports: list[tuple[str, str, str, str, int, str]] = field(default_factory=list)  # q, pool, s, m, t, g
    import_pools: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)  # (q, s) -> pools
    flows: list[tuple[str, str, str, str, int, str]] = field(default_factory=list)  # o, d, s, m, t, g
    consumers: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (s, m) -> q
    producers: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (s, m) -> r
    lanes_out: dict[tuple[str, str, str], list[tuple[str, str, str, str]]] = field(default_factory=dict)
    lanes_in: dict[tuple[str, str, str], list[tuple[str, str, str, str]]] = field(default_factory=dict)
    builds_online: dict[tuple[str, str, str, int], list[tuple[int, float]]] = field(default_factory=dict)
    stock: list[tuple[str, str, int]] = field(default_factory=list)

    def pool_of(self, country: str, coalition: set[str]) -> str:
        """The market pool a country buys from."""
        return COALITION_POOL if country in coalition else REST_POOL


def build_index(inputs: ModelInputs) -> ModelIndex:
    """Derive every sparse index list from the inputs."""
    ix = ModelIndex()
    producers: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r, s, m in inputs.producers:
        producers[(s, m)].append(r)
    ix.producers = dict(producers)

    consumers: dict[tuple[str, str], list[str]] = {}
    for i, s in enumerate(inputs.stages):
        for m in inputs.materials:
            if s == inputs.last_stage:
                consumers[(s, m)] = list(inputs.coalition)
            else:
                consumers[(s, m)] = list(producers.get((inputs.stages[i + 1], m), []))
    ix.consumers = consumers

    lanes_out: dict[tuple[str, str, str], list] = defaultdict(list)
    lanes_in: dict[tuple[str, str, str], list] = defaultdict(list)
    for lane in inputs.lanes:
        o, d, s, m = lane
        if o in producers.get((s, m), []) and d in consumers.get((s, m), []):
            lanes_out[(o, s, m)].append(lane)
            lanes_in[(d, s, m)].append(lane)
    ix.lanes_out, ix.lanes_in = dict(lanes_out), dict(lanes_in)

    for r, s, m in inputs.producers:
        consumes_own = r in consumers[(s, m)]
        for t in inputs.years:
            for g in inputs.grades(r, s):
                ix.production.append((r, s, m, t, g))
                if consumes_own:
                    ix.local.append((r, s, m, t, g))
                ix.exports.append((r, COALITION_POOL, s, m, t, g))
                if s != inputs.last_stage:
                    ix.exports.append((r, REST_POOL, s, m, t, g))
                for lane in lanes_out.get((r, s, m), []):
                    ix.flows.append((lane[0], lane[1], s, m, t, g))
    coalition = set(inputs.coalition)
    for (s, m), qs in consumers.items():
        for q in qs:
            if q in coalition and inputs.parametric_members and s != inputs.last_stage:
                # a member buys from the allies' pool, a switched-off member from the rest
                pools: tuple[str, ...] = (COALITION_POOL, REST_POOL)
            else:
                pools = (ix.pool_of(q, coalition),)
            ix.import_pools[(q, s)] = pools
            for p in pools:
                for t in inputs.years:
                    for g in GRADES:
                        ix.imports.append((q, p, s, m, t, g))

    online: dict[tuple[str, str, str, int], list[tuple[int, float]]] = defaultdict(list)
    for r, s, m, tau in inputs.builds:
        first = tau + inputs.lead[(r, s)]
        for t in inputs.years:
            if t >= first:
                factor = inputs.ramp_factor(s, t - first)
                if factor > 0:
                    online[(r, s, m, t)].append((tau, factor))
    ix.builds_online = dict(online)
    ix.stock = [(q, m, t) for (q, m), cap in inputs.stock_capacity.items() if cap > 0 for t in inputs.years]
    return ix
