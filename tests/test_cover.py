"""The cover is exact: valid prime cubes, no worse than the straightforward set-based search it
replaced (and as good wherever that search finished), and the optimum a brute force finds."""

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
    """The set-based search (essential-free Petrick branch and bound) and whether it finished
    within its node budget (then its cover is a minimum)."""
    if not on:
        return [], True
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
    return [ps[i] for i in sorted(best[0], key=lambda i: _key(ps[i]))], nodes[0] <= NODE_BUDGET


def _score(cover, sizes):
    return len(cover), sum(literals(c, sizes) for c in cover)


def _instances(count, most):
    rng = random.Random(7)
    for _ in range(count):
        sizes = [rng.randint(1, most) for _ in range(rng.randint(0, 4))]
        grid = list(itertools.product(*[range(n) for n in sizes]))
        density = rng.random()
        on = {p for p in grid if rng.random() < density}
        dc = {p for p in grid if p not in on and rng.random() < 0.3}
        yield sizes, on, dc


def test_cover_is_prime_exact_and_no_worse_than_the_set_based_search():
    finished = 0
    for sizes, on, dc in _instances(200, 4):
        cover = minimum_cover(on, dc, sizes)
        assert cover == sorted(cover, key=_key)
        assert minimum_cover(on, dc, sizes) == cover  # deterministic
        got = {q for c in cover for q in itertools.product(*[sorted(s) for s in c])}
        assert on <= got <= on | dc, (sizes, on, dc)
        if on:
            primes = _primes(frozenset(on | dc), {})
            assert all(c in primes for c in cover), (sizes, on, dc)
        ref, done = reference_cover(on, dc, sizes)
        if done:
            finished += 1
            assert _score(cover, sizes) == _score(ref, sizes), (sizes, on, dc)
        else:  # the old search stopped at its budget: the new cover may only be better
            assert _score(cover, sizes) <= _score(ref, sizes), (sizes, on, dc)
    assert finished > 150


def test_cover_is_the_optimum_a_brute_force_finds():
    checked = 0
    for sizes, on, dc in _instances(300, 3):
        if not on:
            continue
        primes = _primes(frozenset(on | dc), {})
        if len(primes) > 12:
            continue
        points = [frozenset(itertools.product(*[sorted(s) for s in c])) for c in primes]
        best = min(
            (len(combo), sum(literals(primes[i], sizes) for i in combo))
            for r in range(1, len(primes) + 1)
            for combo in itertools.combinations(range(len(primes)), r)
            if on <= frozenset().union(*(points[i] for i in combo))
        )
        assert _score(minimum_cover(on, dc, sizes), sizes) == best, (sizes, on, dc)
        checked += 1
    assert checked > 100
