"""Cart-pole balancing: choose a push from the observation, one call per time step.

act(observation) gets [x, x_dot, theta, theta_dot] (cart position in m, its velocity in m/s, pole
angle in radians from upright, positive to the right, its angular velocity in rad/s) and returns
0 (push the cart left) or 1 (push it right). The module may keep state between calls.
"""

import math
import random

W_X = 0.0  # weight of the cart position
W_V = 0.0  # weight of the cart velocity
W_THETA = 1.0  # weight of the pole angle
W_OMEGA = 0.0  # weight of the pole's angular velocity
BIAS = 0.0


def act(observation: list[float]) -> int:
    x, v, theta, omega = observation
    return 1 if W_X * x + W_V * v + W_THETA * theta + W_OMEGA * omega + BIAS > 0 else 0


def _episode(seed: int, max_steps: int = 500) -> int:
    """The classic dynamics (as the evaluator's): the number of steps before the pole falls."""
    gravity, cart, pole, half, force, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    rng = random.Random(seed)
    x, v, theta, omega = (rng.uniform(-0.05, 0.05) for _ in range(4))
    for step in range(1, max_steps + 1):
        f = force if act([x, v, theta, omega]) == 1 else -force
        cos, sin = math.cos(theta), math.sin(theta)
        temp = (f + pole * half * omega**2 * sin) / (cart + pole)
        alpha = (gravity * sin - cos * temp) / (half * (4.0 / 3.0 - pole * cos**2 / (cart + pole)))
        acc = temp - pole * half * alpha * cos / (cart + pole)
        x, v, theta, omega = x + tau * v, v + tau * acc, theta + tau * omega, omega + tau * alpha
        if abs(x) > 2.4 or abs(theta) > 12 * 2 * math.pi / 360:
            return step
    return max_steps


if __name__ == "__main__":
    lengths = [_episode(seed) for seed in range(10)]
    print(f"mean episode length {sum(lengths) / len(lengths):.1f} of 500: {lengths}")
