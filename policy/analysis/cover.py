"""Minimal covers of grid points by cubes: multi-valued logic minimisation for the diff's regions.

The diff enumerates combinations of facts, each a point of a grid (one axis per fact, one index
per class of values the rules tell apart). The points where a verdict changes the same way are
the *on-set*; combinations the world cannot produce are the *don't-care set*. A *cube* is a
product of value sets, one per axis: a conjunction ``fact in {...}`` over the facts it
constrains, which a lawyer can state in one line.

:func:`minimum_cover` finds the fewest cubes inside on-set ∪ don't-cares that together cover the
on-set (ties broken by the fewest constrained facts), as logic minimisers do:

1. every *prime* cube (a maximal cube inside the allowed set) by recursive cofactoring on the
   first axis, with the axis's values grouped into classes of identical cofactors, so that the
   subsets tried are subsets of classes, not of values (``_primes``);
2. an exact minimum cover of the on-set by primes: essential primes first, dominated primes
   dropped, then branch and bound (Petrick's problem); past a node budget the best cover found so
   far is kept, which is at worst the greedy one.

Everything is deterministic: the same points give the same cubes in the same order.
"""

from __future__ import annotations

import itertools
from typing import Iterable

Point = tuple[int, ...]
Cube = tuple[frozenset[int], ...]

NODE_BUDGET = 50_000
"""Branch-and-bound nodes before settling for the best cover found (never reached by the shipped rules)."""


def in_cube(p: Point, c: Cube) -> bool:
    return all(v in s for v, s in zip(p, c))


def cube_points(c: Cube) -> Iterable[Point]:
    return itertools.product(*[sorted(s) for s in c])


def _contains(points: frozenset[Point], c: Cube) -> bool:
    return all(q in points for q in itertools.product(*c))


def _sub(a: Cube, b: Cube) -> bool:
    """Cube ``a`` lies inside cube ``b``."""
    return all(x <= y for x, y in zip(a, b))


def _primes(allowed: frozenset[Point], memo: dict[frozenset[Point], list[Cube]]) -> list[Cube]:
    """Every maximal cube inside ``allowed`` (a non-empty set of equal-length points)."""
    hit = memo.get(allowed)
    if hit is not None:
        return hit
    first = next(iter(allowed))
    if len(first) == 0:
        return [()]
    cof: dict[int, set[Point]] = {}
    for p in allowed:
        cof.setdefault(p[0], set()).add(p[1:])
    by_set: dict[frozenset[Point], list[int]] = {}
    for v in sorted(cof):
        by_set.setdefault(frozenset(cof[v]), []).append(v)
    classes = list(by_set.items())
    # Every distinct non-empty intersection of some classes' cofactors.
    inters: set[frozenset[Point]] = set()
    frontier = [g for g, _ in classes]
    while frontier:
        nxt = []
        for h in frontier:
            if h in inters:
                continue
            inters.add(h)
            for g, _ in classes:
                k = h & g
                if k and k not in inters:
                    nxt.append(k)
        frontier = nxt
    cands: set[Cube] = set()
    for h in sorted(inters, key=lambda s: (len(s), sorted(s))):
        for c in _primes(h, memo):
            values = frozenset(v for g, vals in classes if _contains(g, c) for v in vals)
            cands.add((values, *c))
    ordered = sorted(cands, key=_key)
    out = [c for c in ordered if not any(d != c and _sub(c, d) for d in ordered)]
    memo[allowed] = out
    return out


def _key(c: Cube) -> tuple[object, ...]:
    return tuple(tuple(sorted(s)) for s in c)


def literals(c: Cube, sizes: list[int]) -> int:
    """How many facts the cube constrains (axes where it does not take every value)."""
    return sum(1 for s, n in zip(c, sizes) if len(s) < n)


def primes(on: set[Point], dc: set[Point]) -> list[Cube]:
    """The prime cubes of on-set ∪ don't-cares that meet the on-set."""
    if not on:
        return []
    allowed = frozenset(on | dc)
    return [c for c in _primes(allowed, {}) if any(in_cube(p, c) for p in on)]


def minimum_cover(on: set[Point], dc: set[Point], sizes: list[int]) -> list[Cube]:
    """The fewest cubes covering ``on`` inside ``on | dc``; ties: the fewest constrained facts."""
    if not on:
        return []
    ps = primes(on, dc)
    ps.sort(key=lambda c: (literals(c, sizes), _key(c)))
    covers = [frozenset(p for p in on if in_cube(p, c)) for c in ps]
    cost = [literals(c, sizes) for c in ps]
    # Drop a prime whose points another covers at no more cost.
    keep = []
    for i in range(len(ps)):
        dominated = any(
            j != i
            and covers[i] <= covers[j]
            and cost[j] <= cost[i]
            and (covers[i] != covers[j] or cost[j] < cost[i] or j < i)
            for j in range(len(ps))
        )
        if not dominated:
            keep.append(i)
    by_point: dict[Point, list[int]] = {p: [] for p in on}
    for i in keep:
        for p in covers[i]:
            by_point[p].append(i)
    chosen = _branch_and_bound(on, keep, covers, cost, by_point)
    return [ps[i] for i in sorted(chosen, key=lambda i: _key(ps[i]))]


def _branch_and_bound(
    on: set[Point], keep: list[int], covers: list[frozenset[Point]], cost: list[int], by_point: dict[Point, list[int]]
) -> list[int]:
    # Greedy first: an upper bound, and the answer if the search runs out of budget.
    greedy: list[int] = []
    left = set(on)
    while left:
        i = max(keep, key=lambda i: (len(covers[i] & left), -cost[i], -i))
        greedy.append(i)
        left -= covers[i]
    best = [greedy, (len(greedy), sum(cost[i] for i in greedy))]
    largest = max(len(covers[i]) for i in keep)
    nodes = [0]

    def search(chosen: list[int], left: frozenset[Point], lits: int) -> None:
        nodes[0] += 1
        if nodes[0] > NODE_BUDGET:
            return
        if not left:
            score = (len(chosen), lits)
            if score < best[1]:
                best[0], best[1] = list(chosen), score
            return
        bound = len(chosen) + -(-len(left) // largest)
        if bound > best[1][0] or (bound == best[1][0] and lits >= best[1][1]):
            return
        # Branch on the uncovered point with the fewest primes covering it.
        p = min(left, key=lambda q: (len(by_point[q]), q))
        options = sorted(by_point[p], key=lambda i: (-len(covers[i] & left), cost[i], i))
        for i in options:
            chosen.append(i)
            search(chosen, left - covers[i], lits + cost[i])
            chosen.pop()

    search([], frozenset(on), 0)
    return best[0]
