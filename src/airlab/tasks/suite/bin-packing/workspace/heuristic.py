"""Online bin packing: score the open bins an item fits into; the item goes to the highest score.

priority(item, bins) gets the size of the arriving item and the remaining capacities of the open
bins it fits into (each >= item; bin capacity 100). It returns one score per bin, in the same
order. The harness puts the item into the bin with the highest score (the first of equal scores);
when no open bin can hold the item, a new bin is opened without a call.
"""

W_FIT = 1.0  # reward for a tight fit: item / remaining capacity (1.0 = the item fills the bin)
W_WASTE = 0.05  # reward per unit of capacity the bin keeps after the item (worst-fit tendency)
W_FIRST = 0.5  # reward for bins that were opened earlier (first-fit tendency)


def priority(item: float, bins: list[float]) -> list[float]:
    n = len(bins)
    return [W_FIT * item / b + W_WASTE * (b - item) - W_FIRST * i / n for i, b in enumerate(bins)]


if __name__ == "__main__":
    import random

    rng = random.Random(0)
    items = [min(100.0, max(1.0, round(rng.weibullvariate(45.0, 3.0)))) for _ in range(300)]
    bins: list[float] = []
    for size in items:
        fits = [i for i, b in enumerate(bins) if b >= size]
        if not fits:
            bins.append(100.0 - size)
            continue
        scores = priority(size, [bins[i] for i in fits])
        assert len(scores) == len(fits), "one score per bin"
        bins[fits[max(range(len(fits)), key=lambda k: (scores[k], -k))]] -= size
    bound = -(-sum(items) // 100)
    print(f"{len(bins)} bins for a lower bound of {bound:g}: {100 * (len(bins) / bound - 1):.2f}% excess")
