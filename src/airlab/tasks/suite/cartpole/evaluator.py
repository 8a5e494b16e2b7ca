"""Cart-pole balancing with a candidate's policy, on the classic dynamics simulated here.

The dynamics are those of Barto, Sutton & Anderson (1983) as in Gym's CartPole-v1: gravity
9.8 m/s^2, cart mass 1.0 kg, pole mass 0.1 kg, pole half-length 0.5 m, push force 10 N, time step
0.02 s, explicit Euler integration. An episode starts from [x, x_dot, theta, theta_dot] drawn
uniformly in +-0.05, seeded by the episode's number and the role's seed, and ends when |x| > 2.4
or |theta| > 12 degrees, or after 500 steps. Each step calls the candidate's ``act(observation)``
once; its length is the number of steps taken (the failing step included, as Gym's reward). A
role's score is the mean length over its episodes (higher is better; 500 is the optimum).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from airlab.tasks.program.harness import Candidate, Rejected, RoleSet

PHYSICS: dict[str, float] = {
    "gravity": 9.8, "cart_mass": 1.0, "pole_mass": 0.1, "pole_half_length": 0.5, "force": 10.0, "tau": 0.02,
    "x_limit": 2.4, "theta_limit_degrees": 12.0, "initial_range": 0.05, "max_steps": 500,
}


def start(episode: int, role_seed: int, initial_range: float) -> list[float]:
    rng = np.random.default_rng([int(role_seed), int(episode)])
    return [float(v) for v in rng.uniform(-initial_range, initial_range, 4)]


def step(state: list[float], action: int, p: dict[str, float]) -> list[float]:
    """One Euler step of the classic equations."""
    x, v, theta, omega = state
    total = p["cart_mass"] + p["pole_mass"]
    pole_moment = p["pole_mass"] * p["pole_half_length"]
    force = p["force"] if action == 1 else -p["force"]
    cos, sin = math.cos(theta), math.sin(theta)
    temp = (force + pole_moment * omega * omega * sin) / total
    alpha = (p["gravity"] * sin - cos * temp) / (p["pole_half_length"] * (4.0 / 3.0 - p["pole_mass"] * cos * cos / total))
    acc = temp - pole_moment * alpha * cos / total
    tau = p["tau"]
    return [x + tau * v, v + tau * acc, theta + tau * omega, omega + tau * alpha]


def _action(answer: Any) -> int:
    if isinstance(answer, bool) or (type(answer) is int and answer in (0, 1)):
        return int(answer)
    raise Rejected(f"act() returned {str(answer)[:40]}; it must return 0 (push left) or 1 (push right)")


def episode(session: Any, state: list[float], p: dict[str, float]) -> int:
    """Steps until the pole falls or the cart leaves the track, at most max_steps."""
    theta_limit = p["theta_limit_degrees"] * 2 * math.pi / 360
    max_steps = int(p["max_steps"])
    for t in range(1, max_steps + 1):
        state = step(state, _action(session.call("act", state)), p)
        if abs(state[0]) > p["x_limit"] or abs(state[2]) > theta_limit:
            return t
    return max_steps


def evaluate(candidate: Candidate, role: RoleSet) -> float:
    """Mean episode length over the role's episodes."""
    unknown = set(role.settings) - set(PHYSICS)
    if unknown:
        raise ValueError(f"unknown cart-pole settings: {', '.join(sorted(unknown))}")
    p = PHYSICS | {k: float(v) for k, v in role.settings.items()}
    lengths = []
    with candidate.connect("policy.py") as session:
        for number in role.instances:
            lengths.append(episode(session, start(number, role.seed, p["initial_range"]), p))
    return float(np.mean(lengths))
