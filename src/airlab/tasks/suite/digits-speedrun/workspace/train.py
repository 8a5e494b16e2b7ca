"""Train a digit classifier on train.csv with numpy and write model.npz.

The model is one hidden ReLU layer (or a linear model when HIDDEN = 0) trained by mini-batch
gradient descent on the softmax cross-entropy. Inputs are the 64 pixel intensities divided by 16.

model.npz holds float arrays (the evaluator computes the predictions itself):
- HIDDEN > 0: W1 (64, HIDDEN), b1 (HIDDEN,), W2 (HIDDEN, 10), b2 (10,);
  logits = relu(pixels / 16 @ W1 + b1) @ W2 + b2
- HIDDEN = 0: W (64, 10), b (10,); logits = pixels / 16 @ W + b
"""

import numpy as np

EPOCHS = 100  # passes over the training rows
LEARNING_RATE = 0.005  # step size of gradient descent
BATCH_SIZE = 4  # rows per gradient step
HIDDEN = 128  # hidden units (0: a linear model)
INIT_SCALE = 0.1  # standard deviation of the initial weights
SEED = 0


def load(path: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, :64] / 16.0, data[:, 64].astype(np.int64)


def train(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    n, d = x.shape
    onehot = np.eye(10)[y]
    if HIDDEN > 0:
        params = {"W1": rng.normal(0.0, INIT_SCALE, (d, HIDDEN)), "b1": np.zeros(HIDDEN),
                  "W2": rng.normal(0.0, INIT_SCALE, (HIDDEN, 10)), "b2": np.zeros(10)}
    else:
        params = {"W": rng.normal(0.0, INIT_SCALE, (d, 10)), "b": np.zeros(10)}
    for _ in range(EPOCHS):
        order = rng.permutation(n)
        for start in range(0, n, BATCH_SIZE):
            rows = order[start:start + BATCH_SIZE]
            xb, tb = x[rows], onehot[rows]
            if HIDDEN > 0:
                h = np.maximum(xb @ params["W1"] + params["b1"], 0.0)
                logits = h @ params["W2"] + params["b2"]
            else:
                logits = xb @ params["W"] + params["b"]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            g = (p - tb) / len(rows)  # gradient of the mean cross-entropy w.r.t. the logits
            if HIDDEN > 0:
                gh = (g @ params["W2"].T) * (h > 0)
                params["W2"] -= LEARNING_RATE * h.T @ g
                params["b2"] -= LEARNING_RATE * g.sum(axis=0)
                params["W1"] -= LEARNING_RATE * xb.T @ gh
                params["b1"] -= LEARNING_RATE * gh.sum(axis=0)
            else:
                params["W"] -= LEARNING_RATE * xb.T @ g
                params["b"] -= LEARNING_RATE * g.sum(axis=0)
    return params


def accuracy(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    if "W1" in params:
        logits = np.maximum(x @ params["W1"] + params["b1"], 0.0) @ params["W2"] + params["b2"]
    else:
        logits = x @ params["W"] + params["b"]
    return float((logits.argmax(axis=1) == y).mean())


if __name__ == "__main__":
    x, y = load("train.csv")
    params = train(x, y)
    np.savez("model.npz", **params)
    print(f"training accuracy {accuracy(params, x, y):.4f}")
