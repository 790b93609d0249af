// The built-in hardware parameters: the text of configs/hw/default.json (a test checks that the
// two are identical, so edit both together).
#include <string_view>

namespace spinsc::hw_detail {

extern const std::string_view kDefaultHwJson;
const std::string_view kDefaultHwJson = R"json({
  "name": "default",
  "description": "45 nm CMOS at 0.9 V (Horowitz ISSCC 2014 energies) with nanosecond s-MTJs; every SNG bias and every weight reloaded once per inference; the smtj bit_period, bias_current, read_voltage and sense_amp_energy stand only when no device description is given (with one, spinsc cost --device and sweep cells take them from the device file)",
  "smtj": {
    "bias_current": {
      "value": 10, "unit": "uA",
      "reasoning": "Current through the s-MTJ while it produces bits (bias plus read): the reference device (configs/device/reference.json) has Ic = 15 uA and biases of up to +-7.5 uA; s-MTJ p-bits run at a few uA to tens of uA (Borders et al., Nature 573, 390 (2019); Camsari, Salahuddin & Datta, 'Implementing p-bits with embedded MTJ', IEEE Electron Device Lett. (2017))"
    },
    "read_voltage": {
      "value": 0.1, "unit": "V",
      "reasoning": "10 uA through a 5-10 kOhm junction (reference device R_P = 5 kOhm, TMR 100%) drops 50-100 mV; kept small so that reading does not disturb the device"
    },
    "bit_period": {
      "value": 20, "unit": "ns",
      "source": "Nanosecond telegraph noise demonstrated in s-MTJs: Safranski et al., Nano Lett. 21, 2040 (2021); Hayakawa et al., Phys. Rev. Lett. 126, 117202 (2021). A bit period of a few relaxation times (~5-10 ns) keeps consecutive bits nearly uncorrelated (lag-1 correlation exp(-lambda Ts))"
    },
    "sense_amp_energy": {
      "value": 5, "unit": "fJ",
      "reasoning": "One clocked latch (StrongARM-type) decision per bit comparing the junction voltage to a reference; such comparators cost ~1-10 fJ per decision at 45-65 nm"
    },
    "area": {
      "value": 1.5, "unit": "um2",
      "reasoning": "The junction itself (~50 nm pillar) is negligible; the SNG is dominated by its bias transistor and ~8-transistor sense latch: ~10 transistors at 0.15 um2 each (logic.transistor_area)"
    }
  },
  "lfsr": {
    "register_bits": {
      "value": 32, "unit": "bit",
      "source": "SPEC section 3: the CMOS baseline is a 32-bit maximal-length LFSR compared against p 2^n; the paper's introduction quotes > 1000 transistors for it"
    },
    "xor_gates": {
      "value": 3, "unit": "1",
      "reasoning": "A 4-tap maximal-length polynomial (x^32 + x^22 + x^2 + x + 1) needs 3 two-input XORs in the feedback"
    },
    "clock_period": {
      "value": 1, "unit": "ns",
      "reasoning": "1 GHz: a 32-bit shift and a 32-bit magnitude comparison fit in one cycle at 45 nm (~40 FO4 of 20 ps)"
    },
    "flip_flop_transistors": {
      "value": 24, "unit": "transistors",
      "reasoning": "Static master-slave D flip-flop with local clock inverters"
    },
    "comparator_bit_transistors": {
      "value": 8, "unit": "transistors",
      "reasoning": "One bit slice of a magnitude comparator (carry-chain style)"
    },
    "xor_transistors": {
      "value": 12, "unit": "transistors",
      "reasoning": "Static CMOS two-input XOR"
    }
  },
  "logic": {
    "and_energy": {
      "value": 0.5, "unit": "fJ",
      "reasoning": "Two-input AND (6 transistors) per evaluation incl. average switching activity: about 1/6 of a full adder (Horowitz, ISSCC 2014: 8-bit add 0.03 pJ at 45 nm)"
    },
    "xnor_energy": {
      "value": 1.0, "unit": "fJ",
      "reasoning": "Two-input XNOR (~12 transistors): about twice an AND"
    },
    "full_adder_energy": {
      "value": 3.5, "unit": "fJ",
      "source": "Horowitz, 'Computing's energy problem', ISSCC 2014, 45 nm 0.9 V: 8-bit add 0.03 pJ, 32-bit add 0.1 pJ, i.e. 3-4 fJ per bit"
    },
    "flip_flop_energy": {
      "value": 2, "unit": "fJ",
      "reasoning": "D flip-flop clocked once incl. its share of the clock tree: ~4 gate equivalents at 45 nm"
    },
    "comparator_bit_energy": {
      "value": 2, "unit": "fJ",
      "reasoning": "A magnitude comparison is a subtraction's carry chain: about half a full adder per bit"
    },
    "gate_delay": {
      "value": 20, "unit": "ps",
      "reasoning": "FO4 delay at 45 nm (rule of thumb ~0.4-0.5 ps per nm of drawn gate length); delays of comparators and multipliers are counted in these units"
    },
    "transistor_area": {
      "value": 0.15, "unit": "um2",
      "reasoning": "45 nm standard cells: a NAND2 (4 transistors) occupies ~0.5-0.8 um2 incl. routing"
    }
  },
  "bias": {
    "reference_branch_power": {
      "value": 9, "unit": "uW",
      "reasoning": "One reference current branch (10 uA at 0.9 V) per preset bias level (quantized) or per DAC reference (analog), on while its layer runs; the SNGs mirror it (their own current is in smtj.bias_current)"
    },
    "switch_energy": {
      "value": 1, "unit": "fJ",
      "reasoning": "Setting one transmission-gate switch (and its select line) that connects an SNG bias node to a preset level, or a synapse to a level stream: ~one gate equivalent"
    },
    "switch_time_constant": {
      "value": 0.1, "unit": "ns",
      "reasoning": "Switch on-resistance ~2 kOhm times a ~50 fF bias node; settling to half a level spacing of log2(K) bits takes (ceil(log2 K) + 1) ln2 time constants"
    },
    "dac_energy_per_step": {
      "value": 5, "unit": "fJ",
      "source": "Walden figure of merit (energy per conversion step, E = FoM 2^b): low-power SAR ADCs of 8-10 bits reach 1-10 fJ per step (Murmann, ADC Performance Survey, Stanford, updated yearly since 1997); a DAC is the core of such a converter, so the same range is assumed for the bias DACs"
    },
    "dac_time_constant": {
      "value": 1.5, "unit": "ns",
      "reasoning": "A low-power b-bit DAC updating at ~100 MS/s settles within its 10 ns period to half an LSB, i.e. in (b + 1) ln2 time constants: 10 ns / (9 ln2) = 1.6 ns at 8 bits"
    },
    "lut_read_energy_per_bit": {
      "value": 30, "unit": "fJ",
      "reasoning": "The s-MTJ bias for probability p is the logit Ic/(2 Delta) ln(p/(1-p)): a continuous activation needs a 2^b-entry lookup (256 x 8 bits); a small SRAM/ROM read costs ~sqrt(size) of an 8 KB array's 0.16 pJ/bit"
    },
    "lut_access_time": {
      "value": 0.3, "unit": "ns",
      "reasoning": "Access time of a 256-entry register file / ROM at 45 nm (~15 FO4)"
    }
  },
  "precision": {
    "analog_weight_bits": {
      "value": 8, "unit": "bit",
      "reasoning": "The analog baseline stores its continuous weights at 8 bits (post-training 8-bit weights lose nothing measurable on MNIST MLPs) and sets each weight SNG's bias with an 8-bit DAC"
    },
    "analog_activation_bits": {
      "value": 8, "unit": "bit",
      "reasoning": "Resolution of the continuous hidden activation handed to the next layer's bias DAC"
    },
    "pixel_bits": {
      "value": 8, "unit": "bit",
      "source": "MNIST pixels are bytes (SPEC section 1); the input layer's SNGs are biased by 8-bit DACs in both designs"
    }
  },
  "memory": {
    "read_energy_per_bit": {
      "value": 0.16, "unit": "pJ",
      "source": "Horowitz, ISSCC 2014, 45 nm: a 64-bit read from an 8 KB SRAM costs 10 pJ"
    },
    "access_time": {
      "value": 1, "unit": "ns",
      "reasoning": "One cycle at 1 GHz for a local 8 KB SRAM at 45 nm"
    },
    "reload_weights_per_inference": {
      "value": true,
      "reasoning": "The weight codes (log2 K bits quantized, precision.analog_weight_bits analog) are read and every weight SNG bias is set again for each inference, as in an array time-shared between layers or models; false models dedicated per-layer arrays whose weight biases are set once (their energy then amortises to zero)"
    }
  }
}
)json";

}  // namespace spinsc::hw_detail
