"""A CleanRL-style PPO (one file, plain PyTorch) measured on the quick suite's lock experiment.

The training loop below is ours, not Stable-Baselines3's: rlbench3 only plans the runs (the
``quick`` suite's ``lock-horizon`` experiment: horizons 2, 4, 8, 12, 20k env steps, per seed),
hands each run its env factory, budget, seed and settings (``agents/cleanrl_ppo.yaml``),
evaluates the policy it gets back by the suite's protocol (at every ``eval.every`` steps through
the callback, and at the end) and writes the records. SB3's PPO runs on the same plan into the
same results folder, and the swiss table shows the two side by side.

    python examples/cleanrl_ppo_lock.py                    # 5 seeds, results/quick
    python examples/cleanrl_ppo_lock.py --seeds 10 -r results/quick

Finished runs are skipped, so running it again (or after ``make bench``, which leaves SB3's PPO
runs in results/quick) only does what is missing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

from rlbench3.analysis.tables import render_results
from rlbench3.harness.external import suite_runs
from rlbench3.harness.sweep import run_suite

SUITE, EXPERIMENT, AGENT = "quick", "lock-horizon", "cleanrl_ppo"


# --------------------------------------------------------------------------------------------
# PPO, CleanRL style: hyperparameters in one place, the algorithm top to bottom


@dataclass(frozen=True)
class Args:
    """PPO's settings; the values come from agents/cleanrl_ppo.yaml (``run.hyperparams``)."""

    num_envs: int = 4  # env copies stepped together
    num_steps: int = 128  # steps per copy per rollout
    minibatch_size: int = 128
    update_epochs: int = 4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    clip_coef: float = 0.2
    max_grad_norm: float = 0.5
    learning_rate: float = 3.0e-4
    anneal_lr: bool = False
    hidden: int = 64


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias: float = 0.0) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


class Agent(nn.Module):
    """Separate actor and critic MLPs (tanh), orthogonal init; the actor's last layer gain 0.01."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: int):
        super().__init__()

        def mlp(out: int, std: float) -> nn.Sequential:
            return nn.Sequential(
                layer_init(nn.Linear(obs_dim, hidden)),
                nn.Tanh(),
                layer_init(nn.Linear(hidden, hidden)),
                nn.Tanh(),
                layer_init(nn.Linear(hidden, out), std=std),
            )

        self.critic, self.actor = mlp(1, 1.0), mlp(n_actions, 0.01)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def act(
        self, x: torch.Tensor, action: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        dist = Categorical(logits=self.actor(x))
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action), dist.entropy(), self.value(x)

    @torch.no_grad()
    def policy(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """The evaluated policy: a batch of observations -> a batch of actions, greedy (argmax)
        or sampled."""
        logits = self.actor(torch.as_tensor(obs, dtype=torch.float32))
        if deterministic:
            return logits.argmax(-1).numpy()
        return Categorical(logits=logits).sample().numpy()


def train(
    make_env: Callable[[], gym.Env],
    budget: int,
    seed: int,
    args: Args,
    callback: Callable[..., bool],
) -> Callable[..., np.ndarray]:
    """Train PPO for at most ``budget`` env steps; the final policy. ``callback(policy)`` is
    called before training and after every update (rlbench3 evaluates when a point is due)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    envs = gym.vector.SyncVectorEnv(
        [make_env for _ in range(args.num_envs)], autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
    )
    obs_dim = int(np.prod(envs.single_observation_space.shape))
    agent = Agent(obs_dim, int(envs.single_action_space.n), args.hidden)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    n, t = args.num_envs, args.num_steps
    batch = n * t
    iterations = budget // batch
    obs_buf = torch.zeros((t, n, obs_dim))
    actions, logprobs, values = torch.zeros((t, n)), torch.zeros((t, n)), torch.zeros((t, n))
    rewards, dones = torch.zeros((t, n)), torch.zeros((t, n))

    next_obs = torch.as_tensor(envs.reset(seed=seed)[0], dtype=torch.float32)
    next_done = torch.zeros(n)
    callback(agent.policy)  # the initial policy: the curve's first point
    for iteration in range(iterations):
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - iteration / iterations) * args.learning_rate
        for step in range(t):  # rollout
            obs_buf[step], dones[step] = next_obs, next_done
            with torch.no_grad():
                action, logprob, _, value = agent.act(next_obs)
            actions[step], logprobs[step], values[step] = action, logprob, value
            obs, reward, terminated, truncated, _ = envs.step(action.numpy())
            rewards[step] = torch.as_tensor(reward, dtype=torch.float32)
            next_obs = torch.as_tensor(obs, dtype=torch.float32)
            next_done = torch.as_tensor(np.logical_or(terminated, truncated), dtype=torch.float32)

        with torch.no_grad():  # generalized advantage estimation
            next_value = agent.value(next_obs)
            advantages = torch.zeros_like(rewards)
            last = torch.zeros(n)
            for step in reversed(range(t)):
                if step == t - 1:
                    nonterminal, following = 1.0 - next_done, next_value
                else:
                    nonterminal, following = 1.0 - dones[step + 1], values[step + 1]
                delta = rewards[step] + args.gamma * following * nonterminal - values[step]
                last = delta + args.gamma * args.gae_lambda * nonterminal * last
                advantages[step] = last
            returns = advantages + values

        b_obs, b_actions = obs_buf.reshape(batch, obs_dim), actions.reshape(batch)
        b_logprobs, b_adv = logprobs.reshape(batch), advantages.reshape(batch)
        b_returns = returns.reshape(batch)
        for _ in range(args.update_epochs):  # clipped-surrogate updates on minibatches
            order = rng.permutation(batch)
            for start in range(0, batch, args.minibatch_size):
                mb = order[start : start + args.minibatch_size]
                _, newlogprob, entropy, newvalue = agent.act(b_obs[mb], b_actions[mb].long())
                ratio = (newlogprob - b_logprobs[mb]).exp()
                adv = b_adv[mb]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                pg_loss = torch.max(
                    -adv * ratio, -adv * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)
                ).mean()
                v_loss = ((newvalue - b_returns[mb]) ** 2).mean()  # SB3's (CleanRL halves it)
                loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
        callback(agent.policy)
    envs.close()
    return agent.policy


# --------------------------------------------------------------------------------------------
# The benchmark


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-r", "--results", default=f"results/{SUITE}", help="results folder (default: %(default)s)"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=5,
        help="seeds per setting for both agents (the quick suite plans 10; default: %(default)s)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes for SB3's PPO runs (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    start = time.perf_counter()
    sb3 = run_suite(
        SUITE,
        args.results,
        agents=["ppo"],
        experiments=[EXPERIMENT],
        seeds=args.seeds,
        workers=args.workers,
    )
    print(
        f"SB3 PPO: {sb3.report.finished} runs now, {sb3.report.skipped} already finished "
        f"({time.perf_counter() - start:.0f} s)"
    )

    start = time.perf_counter()
    runs = suite_runs(SUITE, AGENT, args.results, experiments=[EXPERIMENT], seeds=args.seeds)
    for run in runs:
        settings = Args(num_envs=run.n_envs, **run.hyperparams)
        policy = train(run.make_env, run.budget, run.seed, settings, run.evaluate_if_due)
        run.finish(policy)
        print(f"  {run.config.label}, seed {run.seed}: {run.steps} steps")
    print(
        f"CleanRL-style PPO: {runs.report.finished} runs now, {runs.report.skipped} already "
        f"finished ({time.perf_counter() - start:.0f} s)"
    )

    planned = {config.run_id for config in sb3.runs} | {config.run_id for config in runs.runs}
    print(
        f"\n{EXPERIMENT} of the {SUITE} suite, seeds per setting: {args.seeds} (the suite plans "
        "10): SB3's PPO (ppo) and the CleanRL-style PPO (cleanrl_ppo), same settings\n"
    )
    print(render_results(args.results, "swiss", run_ids=planned))


if __name__ == "__main__":
    main()
