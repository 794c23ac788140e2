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
2. the covering problem as rows, one per class of on-points covered by the same primes, only the
   minimal ones (``point_classes``): tens of rows where there were thousands of points;
3. an exact minimum cover of the rows (``solve``): reduced to its cyclic core (dominated primes
   and rows dropped, essential primes chosen), split into parts that share no prime, each part
   by branch and bound (Petrick's problem); past a node budget the best cover found so far is
   kept, which is at worst the greedy one.

Everything is deterministic: the same points give the same cubes in the same order.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any, Iterable

import numpy as np

Point = tuple[int, ...]
Cube = tuple[frozenset[int], ...]

NODE_BUDGET = 50_000
"""Branch-and-bound nodes per part of a reduced problem before settling for the best cover found.
Reached by two parts of the shipped rules' exhaustive diff (empty -> shipped), whose rows every
prime covers alike (56 rows of 64 primes each, 168 of 32): the cover found is not proven minimum."""


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
    rests: dict[Cube, None] = {}  # each rest once, however many intersections it is prime in
    for h in inters:
        rests.update(dict.fromkeys(_primes(h, sub, memo, masks)))
    out = []  # in no particular order: callers sort
    for c in rests:
        cm = masks.cube(c, sub)
        out.append((frozenset(v for g, vals in classes if g & cm == cm for v in vals), *c))
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
    """The primes of ``on | dc`` that meet ``on``."""
    return [c for c in _all_primes(on | dc) if on_bits & masks.cube(c, on.shape)]


def _all_primes(allowed: np.ndarray) -> list[Cube]:
    """The primes of a non-empty grid. The set of primes does not depend on the order of the
    axes; cofactoring the axes with fewer values first is much quicker."""
    shape = allowed.shape
    order = sorted(range(len(shape)), key=lambda a: shape[a])
    back = sorted(range(len(shape)), key=lambda a: order[a])
    turned = np.transpose(allowed, order)
    found = _primes(_bits(turned.reshape(-1)), turned.shape, {}, _Masks())
    return [tuple(c[back[a]] for a in range(len(shape))) for c in found]


def minimum_cover(on: set[Point], dc: set[Point], sizes: list[int]) -> list[Cube]:
    """The fewest cubes covering ``on`` inside ``on | dc``; ties: the fewest constrained facts."""
    if not on:
        return []
    return minimum_cover_grid(grid(on, sizes), grid(dc, sizes))


def _bits(mask: np.ndarray) -> int:
    """A boolean array as an integer, element i as bit i."""
    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")


def minimum_cover_grid(on: np.ndarray, dc: np.ndarray) -> list[Cube]:
    """``minimum_cover`` over dense boolean grids (the on-set and the don't-cares, one shape)."""
    if not on.any():
        return []
    sizes = list(on.shape)
    if not sizes:
        return [()]
    # every prime: those that meet no on-point cover no row of the problem, and are never chosen
    ps = _all_primes(on | dc)
    ps.sort(key=lambda c: (literals(c, sizes), _key(c)))
    cost = [literals(c, sizes) for c in ps]
    chosen = solve(point_classes(ps, on), cost)
    return [ps[i] for i in sorted(chosen, key=lambda i: _key(ps[i]))]


def point_classes(ps: list[Cube], on: np.ndarray) -> list[int]:
    """The covering problem of the on-points by the cubes ``ps`` as its rows: for each class of
    on-points covered by the same cubes, that set of cubes (bit ``i``: ``ps[i]``). Only the minimal
    sets are kept (a point whose cubes include another point's is covered whenever that one is),
    by (how many cubes, first point in C order).

    A point's cubes are those holding its value on every axis, so values of an axis that the
    same cubes hold are told apart no further: the points are first reduced to their distinct
    combinations of such value classes."""
    words = (len(ps) + 63) // 64
    coords = np.nonzero(on)
    key = np.zeros(len(coords[0]), dtype=np.int64)
    tables = []
    for axis, n in enumerate(on.shape):
        # bit k of row v: cube k holds value v on this axis
        held = np.zeros((n, 64 * words), dtype=bool)
        held[:, : len(ps)] = (
            (np.array([sum(1 << v for v in c[axis]) for c in ps], dtype=object)[None, :] >> np.arange(n)[:, None]) & 1
        ).astype(bool)
        table = np.packbits(held, axis=1, bitorder="little").view("<u8")
        classes, cls = np.unique(table, axis=0, return_inverse=True)
        key = key * len(classes) + cls.reshape(-1)[coords[axis]]
        tables.append(table)
    _, first = np.unique(key, return_index=True)
    first.sort()  # the classes by their first point
    sig = np.full((len(first), words), np.uint64(2**64 - 1), dtype=np.uint64)
    for axis, table in enumerate(tables):
        sig &= table[coords[axis][first]]
    _, distinct = np.unique(
        np.ascontiguousarray(sig).view(np.dtype((np.void, 8 * words))).reshape(-1), return_index=True
    )
    distinct.sort()
    sig = sig[distinct]
    count = np.bitwise_count(sig).sum(axis=1)
    alive = np.ones(len(sig), dtype=bool)
    rows = []
    for r in np.argsort(count, kind="stable").tolist():
        if alive[r]:
            m = sig[r]
            alive &= ~np.all((sig & m) == m, axis=1)
            rows.append(int.from_bytes(m.astype("<u8").tobytes(), "little"))
    return rows


def solve(rows: list[int], cost: list[int]) -> list[int]:
    """The fewest sets covering every row, ties broken by the least total cost, as set numbers;
    each row is a bitset of the sets that cover it (at least one). Among equally good choices the
    search prefers the lower number.

    The problem is first reduced to its cyclic core, as logic minimisers do: a set is dropped when
    another covers the same rows or more at no more cost (ties: the lower number stays), a row
    whose sets include another row's is dropped, and a row left with one set makes that set
    chosen; what remains splits into parts that share no set, each solved apart."""
    chosen: list[int] = []
    rows = _minimal(rows)
    while rows:
        cov = _transpose(rows)
        sets = sorted(cov, key=lambda i: (-cov[i].bit_count(), cost[i], i))
        dropped = 0
        for a, i in enumerate(sets):
            ci = cov[i]
            if any(cost[j] <= cost[i] and ci & cov[j] == ci for j in sets[:a]):
                dropped |= 1 << i
        if dropped:
            rows = _minimal([r & ~dropped for r in rows])
        single = 0
        for r in rows:
            if r & (r - 1) == 0:
                single |= r
        if single:
            chosen += _members(single)
            rows = [r for r in rows if not r & single]
        if not dropped and not single:
            break
    for part in _parts(rows):
        # the part's sets renumbered 0, 1, ... in order, so that the same core recurs as one key
        sets = sorted({i for r in part for i in _members(r)})
        local = {i: j for j, i in enumerate(sets)}
        numbered = tuple(sum(1 << local[i] for i in _members(r)) for r in part)
        chosen += [sets[j] for j in _search(numbered, tuple(cost[i] for i in sets))]
    return chosen


def _members(x: int) -> list[int]:
    """The bits set in ``x``, lowest first."""
    out = []
    while x:
        low = x & -x
        out.append(low.bit_length() - 1)
        x ^= low
    return out


def _transpose(rows: list[int]) -> dict[int, int]:
    """For each set, the rows (bit ``k``: ``rows[k]``) it covers."""
    cov: dict[int, int] = {}
    for k, r in enumerate(rows):
        for i in _members(r):
            cov[i] = cov.get(i, 0) | 1 << k
    return cov


def _minimal(rows: list[int]) -> list[int]:
    """The rows no other row is a subset of (the first of equal rows), by (size, given order)."""
    out: list[int] = []
    for r in sorted(dict.fromkeys(rows), key=int.bit_count):
        if not any(q & r == q for q in out):
            out.append(r)
    return out


def _parts(rows: list[int]) -> list[list[int]]:
    """The rows in groups that share no set, each in the given order, the groups by first row."""
    groups: list[tuple[int, list[int]]] = []
    for r in rows:
        union, members, rest = r, [r], []
        for g in groups:
            if g[0] & r:
                union |= g[0]
                members += g[1]
            else:
                rest.append(g)
        groups = [*rest, (union, members)]
    order = {r: k for k, r in enumerate(rows)}
    parts = [sorted(m, key=order.__getitem__) for _, m in groups]
    return sorted(parts, key=lambda m: order[m[0]])


@functools.lru_cache(maxsize=256)
def _search(rows: tuple[int, ...], cost: tuple[int, ...]) -> list[int]:
    """An exact cover of ``rows`` by the fewest sets, ties: the least total cost (set ``i`` costs
    ``cost[i]``). Greedy first, for an upper bound;
    then branch and bound on the uncovered row with the fewest sets left, a set tried in one
    branch being left out of the next ones (every cover with it has been seen), bounded below by
    rows no remaining set covers two of. Past ``NODE_BUDGET`` nodes, the best cover found stands.
    Cached: the same core recurs across the groups of a diff."""
    order = sorted(rows, key=int.bit_count)  # bit k: order[k]; the most constrained rows lowest
    cov = _transpose(order)
    sets = sorted(cov)
    near = []  # the rows sharing a set with row k (k too)
    least = []  # the least cost of a set covering row k
    for r in order:
        u = 0
        for i in _members(r):
            u |= cov[i]
        near.append(u)
        least.append(min(cost[i] for i in _members(r)))
    everything = (1 << len(order)) - 1
    greedy: list[int] = []
    left = everything
    while left:
        i = max(sets, key=lambda i: ((cov[i] & left).bit_count(), -cost[i], -i))
        greedy.append(i)
        left &= ~cov[i]
    best: list[Any] = [greedy, (len(greedy), sum(cost[i] for i in greedy))]
    nodes = [0]

    def search(chosen: list[int], left: int, lits: int, banned: int) -> None:
        nodes[0] += 1
        if nodes[0] > NODE_BUDGET:
            return
        if not left:
            if (len(chosen), lits) < best[1]:
                best[0], best[1] = list(chosen), (len(chosen), lits)
            return
        need, extra, free = 0, 0, left
        while free:
            k = (free & -free).bit_length() - 1
            need += 1
            extra += least[k]
            free &= ~near[k]
        n = len(chosen) + need
        if n > best[1][0] or (n == best[1][0] and lits + extra >= best[1][1]):
            return
        k = min(_members(left), key=lambda k: ((order[k] & ~banned).bit_count(), k))
        ban = banned
        for i in sorted(_members(order[k] & ~banned), key=lambda i: (-(cov[i] & left).bit_count(), cost[i], i)):
            chosen.append(i)
            search(chosen, left & ~cov[i], lits + cost[i], ban)
            chosen.pop()
            ban |= 1 << i

    search([], everything, 0, 0)
    return list(best[0])


def clear_cache() -> None:
    """Forget the solved cores (for timing a diff from cold)."""
    _search.cache_clear()
