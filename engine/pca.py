"""A 2-D principal component analysis in plain Python: power iteration on the covariance matrix.

Used to place embedding rows (wte, wpe: a few dozen vectors of n_embd numbers) on a plane whose axes
are fixed once, from one set of weights, so that other steps' rows move on the same plane.
"""

import math


def covariance(rows):
    """The mean of rows and their covariance matrix (n_embd × n_embd)."""
    n, d = len(rows), len(rows[0])
    mean = [sum(r[j] for r in rows) / n for j in range(d)]
    centred = [[r[j] - mean[j] for j in range(d)] for r in rows]
    cov = [[sum(c[i] * c[j] for c in centred) / n for j in range(d)] for i in range(d)]
    return mean, cov


def _top_eigenvector(matrix, iterations=500, tol=1e-13):
    d = len(matrix)
    x = [1.0 / math.sqrt(d) + 0.01 * i for i in range(d)]  # not orthogonal to any axis in practice
    value = 0.0
    for _ in range(iterations):
        y = [sum(matrix[i][j] * x[j] for j in range(d)) for i in range(d)]
        norm = math.sqrt(sum(v * v for v in y))
        if norm == 0:
            return [0.0] * d, 0.0
        y = [v / norm for v in y]
        done = sum((a - b) ** 2 for a, b in zip(x, y)) < tol
        x, value = y, norm
        if done:
            break
    return x, value


def pca_basis(rows):
    """(mean, (axis1, axis2), (variance1, variance2)): the two directions of largest variance of rows,
    each with the sign that makes its largest component positive (so the picture does not flip)."""
    mean, cov = covariance(rows)
    axes, variances = [], []
    for _ in range(2):
        axis, value = _top_eigenvector(cov)
        big = max(range(len(axis)), key=lambda j: abs(axis[j]))
        if axis[big] < 0:
            axis = [-a for a in axis]
        axes.append(axis)
        variances.append(value)
        d = len(cov)
        cov = [[cov[i][j] - value * axis[i] * axis[j] for j in range(d)] for i in range(d)]  # deflate
    return mean, tuple(axes), tuple(variances)


def project(rows, basis):
    """Each row's (x, y) on the basis' plane."""
    mean, (a, b), _ = basis
    out = []
    for r in rows:
        c = [x - m for x, m in zip(r, mean)]
        out.append((sum(x * y for x, y in zip(c, a)), sum(x * y for x, y in zip(c, b))))
    return out
