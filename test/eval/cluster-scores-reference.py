# Independent reference for test/eval/cluster-scores.test.ts: Davies-Bouldin and
# Calinski-Harabasz from their textbook definitions in numpy (run: python3 this-file).
import json
import numpy as np

# 14 points in 3-D, 4 clusters of sizes 5, 4, 3, 2 (labels not contiguous: 0, 2, 5, 7).
X = np.array([
    [0.1, 0.2, -0.3], [0.4, -0.1, 0.0], [-0.2, 0.3, 0.1], [0.0, 0.0, 0.5], [0.3, 0.1, -0.1],
    [2.0, 1.8, 0.2], [2.3, 2.1, -0.1], [1.7, 2.2, 0.4], [2.1, 1.6, 0.0],
    [-1.5, 2.5, 1.0], [-1.9, 2.2, 1.4], [-1.2, 2.9, 0.7],
    [0.5, -2.0, 2.0], [0.9, -2.4, 1.6],
])
y = np.array([0, 0, 0, 0, 0, 2, 2, 2, 2, 5, 5, 5, 7, 7])

def db(X, y):
    ks = np.unique(y)
    c = np.array([X[y == k].mean(0) for k in ks])
    s = np.array([np.linalg.norm(X[y == k] - c[i], axis=1).mean() for i, k in enumerate(ks)])
    r = []
    for i in range(len(ks)):
        r.append(max((s[i] + s[j]) / np.linalg.norm(c[i] - c[j]) for j in range(len(ks)) if j != i))
    return float(np.mean(r))

def ch(X, y):
    ks = np.unique(y); n, k = len(X), len(ks)
    m = X.mean(0)
    B = sum((y == q).sum() * np.sum((X[y == q].mean(0) - m) ** 2) for q in ks)
    W = sum(np.sum((X[y == q] - X[y == q].mean(0)) ** 2) for q in ks)
    return float(B / (k - 1) / (W / (n - k)))

print(json.dumps({'db': db(X, y), 'ch': ch(X, y)}))
# A second labelling of the same points (mixed clusters): both scores worsen.
y2 = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
print(json.dumps({'db_mixed': db(X, y2), 'ch_mixed': ch(X, y2)}))
