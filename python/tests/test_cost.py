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


def test_cost_bad_input(model):
    with pytest.raises(spinsc.Error, match="give model or arch, not both"):
        spinsc.cost_report(model=model, arch="784,10")
    with pytest.raises(spinsc.Error, match="MLPs only"):
        spinsc.cost_report(arch="lenet5")
    with pytest.raises(spinsc.Error, match="sharing 'shared' is not one of independent, per-level, independent-all"):
        spinsc.cost_report(arch="784,10", sharing="shared")
