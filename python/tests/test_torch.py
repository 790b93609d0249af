"""spinsc.torch: conversion to and from torch modules (exact parameters, digital forward within a
derived float tolerance), SC inference through the engine, the SC noise layer's variance against
the library's model and the bit-level engine, and training with SC noise in a torch loop."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import spinsc

torch = pytest.importorskip("torch")
import spinsc.torch as st  # noqa: E402

U = 2.0 ** -24  # unit roundoff of float32


@pytest.fixture(scope="module")
def conv_net(train_set):
    """A small trained conv network with both pool kinds (2 epochs on 4000 images: 78% digital)."""
    images, labels = train_set
    return spinsc.train(images[:4000], labels[:4000], arch="conv:4x5x5:p2,avgpool:2,conv:8x3x3,maxpool:2,dense:10",
                        states=5, epochs=2, seed=3, threads=1)


def test_round_half_away_matches_c_round():
    x = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, -0.49999997, 1.2, -1.7], dtype=torch.float32)
    assert st.round_half_away(x).tolist() == [float(round(v) if abs(v - math.trunc(v)) != 0.5 else math.trunc(v) + math.copysign(1, v))
                                              for v in x.tolist()]
    assert st.round_half_away(x).tolist()[:6] == [-3, -2, -1, 1, 2, 3]


def test_inputs_from_pixels_are_the_librarys(model, small_test):
    """byte * float32(1/255), as Dataset::pixel(): float inputs built so give the engine exactly what
    uint8 images give it (byte / 255 differs in some pixels by an ulp, enough to change a stream)."""
    images = small_test[0][:100]
    x = st.inputs_from_pixels(images)
    assert x.dtype == torch.float32 and x.shape == images.shape
    assert (x.numpy() != images.astype(np.float32) / np.float32(255)).any()
    assert model.forward(x.reshape(100, -1).numpy()).tobytes() == model.forward(images).tobytes()
    engine = spinsc.ScEngine(model, length=16, source="smtj", exact_bits=True)
    assert engine.outputs(x.reshape(100, -1).numpy()).tobytes() == engine.outputs(images).tobytes()
    with pytest.raises(TypeError, match="uint8"):
        st.inputs_from_pixels(x)


@pytest.mark.parametrize("which", ["mlp", "conv"])
def test_round_trip_is_bit_identical(which, model, conv_net):
    net = model if which == "mlp" else conv_net
    back = st.to_torch(net).to_network()
    assert str(back.architecture) == str(net.architecture)
    assert (back.states, back.mode) == (net.states, net.mode)
    for a, b in zip(net.weights + net.biases + net.gains, back.weights + back.biases + back.gains):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    assert np.array(net.scales, np.float32).tobytes() == np.array(back.scales, np.float32).tobytes()


@pytest.mark.parametrize("which", ["mlp", "conv"])
def test_quantized_weights_are_the_librarys(which, model, conv_net, small_test):
    """torch's W_q is the library's, bit for bit: a network whose stored weights are torch's W_q
    (the quantizer is idempotent on its levels) computes the library's outputs exactly, on MNIST
    images whose zero pixels are raised to 0.002 (so that every weight takes part)."""
    net = model if which == "mlp" else conv_net
    module = st.to_torch(net)
    wq = [s.layer.weight_q().detach().reshape(s.layer.weight.shape[0], -1).numpy() for s in module.stages]
    assert not all(np.array_equal(a, b) for a, b in zip(wq, net.weights))  # quantizing changes them
    same = spinsc.Network(net.architecture, wq, net.biases, net.gains, net.scales, states=net.states, mode=net.mode)
    images = small_test[0][:100]
    x = np.maximum(st.inputs_from_pixels(images.reshape(len(images), -1)).numpy(), np.float32(0.002))
    y = net.forward(x)
    assert y.tobytes() == same.forward(x).tobytes()
    # The comparison can tell: one output weight one level off changes the outputs.
    last = len(wq) - 1
    wq[last] = wq[last].copy()
    wq[last][0, :] += np.float32(2.0 * net.scales[last] / (net.states - 1)) * np.where(wq[last][0, :] > 0, -1, 1)
    off = spinsc.Network(net.architecture, wq, net.biases, net.gains, net.scales, states=net.states, mode=net.mode)
    assert y.tobytes() != off.forward(x).tobytes()


def _stage_reference(stage, x64, K):
    """Float64 stage of `stage` on input x64 (the library's stage input), with a bound on the
    library's float32 error: the float sum of n products has |error| <= gamma_n sum |w x| with
    gamma_n = n u / (1 - n u) (Higham, Thm 3.1; +2 for the gain product and the bias sum)."""
    layer = stage.layer
    wq = layer.weight_q().detach().to(torch.float64)
    if isinstance(layer, st.QuantLinear):
        x64 = x64.flatten(1)
        n = layer.in_features
        u = x64 @ wq.t()
        mag = x64.abs() @ wq.abs().t()
    else:
        n = layer.in_channels * layer.kernel ** 2
        u = torch.nn.functional.conv2d(x64, wq, stride=layer.stride, padding=layer.padding)
        mag = torch.nn.functional.conv2d(x64.abs(), wq.abs(), stride=layer.stride, padding=layer.padding)
    gamma = (n + 4) * U / (1 - (n + 4) * U)
    bound = gamma * mag
    if stage.pool == "avgpool2d":  # the window's sum (w^2 - 1 additions) and the division
        u = torch.nn.functional.avg_pool2d(u, stage.window)
        bound = (torch.nn.functional.avg_pool2d(bound, stage.window)
                 + (stage.window ** 2 + 2) * U * (1 + gamma) * torch.nn.functional.avg_pool2d(mag, stage.window))
    shape = (1, -1, 1, 1) if u.dim() == 4 else (1, -1)
    g = stage.gain.detach().to(torch.float64).view(shape)
    b = stage.bias.detach().to(torch.float64).view(shape)
    if not stage.hidden:
        return u + b, bound + 2 * U * (u.abs() + b.abs() + bound), None
    z = g * u + b
    bz = g.abs() * bound + 4 * U * (g.abs() * u.abs() + b.abs())
    t = torch.clamp(z, 0, 1) * (K - 1)
    level = (st.round_half_away(t.to(torch.float32)) / float(K - 1)).to(torch.float64)  # float32 k / (K-1)
    # Ambiguous: within twice the bound (the library's and torch's float32 errors) of a rounding
    # threshold (m + 1/2)/(K - 1) strictly inside [0, 1].
    tz = z * (K - 1)
    near = (tz - torch.floor(tz) - 0.5).abs() <= 2 * bz * (K - 1) + 1e-12
    inside = (tz > 0) & (tz < K - 1)
    amb = near & inside
    if stage.pool == "maxpool2d":
        level = torch.nn.functional.max_pool2d(level, stage.window)
        amb = torch.nn.functional.max_pool2d(amb.to(torch.float64), stage.window) > 0
    return level, None, amb


@pytest.mark.parametrize("which", ["mlp", "conv"])
def test_digital_forward_equals_library(which, model, conv_net, small_test):
    """Each stage of the torch module, fed the library's stage input, gives the library's hidden
    levels exactly wherever the pre-activation is farther than the derived float bound from a
    rounding threshold, and its output values within the bound; end to end the float32 module
    gives the library's classes on every image with no such ambiguity."""
    net = model if which == "mlp" else conv_net
    module = st.to_torch(net)
    images, labels = small_test
    K = net.states
    ambiguous_images = 0
    hidden_units = interior = 0
    flagged = np.zeros(len(images), bool)
    for r in range(len(images)):
        x = images[r]
        stages = net.forward_stages(x)
        inp = st.inputs_from_pixels(x).to(torch.float64).reshape(1, *module._input)
        amb_any = False
        for l, stage in enumerate(module.stages):
            lib = torch.from_numpy(stages[l]).to(torch.float64)
            ref, bound, amb = _stage_reference(stage, inp, K)
            ref_shape = ref.shape
            ref = ref.reshape(-1)
            if stage.hidden:
                amb = amb.reshape(-1)
                ok = ~amb
                assert torch.equal(lib[ok], ref[ok]), f"image {r} stage {l}: hidden levels differ away from thresholds"
                amb_any |= bool(amb.any())
                hidden_units += lib.numel()
                interior += int(((lib > 0) & (lib < 1)).sum())
                inp = lib.reshape(ref_shape)
            else:
                bound = bound.reshape(-1)
                assert torch.all((lib - ref).abs() <= bound), f"image {r}: output values beyond the float bound"
                top = torch.sort(ref, descending=True).values
                if amb_any or top[0] - top[1] <= 2 * bound.max():
                    flagged[r] = True
        ambiguous_images += amb_any
    # The check means something: hidden levels are spread over the interior, few are ambiguous.
    assert interior > 0.05 * hidden_units
    assert ambiguous_images <= 0.02 * len(images)
    with torch.no_grad():
        torch_classes = module(torch.from_numpy(images)).argmax(1).numpy()
    lib_classes = net.predict(images)
    assert np.array_equal(torch_classes[~flagged], lib_classes[~flagged])
    assert flagged.sum() <= 0.02 * len(images)


def test_export_runs_in_cli(conv_net, tmp_path, cli, test_set):
    """A module exported to a model file: `spinsc eval` gives the exported network's digital
    accuracy exactly on 2000 test images (the torch module's own within 0.2 points: classes can
    differ only on float-rounding ambiguous images, see the stage test), and its bit-level SC
    classes are ScInference's."""
    module = st.to_torch(conv_net)
    path = tmp_path / "exported.safetensors"
    module.to_network().save(path)
    r = cli("eval", "--model", path, "--limit", 2000, "--json")
    images, labels = test_set[0][:2000], test_set[1][:2000]
    assert r["digital_accuracy"] == conv_net.accuracy(images, labels)
    with torch.no_grad():
        acc = float((module(torch.from_numpy(images)).argmax(1).numpy() == labels).mean())
    assert abs(acc - r["digital_accuracy"]) <= 0.002
    # Bit by bit: the CLI's SC evaluation of the exported file gives ScInference's classes.
    r = cli("eval", "--model", path, "--sc-length", 16, "--source", "smtj", "--exact-bits", "--limit", 200, "--seed", 5,
            "--json")
    sc = st.ScInference(path, length=16, source="smtj", exact_bits=True, seed=5)
    pred = torch.cat([sc.predict(torch.from_numpy(images[b:b + 100]), first_image=b) for b in (0, 100)]).numpy()
    assert r["accuracy_mean"] == float((pred == labels[:200]).mean())


def test_sc_inference_equals_engine(model, small_test):
    images, labels = small_test
    sc = st.ScInference(model, length=16, source="smtj", seed=5)
    correct = 0
    for b in range(0, len(images), 100):
        correct += int((sc.predict(torch.from_numpy(images[b:b + 100]), first_image=b).numpy() == labels[b:b + 100]).sum())
    ref = spinsc.sc_accuracy(model, images, labels, length=16, source="smtj", seed=5)
    assert correct / len(images) == ref["accuracy_mean"]
    # Bit-level: row r equals the engine's forward of image r; float32 input read in place.
    bits = st.ScInference(model, length=16, source="smtj", exact_bits=True, seed=5, threads=2)
    x = st.inputs_from_pixels(images[:8].reshape(8, -1))
    out = bits(x, first_image=3, repeat=1)
    assert out.dtype == torch.float32 and out.shape == (8, 10)
    for r in range(8):
        want = bits.engine.forward(x[r].numpy(), image=3 + r, repeat=1)[-1]["output"]
        assert np.array_equal(out[r].numpy(), want)
    one = st.ScInference(model, length=16, source="smtj", exact_bits=True, seed=5, threads=1)
    assert torch.equal(one(x, first_image=3, repeat=1), out)
    with pytest.raises(spinsc.Error, match="not a whole number"):
        bits(torch.zeros(3, 5))


def _one_layer(K, s, rng, inputs=48, outputs=8):
    """A one-layer network whose weights lie on the K levels (so W_q = W), and an input."""
    q = rng.integers(-(K - 1) // 2, (K - 1) // 2 + 1, size=(outputs, inputs))
    w = (np.float32(s) * q.astype(np.float32) * np.float32(2) / np.float32(K - 1)).astype(np.float32)
    net = spinsc.Network([inputs, outputs], [w], scales=[s], states=K)
    x = rng.choice(np.arange(K, dtype=np.float32) / np.float32(K - 1), size=inputs).astype(np.float32)
    return net, w, x


@pytest.mark.parametrize("source", ["ideal", "correlated"])
def test_noise_variance_matches_bit_level_engine(source, source_dir):
    """The noise of ScNoise has the library model's variance (Gaussian draws: the sample variance
    of n draws has standard error v sqrt(2 / (n - 1))), and that variance is the bit-level
    engine's (standard error of a sample variance from the sample's 4th central moment)."""
    K, L, s, n = 5, 16, 0.5, 3000
    spec = "ideal" if source == "ideal" else f"smtj:{source_dir / 'configs/device/correlated.json'}"
    rng = np.random.default_rng(7)
    net, w, x = _one_layer(K, s, rng)
    noise = st.ScNoise(length=L, source=spec, states=K, generator=torch.Generator().manual_seed(3))
    layer = st.QuantLinear(w.shape[1], w.shape[0], states=K)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        layer.scale.fill_(s)
    assert torch.equal(layer.weight_q().detach(), torch.from_numpy(w))
    xt = torch.from_numpy(np.tile(x, (n, 1)))
    model_var = noise.variance(xt[:1], layer.weight_q(), s)[0].numpy()
    assert np.array_equal(model_var, spinsc.ScNoiseModel(spec, L, K).variance(x[None, :], w, s)[0])
    with torch.no_grad():
        clean = layer(xt)
        layer.noise = noise
        draws = (layer(xt) - clean).to(torch.float64).numpy()
    se = model_var * math.sqrt(2 / (n - 1))
    assert np.all(np.abs(draws.var(0, ddof=1) - model_var) <= 5 * se)
    # The bit-level engine: n images of the same input, each with its own streams.
    engine = spinsc.ScEngine(net, length=L, source=spec, exact_bits=True, seed=11)
    est = engine.outputs(np.tile(x, (n, 1))).astype(np.float64)
    v = est.var(0, ddof=1)
    m4 = ((est - est.mean(0)) ** 4).mean(0)
    se_engine = np.sqrt(np.maximum(m4 - v ** 2 * (n - 3) / (n - 1), 0) / n)
    assert np.all(np.abs(v - model_var) <= 5 * se_engine + 1e-12), (v, model_var)
    if source == "correlated":  # the test sees the correlation: well above the binomial variance
        iid = spinsc.ScNoiseModel("ideal", L, K).variance(x[None, :], w, s)[0]
        assert model_var.sum() > 1.2 * iid.sum()


def test_noise_conv_positions_and_gradient():
    K, s = 5, 0.4
    conv = st.QuantConv2d(2, 3, 3, padding=1, states=K)
    conv.noise = st.ScNoise(length=8, source="ideal", states=K, generator=torch.Generator().manual_seed(1))
    x = torch.rand(4, 2, 6, 6)
    u = conv(x)
    assert u.shape == (4, 3, 6, 6)
    # Variance per position equals the library's for that position's receptive field.
    rows = torch.nn.functional.unfold(x, 3, padding=1).transpose(1, 2).reshape(-1, 18)
    var = conv.noise.variance(rows, conv.weight_q().flatten(1), conv.scale)
    assert var.shape == (4 * 36, 3) and bool((var > 0).any())
    # The variance gradient: d/dw of the noise follows sigma's i.i.d. part (nonzero), and is
    # absent without it.
    lin = st.QuantLinear(6, 2, states=K)
    xs = torch.rand(5, 6)
    for vg in (True, False):
        lin.zero_grad()
        lin.noise = st.ScNoise(length=4, source="ideal", states=K, variance_gradient=vg,
                               generator=torch.Generator().manual_seed(2))
        out = lin(xs).sum()
        out.backward()
        g_noise = lin.weight.grad.clone()
        lin.zero_grad()
        lin.noise = None
        lin(xs).sum().backward()
        differs = not torch.allclose(g_noise, lin.weight.grad)
        assert differs == vg


def test_training_with_sc_noise_improves_sc_accuracy(train_set, small_test):
    """A short torch training loop with the s-MTJ's SC noise at L = 8: the SC accuracy (the
    engine, bit-level streams through the shortcut) rises from chance to well above it."""
    torch.manual_seed(0)
    images, labels = train_set
    x = st.inputs_from_pixels(images[:3000].reshape(3000, -1))
    y = torch.from_numpy(labels[:3000].astype(np.int64))
    test_x, test_y = small_test
    model = st.SpinscNet("784,32,10", states=5)
    before = st.ScInference(model, length=8, source="smtj").predict(torch.from_numpy(test_x)).numpy()
    acc_before = float((before == test_y).mean())
    model.set_noise(st.ScNoise(length=8, source="smtj", states=5, generator=torch.Generator().manual_seed(1)))
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    for epoch in range(2):
        perm = torch.randperm(3000)
        for b in range(0, 3000, 64):
            idx = perm[b:b + 64]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.set_noise(None)
    after = st.ScInference(model, length=8, source="smtj").predict(torch.from_numpy(test_x)).numpy()
    acc_after = float((after == test_y).mean())
    n = len(test_y)
    se = math.sqrt(acc_after * (1 - acc_after) / n + acc_before * (1 - acc_before) / n)
    assert acc_after - acc_before > 10 * se, (acc_before, acc_after)
    assert acc_after > 0.7


def test_bad_input():
    with pytest.raises(ValueError, match="mode"):
        st.SpinscNet("784,10", mode="sc-ish")
    with pytest.raises(ValueError, match="odd"):
        st.SpinscNet("784,10", states=4)
    with pytest.raises(ValueError, match="K = 11"):
        st.SpinscNet("784,10", states=5).set_noise(st.ScNoise(states=11))
    with pytest.raises(ValueError, match="quantized"):
        st.SpinscNet("784,10", mode="float").set_noise(st.ScNoise(states=5))
    with pytest.raises(spinsc.Error, match="length"):
        st.ScNoise(length=0)
    with pytest.raises(spinsc.Error, match="unknown"):
        st.ScNoise(source="nonsense")
    with pytest.raises(spinsc.Error, match="inputs but x has"):
        spinsc.ScNoiseModel("ideal", 8, 5).variance(np.zeros((2, 3), np.float32), np.zeros((4, 5), np.float32), 1.0)
    with pytest.raises(TypeError):
        st.to_network(torch.nn.Linear(3, 4))
    with pytest.raises(ValueError, match="square kernel"):
        st.QuantConv2d.from_module(torch.nn.Conv2d(1, 2, (3, 5)))


def test_from_user_modules():
    lin = torch.nn.Linear(20, 7)
    q = st.QuantLinear.from_module(lin, states=5)
    assert torch.equal(q.weight, lin.weight) and q.scale.item() > 0
    conv = torch.nn.Conv2d(1, 4, 3, padding=1)
    qc = st.QuantConv2d.from_module(conv, states=11)
    assert qc.weight.shape == (4, 1, 3, 3) and qc.padding == 1 and qc.states == 11


def test_import_without_torch_says_what_to_install():
    code = "import sys; sys.modules['torch'] = None\nimport spinsc\ntry:\n import spinsc.torch\nexcept ImportError as e:\n print(e)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True).stdout
    assert "python3-torch" in out and "spinsc.torch needs PyTorch" in out
