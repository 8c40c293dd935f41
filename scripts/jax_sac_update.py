#!/usr/bin/env python3
"""The SAC / SAC-ERA update of `era bench control --algo sac` in JAX, compiled end to end.

`era bench control --algo sac --backend fast --against jax` runs this (through the venv that
`scripts/setup-jax.sh` makes) side by side with era's fast path; it can also be run alone:

    python3 scripts/jax_sac_update.py --width 512 --updates 2000 --era on

The same update as era's: obs 17, action 6, batch 256 drawn from a 100 000-transition buffer of
random transitions, twin Q networks and an actor, MLPs with two hidden ReLU layers, Adam (lr 3e-4),
Polyak tau 0.005, gamma 0.99, the actor's loss -min Q (+ alpha log pi for SAC) with the critics not
differentiated, and the scalar (SAC-ERA's delta, SAC's log alpha) learned from the same log-densities.
The policies are era's: SAC-ERA draws from a normal around tanh(mean), truncated to [-1, 1], whose
log-stds come from ERA's activation; SAC squashes a normal through tanh, its log-stds squashed into
[-5, 2]. The batch is gathered from the buffer inside the compiled update.

JAX at its fastest: `--per-call` updates run inside one compiled call (`lax.fori_loop`), which
measured about 10 % faster than one call per update. Prints one line, `<rate> updates/s`, after one warm-up
call (compilation included there).
"""
import argparse
import math
import time

import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

OBS, ACT, BATCH, BUFFER = 17, 6, 256, 100_000
GAMMA, TAU, LR = 0.99, 0.005, 3e-4
LOG_SQRT_2PI_E = 0.5 * math.log(2 * math.pi * math.e)
LOG_STD_MIN, LOG_STD_MAX = -8.0, 0.0  # SAC-ERA's bounds
SAC_LOG_STD_MIN, SAC_LOG_STD_MAX = -5.0, 2.0


def mlp_init(key, sizes):
    """Uniform(+-1/sqrt(fan_in)) weights, zero biases."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / math.sqrt(fan_in)
        w = jax.random.uniform(jax.random.fold_in(key, i), (fan_in, fan_out), minval=-bound, maxval=bound)
        layers.append((w, jnp.zeros(fan_out)))
    return layers


def mlp(layers, x):
    for w, b in layers[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = layers[-1]
    return x @ w + b


def adam_init(params):
    zeros = lambda: jax.tree.map(jnp.zeros_like, params)
    return zeros(), zeros(), jnp.zeros((), jnp.int32)


def adam(params, grads, state):
    m, v, t = state
    t = t + 1
    m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
    v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
    c1, c2 = 1 - 0.9**t, 1 - 0.999**t
    params = jax.tree.map(lambda p, m, v: p - LR * (m / c1) / (jnp.sqrt(v / c2) + 1e-8), params, m, v)
    return params, (m, v, t)


def act(actor, obs, key, era, delta):
    """Sampled actions and their log-densities."""
    out = mlp(actor, obs)
    mean, raw = out[:, :ACT], out[:, ACT:]
    if not era:
        # SAC: a = tanh(u), u ~ N(mean, std), with the change of variables' log-determinant.
        log_std = SAC_LOG_STD_MIN + 0.5 * (SAC_LOG_STD_MAX - SAC_LOG_STD_MIN) * (jnp.tanh(raw) + 1)
        u = mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)
        log_one_minus_tanh_sq = 2 * (math.log(2) - u - jax.nn.softplus(-2 * u))
        log_prob = jnp.sum(norm.logpdf(u, mean, jnp.exp(log_std)) - log_one_minus_tanh_sq, axis=-1)
        return jnp.tanh(u), log_prob
    # SAC-ERA: the log-stds share a fixed entropy budget H0 + delta (H0 = -D); the normal around
    # tanh(mean) is truncated to [-1, 1].
    mu = jnp.tanh(mean)
    budget = -ACT + delta - ACT * LOG_SQRT_2PI_E - ACT * LOG_STD_MAX
    log_std = jnp.clip(LOG_STD_MAX + budget * jax.nn.softmax(raw, axis=-1), LOG_STD_MIN, LOG_STD_MAX)
    std = jnp.exp(log_std)
    lo, hi = (-1 - mu) / std, (1 - mu) / std
    z = jax.random.truncated_normal(key, lo, hi)
    mass = jnp.maximum(norm.cdf(hi) - norm.cdf(lo), 1e-12)
    log_prob = jnp.sum(norm.logpdf(z) - log_std - jnp.log(mass), axis=-1)
    return mu + std * z, log_prob


def twin_q(critics, obs, action):
    x = jnp.concatenate([obs, action], -1)
    return mlp(critics[0], x)[:, 0], mlp(critics[1], x)[:, 0]


def update(state, buffer, era):
    actor, critics, targets, scalar, (critic_opt, actor_opt, scalar_opt), key = state
    key, k_batch, k_next, k_now = jax.random.split(key, 4)
    rows = jax.random.randint(k_batch, (BATCH,), 0, BUFFER)
    obs, action, reward, next_obs, done = (x[rows] for x in buffer)
    delta = scalar if era else 0.0
    alpha = 0.0 if era else jnp.exp(scalar)

    next_action, next_log_prob = act(actor, next_obs, k_next, era, delta)
    t1, t2 = twin_q(targets, next_obs, next_action)
    target = jax.lax.stop_gradient(reward + GAMMA * (1 - done) * (jnp.minimum(t1, t2) - alpha * next_log_prob))

    def critic_loss(c):
        q1, q2 = twin_q(c, obs, action)
        return jnp.mean((q1 - target) ** 2) + jnp.mean((q2 - target) ** 2)

    def actor_loss(a):
        sampled, log_prob = act(a, obs, k_now, era, delta)
        q1, q2 = twin_q(jax.lax.stop_gradient(critics), obs, sampled)
        return jnp.mean(alpha * log_prob - jnp.minimum(q1, q2)), log_prob

    critic_grads = jax.grad(critic_loss)(critics)
    actor_grads, log_prob = jax.grad(actor_loss, has_aux=True)(actor)
    critics, critic_opt = adam(critics, critic_grads, critic_opt)
    actor, actor_opt = adam(actor, actor_grads, actor_opt)
    log_prob = jax.lax.stop_gradient(log_prob)
    # SAC-ERA: delta follows the entropy gap to H0 = -D; SAC: log alpha towards the target entropy -D.
    gap = jnp.mean(-log_prob + ACT) if era else -jnp.mean(log_prob - ACT)
    scalar, scalar_opt = adam(scalar, gap, scalar_opt)
    if era:
        # delta stays where H0 + delta is reachable: [0, D (log sqrt(2 pi e) + log_std_max) - H0].
        scalar = jnp.clip(scalar, 0.0, ACT * (LOG_SQRT_2PI_E + LOG_STD_MAX) + ACT)
    targets = jax.tree.map(lambda t, c: (1 - TAU) * t + TAU * c, targets, critics)
    return actor, critics, targets, scalar, (critic_opt, actor_opt, scalar_opt), key


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=256, help="hidden width (two layers)")
    parser.add_argument("--updates", type=int, default=2000, help="updates timed")
    parser.add_argument("--era", choices=["on", "off"], default="on", help="SAC-ERA or SAC")
    parser.add_argument("--per-call", type=int, default=50, help="updates per compiled call")
    args = parser.parse_args()
    if args.width < 1 or args.updates < 1 or args.per_call < 1:
        parser.error("--width, --updates and --per-call must be at least 1")
    era = args.era == "on"
    keys = jax.random.split(jax.random.PRNGKey(0), 7)
    uniform = lambda k, shape: jax.random.uniform(k, shape, minval=-1.0, maxval=1.0)
    buffer = (uniform(keys[0], (BUFFER, OBS)), uniform(keys[1], (BUFFER, ACT)), uniform(keys[2], (BUFFER,)),
              uniform(keys[3], (BUFFER, OBS)), jnp.zeros(BUFFER))
    hidden = [args.width, args.width]
    actor = mlp_init(keys[4], [OBS, *hidden, 2 * ACT])
    critics = [mlp_init(jax.random.fold_in(keys[5], i), [OBS + ACT, *hidden, 1]) for i in range(2)]
    targets = jax.tree.map(jnp.copy, critics)
    scalar = jnp.zeros(())
    state = (actor, critics, targets, scalar, (adam_init(critics), adam_init(actor), adam_init(scalar)), keys[6])

    per_call = min(args.per_call, args.updates)
    calls = -(-args.updates // per_call)
    run = jax.jit(lambda s, b: jax.lax.fori_loop(0, per_call, lambda _, s: update(s, b, era), s), donate_argnums=0)
    state = jax.block_until_ready(run(state, buffer))
    start = time.perf_counter()
    for _ in range(calls):
        state = run(state, buffer)
    jax.block_until_ready(state)
    print(f"{calls * per_call / (time.perf_counter() - start):.3f} updates/s")


if __name__ == "__main__":
    main()
