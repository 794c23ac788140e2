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
from bisect import bisect_right
from typing import Any, Iterable

import numpy as np

Point = tuple[int, ...]
Cube = tuple[frozenset[int], ...]

NODE_BUDGET = 50_000
"""Branch-and-bound nodes before settling for the best cover found (never reached by the shipped rules)."""


def in_cube(p: Point, c: Cube) -> bool:
    return all(v in s for v, s in zip(p, c))


def cube_points(c: Cube) -> Iterable[Point]:
    return itertools.product(*[sorted(s) for s in c])


class _Masks:
    """Point sets of a grid as integers: bit ``i`` is the ``i``-th point in C order (``itertools.product``)."""

    def __init__(self) -> None:
        self.cubes: dict[tuple[tuple[int, ...], Cube], int] = {}

    def cube(self, c: Cube, shape: tuple[int, ...]) -> int:
        """The points of cube ``c`` in a grid of ``shape``."""
        if not shape:
            return 1
        key = (shape, c)
        hit = self.cubes.get(key)
        if hit is None:
            stride = 1
            for n in shape[1:]:
                stride *= n
            rest = self.cube(c[1:], shape[1:])
            hit = 0
            for v in c[0]:
                hit |= rest << (v * stride)
            self.cubes[key] = hit
        return hit


def _primes(
    allowed: int, shape: tuple[int, ...], memo: dict[tuple[tuple[int, ...], int], list[Cube]], masks: _Masks
) -> list[Cube]:
    """Every maximal cube inside ``allowed`` (a non-empty point set of a grid of ``shape``).

    A cube (values V, rest c) comes from c prime in the intersection of some classes' cofactors,
    with V every value whose cofactor holds c: so c is prime in the intersection of V's
    cofactors, and the cube is maximal (it grows on no axis)."""
    if not shape:
        return [()]
    mkey = (shape, allowed)
    hit = memo.get(mkey)
    if hit is not None:
        return hit
    sub = shape[1:]
    stride = 1
    for n in sub:
        stride *= n
    full = (1 << stride) - 1
    # The cofactors of the first axis, its values grouped into classes of identical cofactors.
    by_set: dict[int, list[int]] = {}
    for v in range(shape[0]):
        cof = (allowed >> (v * stride)) & full
        if cof:
            by_set.setdefault(cof, []).append(v)
    classes = list(by_set.items())
    # Every distinct non-empty intersection of some classes' cofactors.
    inters: set[int] = set()
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
    for h in inters:
        for c in _primes(h, sub, memo, masks):
            cm = masks.cube(c, sub)
            values = frozenset(v for g, vals in classes if g & cm == cm for v in vals)
            cands.add((values, *c))
    out = list(cands)  # in no particular order: callers sort
    memo[mkey] = out
    return out


def _key(c: Cube) -> tuple[object, ...]:
    return tuple(tuple(sorted(s)) for s in c)


def literals(c: Cube, sizes: list[int]) -> int:
    """How many facts the cube constrains (axes where it does not take every value)."""
    return sum(1 for s, n in zip(c, sizes) if len(s) < n)


def grid(points: Iterable[Point], sizes: list[int]) -> np.ndarray:
    """The points as a dense boolean grid of shape ``sizes``."""
    g = np.zeros(tuple(sizes), dtype=bool)
    for p in points:
        g[p] = True
    return g


def primes(on: set[Point], dc: set[Point], sizes: list[int]) -> list[Cube]:
    """The prime cubes of on-set ∪ don't-cares that meet the on-set."""
    if not on:
        return []
    g = grid(on, sizes)
    return sorted(_meeting(g, grid(dc, sizes), _bits(g.reshape(-1)), _Masks()), key=_key)


def _meeting(on: np.ndarray, dc: np.ndarray, on_bits: int, masks: _Masks) -> list[Cube]:
    """The primes of ``on | dc`` that meet ``on``. The set of primes does not depend on the order
    of the axes; cofactoring the axes with fewer values first is much quicker."""
    shape = on.shape
    order = sorted(range(len(shape)), key=lambda a: shape[a])
    back = sorted(range(len(shape)), key=lambda a: order[a])
    allowed = np.transpose(on | dc, order)
    found = _primes(_bits(allowed.reshape(-1)), allowed.shape, {}, _Masks())
    out = []
    for c in found:
        cube = tuple(c[back[a]] for a in range(len(shape)))
        if on_bits & masks.cube(cube, shape):
            out.append(cube)
    return out


def minimum_cover(on: set[Point], dc: set[Point], sizes: list[int]) -> list[Cube]:
    """The fewest cubes covering ``on`` inside ``on | dc``; ties: the fewest constrained facts."""
    if not on:
        return []
    return minimum_cover_grid(grid(on, sizes), grid(dc, sizes))


def _bits(mask: np.ndarray) -> int:
    """A boolean array as an integer, element i as bit i."""
    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")


def minimum_cover_grid(on: np.ndarray, dc: np.ndarray) -> list[Cube]:
    """``minimum_cover`` over dense boolean grids (the on-set and the don't-cares, one shape).

    Sets of on-points are integers (one bit per point), so covering, subset and counting tests
    are a few integer operations whatever the number of points."""
    if not on.any():
        return []
    sizes = list(on.shape)
    if not sizes:
        return [()]
    shape = tuple(sizes)
    masks = _Masks()
    on_bits = _bits(on.reshape(-1))
    ps = _meeting(on, dc, on_bits, masks)
    ps.sort(key=lambda c: (literals(c, sizes), _key(c)))
    coords = np.nonzero(on)  # the on-points in increasing order, as points (tuples) sort
    n = len(coords[0])

    def inside(c: Cube) -> np.ndarray:
        m = np.ones(n, dtype=bool)
        for axis, s in enumerate(c):
            if len(s) < sizes[axis]:
                table = np.zeros(sizes[axis], dtype=bool)
                table[sorted(s)] = True
                m &= table[coords[axis]]
        return m

    covers = [on_bits & masks.cube(c, shape) for c in ps]  # as grid points: for the dominance test
    cost = [literals(c, sizes) for c in ps]
    size = [c.bit_count() for c in covers]
    # Drop a prime whose points another covers at no more cost (cheap tests first).
    keep = []
    largest_first = sorted(range(len(ps)), key=lambda j: -size[j])
    minus = [-size[j] for j in largest_first]
    for i in range(len(ps)):
        ci, ni, ki = covers[i], size[i], cost[i]
        dominated = any(
            cost[j] <= ki and j != i and ci & covers[j] == ci and (size[j] > ni or cost[j] < ki or j < i)
            for j in largest_first[: bisect_right(minus, -ni)]  # the primes covering as many points or more
        )
        if not dominated:
            keep.append(i)
    # Points renumbered by (how many kept primes cover it, the point): the search branches on the
    # uncovered point first in that order, which is then the lowest bit.
    inside_kept = {i: inside(ps[i]) for i in keep}
    count = np.zeros(n, dtype=np.int64)
    for m in inside_kept.values():
        count += m
    order = np.lexsort((np.arange(n), count))
    covers = [0] * len(ps)
    for i, m in inside_kept.items():
        covers[i] = _bits(m[order])
    chosen = _branch_and_bound((1 << n) - 1, keep, covers, cost)
    return [ps[i] for i in sorted(chosen, key=lambda i: _key(ps[i]))]


def _branch_and_bound(on: int, keep: list[int], covers: list[int], cost: list[int]) -> list[int]:
    # Greedy first: an upper bound, and the answer if the search runs out of budget.
    greedy: list[int] = []
    left = on
    while left:
        i = max(keep, key=lambda i: ((covers[i] & left).bit_count(), -cost[i], -i))
        greedy.append(i)
        left &= ~covers[i]
    best: list[Any] = [greedy, (len(greedy), sum(cost[i] for i in greedy))]
    largest = max(covers[i].bit_count() for i in keep)
    nodes = [0]
    by_point: dict[int, list[int]] = {}

    def search(chosen: list[int], left: int, lits: int) -> None:
        nodes[0] += 1
        if nodes[0] > NODE_BUDGET:
            return
        if not left:
            score = (len(chosen), lits)
            if score < best[1]:
                best[0], best[1] = list(chosen), score
            return
        bound = len(chosen) + -(-left.bit_count() // largest)
        if bound > best[1][0] or (bound == best[1][0] and lits >= best[1][1]):
            return
        # Branch on the uncovered point with the fewest primes covering it.
        p = (left & -left).bit_length() - 1
        if p not in by_point:
            by_point[p] = [i for i in keep if covers[i] >> p & 1]
        options = sorted(by_point[p], key=lambda i: (-(covers[i] & left).bit_count(), cost[i], i))
        for i in options:
            chosen.append(i)
            search(chosen, left & ~covers[i], lits + cost[i])
            chosen.pop()

    search([], on, 0)
    return list(best[0])
