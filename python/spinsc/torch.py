"""spinsc.torch: PyTorch modules for spinsc networks, SC inference and training with SC noise.

Needs PyTorch (Debian: python3-torch; CPU tensors). Three parts (docs/python.md, "spinsc.torch"):

Conversion (exact weights, digital forward to float rounding)
  SpinscNet(architecture, states=5, mode="qat")    a torch.nn.Module of spinsc's forward rule
  to_torch(network) / SpinscNet.from_network(net)  a spinsc.Network (or model file) as a module
  to_network(module) / module.to_network()         back to a spinsc.Network (bit-identical)
  QuantLinear, QuantConv2d, Stage                  its pieces; QuantLinear.from_module(nn.Linear)
  quantize_weight, quantize_activation             spinsc's quantizers with straight-through
                                                   gradients

SC inference through the C++ engine (exact: the engine's own bits or binomial shortcut)
  ScInference(network, length=100, source="smtj", ..., exact_bits=False)
      forward(x) -> (N, classes) SC output values; numpy zero-copy in and out, GIL released

Training with SC (moment-matched: same variance as the library's noise model, Gaussian draws)
  ScNoise(length=16, source="smtj", states=5)      spinsc.ScNoiseModel's variance per
                                                   pre-activation, drawn as Gaussian noise
  module.set_noise(ScNoise(...))                   every weight layer adds it to u = W_q x

Example
  >>> import torch, spinsc, spinsc.torch as st
  >>> model = st.SpinscNet("784,128,10", states=5)
  >>> model.set_noise(st.ScNoise(length=16, source="smtj", states=5))
  >>> # ... a usual torch training loop on x = st.inputs_from_pixels(images) ...
  >>> net = model.to_network()                   # a spinsc.Network: save(), sc_accuracy(), ...
  >>> sc = st.ScInference(net, length=16, source="smtj")
  >>> scores = sc(torch.from_numpy(test_images[:100]))

What is exact and what is not
  * Weights, biases, gains and scales convert both ways bit for bit; the quantized weights W_q and
    the quantizer rules (round half away from zero, the same float32 operations) are the
    library's. The products and sums run in torch's order, not the library's, so pre-activations
    differ by float rounding (at most about n * 2^-24 * sum |w_q x| for a fan-in n); a hidden
    activation can then land on the neighbouring level when its pre-activation lies within that
    margin of a rounding threshold. The tests bound this per stage (test_torch.py).
  * ScInference is the library's SC engine: its outputs are exactly those of
    spinsc.ScEngine / `spinsc eval --sc-length` for the same seed, image index and repeat.
  * ScNoise is moment-matched: the noise added to each pre-activation has exactly the variance
    that spinsc.ScNoiseModel computes (the model of `spinsc train --mode sc`; tested against the
    bit-level engine in the library and here), but its draws are Gaussian from torch's
    generator, not the library's draws and not bit-level streams; conv2d positions get
    independent draws (the correlation between positions through shared input streams is not
    modelled, as in the library). Its gradient through the noise's standard deviation follows
    the library's variance-gradient rule (the i.i.d. part of the variance).
"""

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as _e:  # pragma: no cover - exercised by test_torch_missing
    raise ImportError(
        "spinsc.torch needs PyTorch, which is not installed for this interpreter "
        "(Debian: apt-get install python3-torch; scripts/setup.sh installs it). The rest of "
        "spinsc works without it.") from _e

import numpy as np

from . import _spinsc

__all__ = [
    "QuantConv2d",
    "QuantLinear",
    "ScInference",
    "ScNoise",
    "SpinscNet",
    "Stage",
    "inputs_from_pixels",
    "quantize_activation",
    "quantize_weight",
    "round_half_away",
    "to_network",
    "to_torch",
]


# ------------------------------------------------------------------------------------- inputs

_INV255 = np.float32(1.0) / np.float32(255.0)  # float32(1/255), the factor of the library's pixel()


def inputs_from_pixels(images):
    """Model inputs from uint8 pixel bytes (a numpy array or tensor, any shape): a float32 tensor
    byte * float32(1/255), exactly the library's Dataset::pixel() (byte / 255 rounds differently
    in some pixels, and an input one ulp off can draw other stream bits). Shares no memory with
    `images`."""
    t = images if isinstance(images, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(images))
    if t.dtype != torch.uint8:
        raise TypeError(f"inputs_from_pixels expects uint8 pixel bytes, got {t.dtype}")
    return t.to(torch.float32) * float(_INV255)


# ----------------------------------------------------------------------------------- quantizers

def round_half_away(x):
    """Round to the nearest integer, ties away from zero (C's round(), which spinsc uses;
    torch.round rounds ties to even). Exact in any float dtype."""
    r = torch.round(x)
    t = torch.trunc(x)
    tie = (x - t).abs() == 0.5
    return torch.where(tie, t + torch.sign(x), r)


class _RoundSTE(torch.autograd.Function):
    """round_half_away forward, identity backward (straight-through)."""

    @staticmethod
    def forward(ctx, x):
        return round_half_away(x)

    @staticmethod
    def backward(ctx, g):
        return g


def quantize_weight(weight, scale, states):
    """spinsc's weight quantizer w_q = s Q_K(clip(w/s, -1, 1)) with straight-through gradients.

    The same float operations as the library's quantize_weight (w / s, clamp, * (K-1)/2, round
    half away, then s * q * 2 / (K-1)), so float32 inputs give bit-identical W_q. Gradients:
    dW_q/dW = 1 where |w/s| <= 1 and 0 beyond; dW_q/ds is LSQ's (q/h - w/s inside, sign(w)
    outside), as the C++ trainer's learned scale.
    """
    half = 0.5 * (states - 1)
    u = torch.clamp(weight / scale, -1.0, 1.0)
    q = _RoundSTE.apply(u * half)
    return scale * q * 2.0 / (states - 1)


def quantize_activation(z, states):
    """spinsc's hidden activation a = Q_K(clip(z, 0, 1)) on K levels k/(K-1), straight-through:
    da/dz = 1 inside 0 < z < 1, 0 outside (the clipping), the rounding passes the gradient."""
    k = _RoundSTE.apply(torch.clamp(z, 0.0, 1.0) * float(states - 1))
    return k / float(states - 1)


# ------------------------------------------------------------------------------------ SC noise

class ScNoise:
    """The moment-matched SC noise of spinsc's training mode "sc", for torch weight layers.

    ScNoise(length=16, source="smtj", states=5, variance_gradient=True, generator=None, threads=0)

    For a layer's input rows x (probabilities in [0, 1]) and quantized weights W_q with scale s,
    sample(x, w_q, s) returns sigma * eps with sigma^2 = spinsc.ScNoiseModel(source, length,
    states).variance(x, w_q, s): the variance of the engine's estimate s C_j / L of u_j under the
    default layout (sign-magnitude AND, APC, broadcast inputs, one weight SNG per synapse),
    including the autocorrelation of s-MTJ streams (docs/training.md gives the formula). eps is
    standard normal from `generator` (a torch.Generator; None: torch's default). With
    variance_gradient the backward pass also follows sigma through its i.i.d. part
    (s^2/L) sum_i p (1 - p), p = x_i |w_ij| / s, as the library's trainer does; the noise value
    itself is treated as a constant otherwise (straight-through).

    The variance is computed by the library on CPU (GIL released); the draws are torch's.
    """

    def __init__(self, length=16, source="smtj", states=5, *, variance_gradient=True, generator=None, threads=0):
        self.length = int(length)
        self.source = source
        self.states = int(states)
        self.variance_gradient = bool(variance_gradient)
        self.generator = generator
        self.threads = int(threads)
        self.model = _spinsc.ScNoiseModel(source, self.length, self.states)

    def __repr__(self):
        src = self.source if isinstance(self.source, str) else self.source.name
        return f"spinsc.torch.ScNoise(length={self.length}, source={src!r}, states={self.states})"

    def variance(self, x, w_q, scale):
        """Var(s C_j / L) per row and neuron as a float64 tensor (rows, out), from the library."""
        xa = x.detach().to("cpu", torch.float32).contiguous().numpy()
        wa = w_q.detach().to("cpu", torch.float32).contiguous().numpy()
        return torch.from_numpy(self.model.variance(xa, wa, float(scale), self.threads))

    def sample(self, x, w_q, scale):
        """Noise for u = x @ w_q.T: a tensor (rows, out) of x's dtype with the variance above."""
        var = self.variance(x, w_q, scale).to(device=x.device, dtype=x.dtype)
        sigma = var.sqrt()
        eps = torch.randn(var.shape, generator=self.generator, dtype=x.dtype).to(x.device)
        noise = sigma * eps
        if self.variance_gradient and (x.requires_grad or w_q.requires_grad):
            s = torch.as_tensor(scale).detach().to(x.dtype)
            a = (w_q.abs() / s).clamp(max=1.0)
            v_iid = (s * s / self.length) * (x @ a.t() - (x * x) @ (a * a).t())
            coef = torch.where(sigma > 0, eps / (2.0 * sigma.clamp(min=1e-30)), torch.zeros_like(sigma))
            noise = noise + (v_iid - v_iid.detach()) * coef.detach()
        return noise


# ------------------------------------------------------------------------------- weight layers

class _WeightLayer(nn.Module):
    """What QuantLinear and QuantConv2d share: weight, scale, quantizer and noise."""

    def _init_parameters(self, shape, fan_in, states, quantized):
        self.states, self.quantized = int(states), bool(quantized)
        bound = (3.0 / fan_in) ** 0.5  # spinsc's initialisation, variance 1/n
        self.weight = nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))
        self.scale = nn.Parameter(torch.tensor(0.0))
        self._reset_scale()
        self.noise = None

    def _reset_scale(self):
        """LSQ's initial scale 2 sqrt(h) mean|W| (h = (K-1)/2), as the C++ trainer's."""
        with torch.no_grad():
            self.scale.fill_(2.0 * (0.5 * (self.states - 1)) ** 0.5 * float(self.weight.abs().mean()))

    def _copy_from(self, module):
        with torch.no_grad():
            self.weight.copy_(module.weight)
        self._reset_scale()
        return self

    def weight_q(self):
        """The weights as used: W_q (quantized, straight-through) or the weights (float mode)."""
        return quantize_weight(self.weight, self.scale, self.states) if self.quantized else self.weight

    def _noise_scale(self):
        if not self.quantized:
            raise ValueError("SC noise needs quantized weights (mode qat or sc), as `spinsc train --mode sc`: "
                             "the noise model's weight streams sit on the K levels")
        return self.scale


class QuantLinear(_WeightLayer):
    """A dense weight layer of a spinsc stage: u = W_q x (no bias: spinsc adds it after the gain).

    QuantLinear(in_features, out_features, states=5, quantized=True). Parameters: weight
    (out, in), scale (the per-layer weight scale s, learned as in the C++ trainer). W_q is
    quantize_weight(weight, scale, states) when quantized, else weight. When `noise` (an ScNoise)
    is set, the SC noise of u is added in the forward pass.
    """

    def __init__(self, in_features, out_features, states=5, quantized=True):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self._init_parameters((self.out_features, self.in_features), self.in_features, states, quantized)

    @classmethod
    def from_module(cls, linear, states=5, quantized=True):
        """Take a user's nn.Linear's weights (its bias is left out: put it in the Stage)."""
        return cls(linear.in_features, linear.out_features, states, quantized)._copy_from(linear)

    def forward(self, x):
        """u = W_q x for x (N, in) (other shapes are flattened), plus the SC noise when set."""
        x = x.flatten(1)
        w = self.weight_q()
        u = x @ w.t()
        if self.noise is not None:
            u = u + self.noise.sample(x, w, self._noise_scale())
        return u

    def extra_repr(self):
        return f"in={self.in_features}, out={self.out_features}, K={self.states}, quantized={self.quantized}"


class QuantConv2d(_WeightLayer):
    """A conv2d weight layer of a spinsc stage: u = the dot product of each filter with its
    receptive field (zero padding contributes nothing), no bias.

    QuantConv2d(in_channels, filters, kernel, stride=1, padding=0, states=5, quantized=True).
    Parameters: weight (F, C, k, k) (PyTorch's and spinsc's layout), scale. With `noise` set,
    every output position receives the SC noise of a dense neuron over its receptive field
    (its im2col row), with its own draw.
    """

    def __init__(self, in_channels, filters, kernel, stride=1, padding=0, states=5, quantized=True):
        super().__init__()
        self.in_channels, self.filters, self.kernel = int(in_channels), int(filters), int(kernel)
        self.stride, self.padding = int(stride), int(padding)
        self._init_parameters((self.filters, self.in_channels, self.kernel, self.kernel),
                              self.in_channels * self.kernel * self.kernel, states, quantized)

    @classmethod
    def from_module(cls, conv, states=5, quantized=True):
        """Take a user's nn.Conv2d's weights (square kernel, equal strides and paddings, no
        dilation or groups; its bias is left out: put it in the Stage)."""
        k, s, p = conv.kernel_size, conv.stride, conv.padding
        if k[0] != k[1] or s[0] != s[1] or isinstance(p, str) or p[0] != p[1] or conv.groups != 1 or conv.dilation != (1, 1):
            raise ValueError(f"{conv}: spinsc's conv2d has a square kernel, one stride and padding, no groups or dilation")
        return cls(conv.in_channels, conv.out_channels, k[0], s[0], p[0], states, quantized)._copy_from(conv)

    def forward(self, x):
        """u (N, F, OH, OW) for x (N, C, H, W), plus the SC noise per output position when set."""
        w = self.weight_q()
        u = F.conv2d(x, w, stride=self.stride, padding=self.padding)
        if self.noise is not None:
            n, _, oh, ow = u.shape
            rows = F.unfold(x, self.kernel, padding=self.padding, stride=self.stride)  # (N, C k k, P)
            rows = rows.transpose(1, 2).reshape(n * oh * ow, -1)
            e = self.noise.sample(rows, w.flatten(1), self._noise_scale())  # (N P, F)
            u = u + e.reshape(n, oh * ow, self.filters).transpose(1, 2).reshape(u.shape)
        return u

    def extra_repr(self):
        return (f"{self.in_channels}, {self.filters}, kernel={self.kernel}, stride={self.stride}, "
                f"padding={self.padding}, K={self.states}, quantized={self.quantized}")


class Stage(nn.Module):
    """One spinsc stage (docs/network.md): a weight layer with the pooling after it.

        u = layer(x)                   (W_q x, plus SC noise when set)
        avgpool2d (optional): u averaged over each window
        z = gain * u + b               (per unit, per filter for conv2d)
        hidden: a = Q_K(clip(z, 0, 1)) (float mode: clip(z, 0, 1)); maxpool2d (optional) on a
        last:   y = u + b

    Stage(layer, hidden, pool=None, window=0). Parameters: gain and bias (out,), gain 1 for the
    last stage (not trained there, as in spinsc).
    """

    def __init__(self, layer, hidden, pool=None, window=0):
        super().__init__()
        if pool not in (None, "avgpool2d", "maxpool2d"):
            raise ValueError(f"pool {pool!r} must be None, 'avgpool2d' or 'maxpool2d'")
        self.layer, self.hidden, self.pool, self.window = layer, bool(hidden), pool, int(window)
        units = layer.out_features if isinstance(layer, QuantLinear) else layer.filters
        self.bias = nn.Parameter(torch.zeros(units))
        self.gain = nn.Parameter(torch.ones(units), requires_grad=self.hidden and layer.quantized)

    def _per_unit(self, v, u):
        return v.view(1, -1, 1, 1) if u.dim() == 4 else v

    def forward(self, x):
        """The stage's output: activations (hidden stage, after max pooling) or values y (last)."""
        u = self.layer(x)
        if self.pool == "avgpool2d":
            u = F.avg_pool2d(u, self.window)
        if not self.hidden:
            return u + self._per_unit(self.bias, u)
        z = self._per_unit(self.gain, u) * u + self._per_unit(self.bias, u)
        a = quantize_activation(z, self.layer.states) if self.layer.quantized else torch.clamp(z, 0.0, 1.0)
        if self.pool == "maxpool2d":
            a = F.max_pool2d(a, self.window)
        return a


# ---------------------------------------------------------------------------------- networks

def _architecture(a):
    if isinstance(a, _spinsc.Architecture):
        return a
    if isinstance(a, str):
        return _spinsc.parse_architecture(a)
    return _spinsc.parse_architecture(",".join(str(int(w)) for w in a))


class SpinscNet(nn.Module):
    """A spinsc network (any architecture of docs/network.md: MLP widths, layer lists with conv2d,
    pools, flatten; "lenet5") as a torch.nn.Module computing spinsc's digital forward rule.

    SpinscNet(architecture, states=5, mode="qat"): mode "qat" (or "sc") quantizes weights and
    hidden activations on K = states levels, "float" does not. Input: (N, C, H, W) or (N, C*H*W)
    float tensors in [0, 1] (inputs_from_pixels(images)), or uint8 pixel bytes. Output: the
    last stage's values y (N, classes); class = argmax (torch.argmax also takes the first of tied
    maxima, as spinsc does).

    set_noise(ScNoise(...) or None) puts SC noise into every weight layer (training "with SC");
    to_network() gives the spinsc.Network (bit-identical parameters), from_network() the reverse.
    """

    def __init__(self, architecture="784,128,10", states=5, mode="qat"):
        super().__init__()
        if mode not in ("float", "qat", "sc"):
            raise ValueError(f"mode {mode!r} must be 'float', 'qat' or 'sc'")
        self.architecture = _architecture(architecture)
        self.states, self.mode = int(states), mode
        if self.states < 3 or self.states % 2 == 0:
            raise ValueError(f"states {states} must be odd and at least 3")
        quantized = mode != "float"
        c, h, w = self.architecture.input
        specs = self.architecture.layers
        weight_layers = [i for i, s in enumerate(specs) if s["kind"] in ("dense", "conv2d")]
        stages = []
        flat = False
        for n, i in enumerate(weight_layers):
            s = specs[i]
            nxt = specs[i + 1] if i + 1 < len(specs) else None
            pool = nxt["kind"] if nxt is not None and nxt["kind"] in ("avgpool2d", "maxpool2d") else None
            hidden = n + 1 < len(weight_layers)
            if s["kind"] == "dense":
                layer = QuantLinear(c * h * w if not flat else c, s["units"], self.states, quantized)
                c, h, w, flat = s["units"], 1, 1, True
            else:
                layer = QuantConv2d(c, s["units"], s["kernel"], s["stride"], s["padding"], self.states, quantized)
                c = s["units"]
                h = (h + 2 * s["padding"] - s["kernel"]) // s["stride"] + 1
                w = (w + 2 * s["padding"] - s["kernel"]) // s["stride"] + 1
                if pool is not None:
                    h //= nxt["kernel"]
                    w //= nxt["kernel"]
            stages.append(Stage(layer, hidden, pool, nxt["kernel"] if pool else 0))
        self.stages = nn.ModuleList(stages)
        self._input = (self.architecture.input[0], self.architecture.input[1], self.architecture.input[2])

    @classmethod
    def from_network(cls, network):
        """A module holding a spinsc.Network's (or a model file's) parameters, bit for bit."""
        if not isinstance(network, _spinsc.Network):
            network = _spinsc.load_model(network)
        m = cls(network.architecture, network.states, network.mode)
        with torch.no_grad():
            for st, w, b, g, s in zip(m.stages, network.weights, network.biases, network.gains, network.scales):
                st.layer.weight.copy_(torch.from_numpy(w).reshape(st.layer.weight.shape))
                st.bias.copy_(torch.from_numpy(b))
                st.gain.copy_(torch.from_numpy(g))
                st.layer.scale.fill_(float(s))
        m.training_info = network.training
        return m

    def to_network(self, training=None):
        """The spinsc.Network with this module's parameters (float32, bit-identical): ready for
        spinsc's engines (digital, sc_accuracy, ScEngine, cost_report) and for save()."""
        weights, biases, gains, scales = [], [], [], []
        for st in self.stages:
            weights.append(st.layer.weight.detach().to("cpu", torch.float32).reshape(st.layer.weight.shape[0], -1).numpy().copy())
            biases.append(st.bias.detach().to("cpu", torch.float32).numpy().copy())
            gains.append(st.gain.detach().to("cpu", torch.float32).numpy().copy())
            if st.layer.quantized:
                scales.append(float(st.layer.scale.detach().to(torch.float32)))
            else:  # float mode: spinsc hands out s = max |W| (the analog engine's stream scale)
                scales.append(float(st.layer.weight.detach().abs().max().to(torch.float32)))
        info = dict(training if training is not None else getattr(self, "training_info", {}) or {})
        info.setdefault("framework", f"torch {torch.__version__} (spinsc.torch)")
        return _spinsc.Network(self.architecture, weights, biases, gains, scales, states=self.states, mode=self.mode,
                               training=info)

    def set_noise(self, noise):
        """Put `noise` (an ScNoise, or None to remove it) into every weight layer."""
        if noise is not None and noise.states != self.states:
            raise ValueError(f"noise for K = {noise.states} on a network of K = {self.states}")
        if noise is not None and self.mode == "float":
            raise ValueError("SC noise needs a quantized network (mode qat or sc), as `spinsc train --mode sc`")
        for st in self.stages:
            st.layer.noise = noise
        return self

    def forward(self, x):
        """Output values y (N, classes) for a batch x (uint8 pixels, or floats in [0, 1])."""
        if x.dtype == torch.uint8:
            x = inputs_from_pixels(x)
        x = x.reshape(x.shape[0], *self._input)
        if isinstance(self.stages[0].layer, QuantLinear):
            x = x.flatten(1)
        for st in self.stages:
            x = st(x)
        return x

    def extra_repr(self):
        return f"'{self.architecture}', K={self.states}, mode={self.mode}"


def to_torch(network):
    """SpinscNet.from_network(network): a spinsc.Network or model file as a torch module."""
    return SpinscNet.from_network(network)


def to_network(module, training=None):
    """module.to_network(training): a SpinscNet as a spinsc.Network."""
    if not isinstance(module, SpinscNet):
        raise TypeError(f"to_network expects a spinsc.torch.SpinscNet, got {type(module).__name__}")
    return module.to_network(training)


# ---------------------------------------------------------------------------- SC inference

class ScInference(nn.Module):
    """A network evaluated as a stochastic computer by spinsc's C++ engine, as a torch module.

    ScInference(network, length=100, source="smtj", multiply="signmag", accumulate="apc",
    sharing="independent", analog=False, exact_bits=False, seed=1, threads=0)

    network: a spinsc.Network, a model file or a SpinscNet (converted with to_network()).
    forward(x, first_image=0, repeat=0) returns the SC output values (N, classes) as a float32
    tensor: for row r the last stage's s C_j / L + b_j of the engine drawn with the streams of
    image first_image + r and repeat `repeat`, bit-level or through the binomial shortcut (exact
    in distribution) as spinsc.ScEngine decides. These are exactly spinsc.ScEngine's numbers and
    `spinsc eval --sc-length L`'s classes for the same seed and image index: evaluating a test set
    in batches with first_image = the batch's offset reproduces sc_accuracy(). x: uint8 pixels or
    float values in [0, 1]; a CPU float32 contiguous tensor is passed to the engine without a
    copy, the result tensor wraps the engine's array without a copy, and the GIL is released
    while the engine runs (rows in parallel on `threads` threads, 0: all). No gradient flows
    (the engine is not differentiable; train with ScNoise).
    """

    def __init__(self, network, length=100, source="smtj", multiply="signmag", accumulate="apc",
                 sharing="independent", analog=False, exact_bits=False, seed=1, threads=0):
        super().__init__()
        if isinstance(network, SpinscNet):
            network = network.to_network()
        elif not isinstance(network, _spinsc.Network):
            network = _spinsc.load_model(network)
        self.network = network
        self.threads = int(threads)
        self.engine = _spinsc.ScEngine(network, length=length, source=source, multiply=multiply,
                                       accumulate=accumulate, sharing=sharing, analog=analog,
                                       exact_bits=exact_bits, seed=seed)

    def forward(self, x, first_image=0, repeat=0):
        """SC output values (N, classes), float32, of the batch x (see the class)."""
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu()
            if x.dtype not in (torch.uint8, torch.float32):
                x = x.to(torch.float32)
            a = x.contiguous().numpy()
        else:
            a = np.ascontiguousarray(x)
        return torch.from_numpy(self.engine.outputs(a, first_image, repeat, self.threads))

    def predict(self, x, first_image=0, repeat=0):
        """SC classes (argmax, ties to the lowest index) as an int64 tensor."""
        return self.forward(x, first_image, repeat).argmax(dim=1)

    def extra_repr(self):
        c = self.engine.config
        return (f"'{self.network.architecture}', K={self.network.states}, L={c['length']}, source={c['source']!r}, "
                f"path={'binomial' if self.engine.binomial_shortcut else 'bit-level'}")
