import pytest

import spinsc


def test_cost_equals_cli(model, model_path, cli):
    assert spinsc.cost_report(arch="784,128,10", states=5, length=64) == cli("cost", "--arch", "784,128,10", "-K", 5,
                                                                           "-L", 64, "--json")
    got = spinsc.cost_report(model=model_path, sharing="per-level")
    expected = cli("cost", "--model", model_path, "--sharing", "per-level", "--json")
    assert got == expected
    from_net = spinsc.cost_report(model=model, sharing="per-level")
    assert from_net["energy_j"] == got["energy_j"]
    assert set(got["energy_j"]) == {"quantized_smtj", "analog_smtj", "quantized_lfsr", "analog_lfsr"}
    assert spinsc.cost_report(arch=[784, 128, 10]) == spinsc.cost_report(arch="784,128,10")


def test_cost_of_mux_accumulation_equals_cli(cli):
    got = spinsc.cost_report(arch="784,128,10", accumulate="mux", multiply="bipolar")
    assert got == cli("cost", "--arch", "784,128,10", "--accumulate", "mux", "--multiply", "bipolar", "--json")
    assert got["config"]["accumulate"] == "mux" and got["config"]["multiply"] == "bipolar"
    with pytest.raises(spinsc.Error, match="accumulate"):
        spinsc.cost_report(arch="784,10", accumulate="tree")


def test_cost_of_a_conv_network(cli):
    got = spinsc.cost_report(arch="lenet5", sharing="per-tap")
    assert got == cli("cost", "--arch", "lenet5", "--sharing", "per-tap", "--json")
    assert got["config"]["architecture"].startswith("input:1x28x28,conv:6x5x5:p2")
    assert got["breakdown"]["quantized_smtj"]["layers"][0]["weight_sngs"] == 150


def test_cost_bad_input(model):
    with pytest.raises(spinsc.Error, match="give model or arch, not both"):
        spinsc.cost_report(model=model, arch="784,10")
    with pytest.raises(spinsc.Error, match="does not tile"):
        spinsc.cost_report(arch="conv:6x5x5,maxpool:5,dense:10")
    with pytest.raises(spinsc.Error, match="sharing 'shared' is not one of independent, per-level, independent-all, per-tap"):
        spinsc.cost_report(arch="784,10", sharing="shared")
