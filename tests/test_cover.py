"""The bitset cover gives exactly the cubes of the straightforward set-based algorithm it replaced."""

import itertools
import random

from policy.analysis.cover import NODE_BUDGET, literals, minimum_cover


def _key(c):
    return tuple(tuple(sorted(s)) for s in c)


def _in_cube(p, c):
    return all(v in s for v, s in zip(p, c))


def _primes(allowed, memo):
    """Every maximal cube inside a set of points (the reference: sets of tuples)."""
    hit = memo.get(allowed)
    if hit is not None:
        return hit
    first = next(iter(allowed))
    if len(first) == 0:
        return [()]
    cof = {}
    for p in allowed:
        cof.setdefault(p[0], set()).add(p[1:])
    by_set = {}
    for v in sorted(cof):
        by_set.setdefault(frozenset(cof[v]), []).append(v)
    classes = list(by_set.items())
    inters, frontier = set(), [g for g, _ in classes]
    while frontier:
        nxt = []
        for h in frontier:
            if h in inters:
                continue
            inters.add(h)
            nxt += [h & g for g, _ in classes if h & g and h & g not in inters]
        frontier = nxt
    cands = set()
    for h in inters:
        for c in _primes(h, memo):
            values = frozenset(v for g, vals in classes if all(q in g for q in itertools.product(*c)) for v in vals)
            cands.add((values, *c))
    ordered = sorted(cands, key=_key)
    out = [c for c in ordered if not any(d != c and all(x <= y for x, y in zip(c, d)) for d in ordered)]
    memo[allowed] = out
    return out


def reference_cover(on, dc, sizes):
    if not on:
        return []
    ps = [c for c in _primes(frozenset(on | dc), {}) if any(_in_cube(p, c) for p in on)]
    ps.sort(key=lambda c: (literals(c, sizes), _key(c)))
    covers = [frozenset(p for p in on if _in_cube(p, c)) for c in ps]
    cost = [literals(c, sizes) for c in ps]
    keep = [
        i
        for i in range(len(ps))
        if not any(
            j != i
            and covers[i] <= covers[j]
            and cost[j] <= cost[i]
            and (covers[i] != covers[j] or cost[j] < cost[i] or j < i)
            for j in range(len(ps))
        )
    ]
    by_point = {p: [i for i in keep if p in covers[i]] for p in on}
    greedy, left = [], set(on)
    while left:
        i = max(keep, key=lambda i: (len(covers[i] & left), -cost[i], -i))
        greedy.append(i)
        left -= covers[i]
    best = [greedy, (len(greedy), sum(cost[i] for i in greedy))]
    largest = max(len(covers[i]) for i in keep)
    nodes = [0]

    def search(chosen, left, lits):
        nodes[0] += 1
        if nodes[0] > NODE_BUDGET:
            return
        if not left:
            if (len(chosen), lits) < best[1]:
                best[0], best[1] = list(chosen), (len(chosen), lits)
            return
        bound = len(chosen) + -(-len(left) // largest)
        if bound > best[1][0] or (bound == best[1][0] and lits >= best[1][1]):
            return
        p = min(left, key=lambda q: (len(by_point[q]), q))
        for i in sorted(by_point[p], key=lambda i: (-len(covers[i] & left), cost[i], i)):
            chosen.append(i)
            search(chosen, left - covers[i], lits + cost[i])
            chosen.pop()

    search([], frozenset(on), 0)
    return [ps[i] for i in sorted(best[0], key=lambda i: _key(ps[i]))]


def test_cover_matches_the_set_based_reference():
    rng = random.Random(7)
    for _ in range(200):
        sizes = [rng.randint(1, 4) for _ in range(rng.randint(0, 4))]
        grid = list(itertools.product(*[range(n) for n in sizes]))
        density = rng.random()
        on = {p for p in grid if rng.random() < density}
        dc = {p for p in grid if p not in on and rng.random() < 0.3}
        assert minimum_cover(on, dc, sizes) == reference_cover(on, dc, sizes), (sizes, on, dc)
