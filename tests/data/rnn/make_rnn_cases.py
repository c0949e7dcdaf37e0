#!/usr/bin/python3
"""Writes rnn_cases.json: small LSTM/GRU/RNN cases (forward, layout 0) with expected outputs from
ONNX's own numpy reference helpers (onnx.backend.test.case.node.{lstm,gru,rnn}), an implementation
independent of octet's. tests/unit/test_rnn.cc reads it; reverse, bidirectional, layout 1 and
sequence_lens are checked there by identities built on these cases.
Run: /usr/bin/python3 tests/data/rnn/make_rnn_cases.py"""
import json
import os

import numpy as np
from onnx.backend.test.case.node.gru import GRU_Helper
from onnx.backend.test.case.node.lstm import LSTM_Helper
from onnx.backend.test.case.node.rnn import RNN_Helper

rng = np.random.default_rng(3)


def rand(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def case(op, helper, S=4, B=2, I=3, H=5, **attrs):
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    ins = {"X": rand(S, B, I, scale=1.0), "W": rand(1, G * H, I), "R": rand(1, G * H, H),
           "B": rand(1, 2 * G * H), "initial_h": rand(1, B, H)}
    if op == "LSTM":
        ins["initial_c"] = rand(1, B, H)
    args = {k: v.copy() for k, v in ins.items()}
    if "linear_before_reset" in attrs:
        args["linear_before_reset"] = attrs["linear_before_reset"]
    y, y_h = helper(**args).step()
    out = {"Y": y.astype(np.float32), "Y_h": y_h.astype(np.float32)}
    return {"op": op, "attrs": dict(attrs, hidden_size=H),
            "inputs": {k: {"shape": list(v.shape), "data": v.ravel().tolist()} for k, v in ins.items()},
            "outputs": {k: {"shape": list(v.shape), "data": v.ravel().tolist()} for k, v in out.items()}}


cases = {
    "lstm": case("LSTM", LSTM_Helper),
    "gru_lbr0": case("GRU", GRU_Helper, linear_before_reset=0),
    "gru_lbr1": case("GRU", GRU_Helper, linear_before_reset=1),
    "rnn": case("RNN", RNN_Helper),
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "rnn_cases.json"), "w") as f:
    json.dump(cases, f)
