#!/usr/bin/env python3
"""The SAC-ERA update as the authors released it (and era's SAC on the same networks), in JAX.

Written from the facts the ERA reference lists about the authors' released JAX code, not copied
from it: an actor Dense(W) -> ELU -> Dense(W) -> ELU -> [means, raw log-std scores]; ERA's activation
log std = k softmax(raw) + log std_max, k = -D (log std_max - H0/D + log sqrt(2 pi e)), clipped to
[-8, 0]; the policy a normal around clip(tanh(mean), +-(1 - 1e-6)) with scale max(std, 1e-6),
truncated to +-(1 - 1e-6) and sampled by its inverse CDF; twin critics Dense(W) -> LayerNorm -> ELU,
twice, -> Dense(1); the critics' loss sum_i (Q_i - y)^2 averaged with y = r + gamma mask min target
Q(s', a'), AdamW (3e-4, weight decay 1e-4); the actor's loss -min Q(s, a) through the updated
critics, Adam (3e-4); Polyak tau = 0.005. There is no delta and no temperature (delta = 0). SAC
(--era off) is era's: the same networks, a tanh-squashed normal whose log std is squashed into
[-5, 2], and alpha learned towards -D.

Two uses:

* Timing, `era bench control --algo sac --backend fast --against jax` (through the venv that
  `scripts/setup-jax.sh` makes), or alone:

      python3 native/peers/jax_sac_update.py --width 512 --updates 2000 --era on

  obs 17, action 6, batch 256 gathered from a 100 000-transition buffer of random transitions inside
  the compiled update; `--per-call` updates run inside one compiled call (`lax.fori_loop`), JAX at its
  fastest. Prints one line, `<rate> updates/s`, after one warm-up call (compilation included there).

* Parity, `--parity IN OUT`: IN is a safetensors file that era's parity test writes (initial
  parameters flat in era's layout, and for each update its batch and uniform noise); the same updates
  run here and the final parameters are written to OUT for the test to compare.
"""
import argparse
import json
import math
import struct
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erfinv

jax.config.update("jax_default_matmul_precision", "highest")

OBS, ACT, BATCH, BUFFER = 17, 6, 256, 100_000
LOG_SQRT_2PI_E = 0.5 * math.log(2 * math.pi * math.e)
LOG_STD_MIN, LOG_STD_MAX = -8.0, 0.0  # SAC-ERA's clip
SAC_LOG_STD_MIN, SAC_LOG_STD_MAX = -5.0, 2.0  # era's SAC squash
EPS = 1e-6  # the released truncation's constant
LN_EPS = 1e-6  # flax's LayerNorm epsilon


class Settings:
    """The update's hyperparameters (the released values unless the parity file says otherwise)."""

    def __init__(self, meta=None):
        meta = meta or {}
        get = lambda k, d: float(meta.get(k, d))
        self.gamma, self.tau = get("gamma", 0.99), get("tau", 0.005)
        self.actor_lr, self.critic_lr = get("actor_lr", 3e-4), get("critic_lr", 3e-4)
        self.weight_decay, self.alpha_lr = get("critic_weight_decay", 1e-4), get("alpha_lr", 3e-4)
        self.h0 = get("h0", 0.25 * ACT)


# ---- networks: parameters as lists of layers, each [kernel, bias] or [kernel, bias, scale, shift] ----

def dense(layer, x):
    return x @ layer[0] + layer[1]


def layer_norm(layer, x):
    mean = jnp.mean(x, -1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), -1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + LN_EPS) * layer[2] + layer[3]


def network(layers, x):
    """Dense -> [LayerNorm] -> ELU for every hidden layer, then Dense."""
    for layer in layers[:-1]:
        x = dense(layer, x)
        if len(layer) == 4:
            x = layer_norm(layer, x)
        x = jax.nn.elu(x)
    return dense(layers[-1], x)


def twin_q(critics, obs, action):
    x = jnp.concatenate([obs, action], -1)
    return network(critics[0], x)[:, 0], network(critics[1], x)[:, 0]


def cdf(x):
    return 0.5 * (1.0 + jax.scipy.special.erf(x / jnp.sqrt(2.0)))


def era_log_std(raw, h0):
    k = -(ACT * (LOG_STD_MAX + LOG_SQRT_2PI_E) - h0)
    return jnp.clip(k * jax.nn.softmax(raw, axis=-1) + LOG_STD_MAX, LOG_STD_MIN, LOG_STD_MAX)


def released_sample(mean, log_std, u):
    """The released truncated normal, sampled by its inverse CDF at the uniforms u."""
    low, high = -1.0 + EPS, 1.0 - EPS
    loc = jnp.clip(jnp.tanh(mean), low, high)
    scale = jnp.maximum(jnp.exp(log_std), EPS)
    a, b = (low - loc) / scale, (high - loc) / scale
    alpha, beta = cdf(a), cdf(b)
    mass = jnp.maximum(beta - alpha, EPS)
    p = jnp.clip(alpha + mass * jnp.clip(u, EPS, 1.0 - EPS), EPS, 1.0 - EPS)
    sample = jnp.clip(loc + scale * jnp.sqrt(2.0) * erfinv(2.0 * p - 1.0), low + EPS, high - EPS)
    z = (sample - loc) / scale
    log_prob = jnp.clip(-0.5 * z * z - 0.5 * jnp.log(2 * jnp.pi) - jnp.log(scale) - jnp.log(mass), -20.0, 20.0)
    return sample, log_prob.sum(-1)


def act(actor, obs, noise, era, h0):
    """Sampled actions and their log-densities: SAC-ERA's truncated normal (noise: uniforms) or
    SAC's tanh-squashed normal (noise: standard normals)."""
    out = network(actor, obs)
    mean, raw = out[:, :ACT], out[:, ACT:]
    if era:
        return released_sample(mean, era_log_std(raw, h0), noise)
    log_std = SAC_LOG_STD_MIN + 0.5 * (SAC_LOG_STD_MAX - SAC_LOG_STD_MIN) * (jnp.tanh(raw) + 1)
    u = mean + jnp.exp(log_std) * noise
    log_one_minus_tanh_sq = 2 * (math.log(2) - u - jax.nn.softplus(-2 * u))
    normal = -0.5 * jnp.square((u - mean) / jnp.exp(log_std)) - log_std - 0.5 * math.log(2 * math.pi)
    return jnp.tanh(u), jnp.sum(normal - log_one_minus_tanh_sq, axis=-1)


# ---- optimisers ----

def adam_init(params):
    zeros = lambda: jax.tree.map(jnp.zeros_like, params)
    return zeros(), zeros(), jnp.zeros((), jnp.int32)


def adam(params, grads, state, lr, weight_decay=0.0):
    """optax's adam (weight_decay 0) or adamw: p <- p - lr (m_hat / (sqrt(v_hat) + eps) + wd p)."""
    m, v, t = state
    t = t + 1
    m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
    v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
    c1, c2 = 1 - 0.9**t, 1 - 0.999**t
    step = lambda p, m, v: p - lr * ((m / c1) / (jnp.sqrt(v / c2) + 1e-8) + weight_decay * p)
    return jax.tree.map(step, params, m, v), (m, v, t)


# ---- the update ----

def update(state, batch, noise_next, noise, era, s):
    """One update: the critics, then the actor through the updated critics, then (SAC) log alpha,
    then the Polyak step of the targets."""
    actor, critics, targets, log_alpha, (critic_opt, actor_opt, alpha_opt) = state
    obs, action, reward, next_obs, mask = batch
    alpha = 0.0 if era else jnp.exp(log_alpha)

    next_action, next_log_prob = act(actor, next_obs, noise_next, era, s.h0)
    t1, t2 = twin_q(targets, next_obs, next_action)
    soft = 0.0 if era else alpha * next_log_prob
    target = jax.lax.stop_gradient(reward + s.gamma * mask * (jnp.minimum(t1, t2) - soft))

    def critic_loss(c):
        q1, q2 = twin_q(c, obs, action)
        return jnp.mean(jnp.square(q1 - target) + jnp.square(q2 - target))

    critics, critic_opt = adam(critics, jax.grad(critic_loss)(critics), critic_opt, s.critic_lr, s.weight_decay)

    def actor_loss(a):
        sampled, log_prob = act(a, obs, noise, era, s.h0)
        q1, q2 = twin_q(jax.lax.stop_gradient(critics), obs, sampled)
        return jnp.mean(alpha * log_prob - jnp.minimum(q1, q2)), log_prob

    actor_grads, log_prob = jax.grad(actor_loss, has_aux=True)(actor)
    actor, actor_opt = adam(actor, actor_grads, actor_opt, s.actor_lr)
    if not era:
        gap = -jnp.mean(jax.lax.stop_gradient(log_prob) - ACT)
        log_alpha, alpha_opt = adam(log_alpha, gap, alpha_opt, s.alpha_lr)
    targets = jax.tree.map(lambda t, c: (1 - s.tau) * t + s.tau * c, targets, critics)
    return actor, critics, targets, log_alpha, (critic_opt, actor_opt, alpha_opt)


def init_state(actor, critics, targets):
    return actor, critics, targets, jnp.zeros(()), (adam_init(critics), adam_init(actor), adam_init(jnp.zeros(())))


# ---- era's flat layout <-> layers ----

def unflatten(flat, sizes, normed):
    """Per layer: kernel [in, out] row-major, bias, then (normed hidden layers) LayerNorm scale, shift."""
    layers, at = [], 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        take = lambda n: flat[at:at + n]
        kernel = take(n_in * n_out).reshape(n_in, n_out)
        at += n_in * n_out
        layer = [kernel, take(n_out)]
        at += n_out
        if normed and i + 2 < len(sizes):
            layer += [take(n_out), flat[at + n_out:at + 2 * n_out]]
            at += 2 * n_out
        layers.append([jnp.asarray(x) for x in layer])
    assert at == len(flat), f"{at} values used of {len(flat)}: the layout does not match the sizes"
    return layers


def flatten(layers):
    return np.concatenate([np.asarray(x, np.float32).ravel() for layer in layers for x in layer])


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], np.float32).reshape(info["shape"])
    return tensors, meta


def write_safetensors(path, tensors):
    header, blobs, at = {}, [], 0
    for name, values in tensors.items():
        b = np.ascontiguousarray(values, np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(values.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def parity(src, dst):
    global OBS, ACT
    t, meta = read_safetensors(src)
    OBS, ACT = int(meta["obs_dim"]), int(meta["act_dim"])
    hidden = json.loads(meta["hidden"])
    era, normed, updates = meta["era"] == "true", meta["critic_norm"] == "layer", int(meta["updates"])
    s = Settings(meta)
    actor_sizes, critic_sizes = [OBS, *hidden, 2 * ACT], [OBS + ACT, *hidden, 1]
    actor = unflatten(t["actor"], actor_sizes, False)
    critics = [unflatten(t[f"critic{k}"], critic_sizes, normed) for k in (1, 2)]
    targets = [unflatten(t[f"target{k}"], critic_sizes, normed) for k in (1, 2)]
    state = init_state(actor, critics, targets)
    state = state[:3] + (jnp.asarray(t["scalar"][0]),) + state[4:]
    step = jax.jit(lambda st, b, nn, n: update(st, b, nn, n, era, s))
    for i in range(updates):
        g = lambda k: jnp.asarray(t[f"{k}.{i}"])
        batch = (g("obs"), g("actions"), g("rewards"), g("next_obs"), g("masks"))
        state = step(state, batch, g("noise_next"), g("noise"))
    actor, critics, targets, log_alpha, _ = state
    out = {"actor": flatten(actor), "scalar": np.asarray([log_alpha], np.float32)}
    for k in (0, 1):
        out[f"critic{k + 1}"], out[f"target{k + 1}"] = flatten(critics[k]), flatten(targets[k])
    write_safetensors(dst, out)


def timing(args):
    era = args.era == "on"
    s = Settings()
    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    uniform = lambda k, shape: jax.random.uniform(k, shape, minval=-1.0, maxval=1.0)
    buffer = (uniform(keys[0], (BUFFER, OBS)), uniform(keys[1], (BUFFER, ACT)), uniform(keys[2], (BUFFER,)),
              uniform(keys[3], (BUFFER, OBS)), jnp.ones(BUFFER))
    init = jax.nn.initializers.orthogonal(math.sqrt(2))

    def net(key, sizes, normed):
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layer = [init(jax.random.fold_in(key, i), (n_in, n_out)), jnp.zeros(n_out)]
            if normed and i + 2 < len(sizes):
                layer += [jnp.ones(n_out), jnp.zeros(n_out)]
            layers.append(layer)
        return layers

    hidden = [args.width, args.width]
    actor = net(keys[4], [OBS, *hidden, 2 * ACT], False)
    critics = [net(jax.random.fold_in(keys[5], k), [OBS + ACT, *hidden, 1], True) for k in range(2)]
    state = (init_state(actor, critics, jax.tree.map(jnp.copy, critics)), keys[6])

    def one(carry, data):
        state, key = carry
        key, k_batch, k_next, k_now = jax.random.split(key, 4)
        rows = jax.random.randint(k_batch, (BATCH,), 0, BUFFER)
        batch = tuple(x[rows] for x in data)
        draw = (lambda k: jax.random.uniform(k, (BATCH, ACT))) if era else (lambda k: jax.random.normal(k, (BATCH, ACT)))
        return update(state, batch, draw(k_next), draw(k_now), era, s), key

    per_call = min(args.per_call, args.updates)
    calls = -(-args.updates // per_call)
    run = jax.jit(lambda c, b: jax.lax.fori_loop(0, per_call, lambda _, c: one(c, b), c), donate_argnums=0)
    state = jax.block_until_ready(run(state, buffer))
    start = time.perf_counter()
    for _ in range(calls):
        state = run(state, buffer)
    jax.block_until_ready(state)
    print(f"{calls * per_call / (time.perf_counter() - start):.3f} updates/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=256, help="hidden width (two layers)")
    parser.add_argument("--updates", type=int, default=2000, help="updates timed")
    parser.add_argument("--era", choices=["on", "off"], default="on", help="SAC-ERA or SAC")
    parser.add_argument("--per-call", type=int, default=50, help="updates per compiled call")
    parser.add_argument("--parity", nargs=2, metavar=("IN", "OUT"), help="run the updates in IN, write OUT")
    args = parser.parse_args()
    if args.parity:
        parity(*args.parity)
        return
    if args.width < 1 or args.updates < 1 or args.per_call < 1:
        parser.error("--width, --updates and --per-call must be at least 1")
    timing(args)


if __name__ == "__main__":
    main()
