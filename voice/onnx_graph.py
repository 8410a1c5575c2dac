"""Rewrites of the voice models' ONNX graphs.

- :func:`onnx_with_extra_output`: a node's output added as a graph output, by appending to the
  serialised bytes (a minimal protobuf walk, no ``onnx`` package): Piper's phone durations
  (``Ceil``) and Kokoro's token frames (``Clip``).
- :func:`convs_as_matmuls`: Kokoro's int8 convolutions as integer matrix products, the same
  sums through a faster kernel.

The model's convolutions are dynamically quantised (``DynamicQuantizeLinear`` → ``ConvInteger``
→ bias added in int32 → ``Cast`` → ``Mul`` by the two scales). onnxruntime runs ``ConvInteger``
slowly: one of the generator's 128-channel layers over 7.4 s of speech (11 taps, 35,521 frames)
takes 41 ms, the same integer sums as ``MatMulIntegerToFloat`` 25 ms, im2col included. Over
whole lines Kokoro speaks 26–28% sooner (``benchmarks/kokoro_speed.py``; benchmarks/FINDINGS.md,
"Kokoro's convolutions as matrix products").

:func:`convs_as_matmuls` rewrites each such convolution (1-D, group 1, any stride, padding or
dilation) as: the quantised input transposed to (time, channels), padded with its zero point,
gathered into (time, taps × channels) (im2col), multiplied by the int8 weights
(``MatMulIntegerToFloat`` with unit scales: the int32 sums as floats, plus the int32 bias), and
transposed back before the model's own ``Mul`` by the scales. The sums are integers (exact in
float32 below 2**24; over six lines the largest is 6 × 10**5), so the model gives the same
samples to the bit. The weights' zero point is taken out (uint8 minus zero point fits int8: the
model's weights are 7-bit). A convolution that does not match the pattern is left as it is.
"""

from __future__ import annotations

import collections

import numpy as np

# ---- a minimal protobuf walk: a node's output as a graph output ---------------------------------
def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(buf: bytes, start: int, end: int):
    """(field number, wire type, start, end) of each field of a protobuf message in buf[start:end]."""
    i = start
    while i < end:
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, j = _varint(buf, i)
        elif wire == 1:
            j = i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            j = i + n
        elif wire == 5:
            j = i + 4
        else:
            raise ValueError(f"protobuf wire type {wire} is not supported")
        yield number, wire, i, j
        i = j


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def onnx_with_extra_output(model: bytes, *, op_type: bytes) -> bytes | None:
    """The ONNX model ``model`` with the output of its only ``op_type`` node added as a graph
    output, or None when there is not exactly one such node.

    Serialised protobuf messages merge when concatenated (repeated fields append), so the extra
    ``ModelProto.graph.output`` (fields 7 → 12 → ValueInfoProto.name 1) is appended to the bytes.
    """
    try:
        names: list[bytes] = []
        for number, wire, s, e in _fields(model, 0, len(model)):
            if number != 7 or wire != 2:  # ModelProto.graph
                continue
            for gnum, gwire, gs, ge in _fields(model, s, e):
                if gnum != 1 or gwire != 2:  # GraphProto.node
                    continue
                outputs, op = [], None
                for nnum, nwire, ns, ne in _fields(model, gs, ge):
                    if nnum == 2 and nwire == 2:  # NodeProto.output
                        outputs.append(model[ns:ne])
                    elif nnum == 4 and nwire == 2:  # NodeProto.op_type
                        op = model[ns:ne]
                if op == op_type:
                    names.extend(outputs)
    except (IndexError, ValueError):
        return None
    if len(names) != 1:
        return None
    return onnx_with_outputs(model, names)


def onnx_with_outputs(model: bytes, names: list[bytes]) -> bytes:
    """The ONNX model ``model`` with the tensors ``names`` added as graph outputs (appended
    ``ModelProto.graph.output`` entries: serialised messages merge when concatenated)."""
    return model + b"".join(_length_delimited(7, _length_delimited(12, _length_delimited(1, n))) for n in names)


# ---- convolutions as integer matrix products ----------------------------------------------------
_INT8 = (-128, 127)


def convs_as_matmuls(model: bytes, *, within: str = "") -> tuple[bytes, int]:
    """``model`` (ONNX bytes) with its dynamically quantised convolutions whose node names
    contain ``within`` as integer matrix products, and how many were rewritten (0: the bytes
    unchanged)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load_from_string(model)
    g = m.graph
    made_by = {o: n for n in g.node for o in n.output}
    used_by = collections.defaultdict(list)
    for n in g.node:
        for i in n.input:
            used_by[i].append(n)
    inits = {i.name: i for i in g.initializer}

    def const(name: str) -> np.ndarray | None:
        return numpy_helper.to_array(inits[name]) if name in inits else None

    def only_user(name: str, op: str):
        users = used_by.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op else None

    new_inits = [numpy_helper.from_array(np.array([0], np.int64), "cm_axis0"),
                 numpy_helper.from_array(np.array([1], np.int64), "cm_axis1"),
                 numpy_helper.from_array(np.array([-1], np.int64), "cm_flat"),
                 numpy_helper.from_array(np.array(0, np.int64), "cm_zero"),
                 numpy_helper.from_array(np.array(1, np.int64), "cm_one"),
                 numpy_helper.from_array(np.float32(1.0), "cm_unit")]
    nodes = list(g.node)
    index = {id(n): k for k, n in enumerate(nodes)}
    insert_at: dict[int, list] = {}  # node index -> the nodes that take its place
    removed: set[int] = set()
    maybe_dead: set[int] = set()
    for conv in nodes:
        if conv.op_type != "ConvInteger" or len(conv.input) != 4 or within not in conv.name:
            continue
        quant = made_by.get(conv.input[0])
        add = only_user(conv.output[0], "Add")
        cast = add and only_user(add.output[0], "Cast")
        mul = cast and only_user(cast.output[0], "Mul")
        weights, w_zero = const(conv.input[1]), const(conv.input[3])
        if (quant is None or quant.op_type != "DynamicQuantizeLinear" or mul is None
                or weights is None or w_zero is None):
            continue
        bias_shape = made_by.get(add.input[1])  # Reshape(Cast(Floor(Div(bias, scales)))) to int32
        bias_int = bias_shape and made_by.get(bias_shape.input[0])
        attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
        if (bias_shape is None or bias_shape.op_type != "Reshape" or bias_int is None
                or bias_int.op_type != "Cast" or weights.ndim != 3 or attrs.get("group", 1) != 1
                or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")):
            continue
        taps = weights.astype(np.int32) - w_zero.astype(np.int32)
        if taps.min() < _INT8[0] or taps.max() > _INT8[1]:
            continue
        c_out, c_in, k = taps.shape
        stride = attrs.get("strides", [1])[0]
        dilation = attrs.get("dilations", [1])[0]
        pad_begin, pad_end = attrs.get("pads", [0, 0])
        P = conv.name or conv.output[0]
        xq, _, xz = quant.output
        new_inits.append(numpy_helper.from_array(
            np.ascontiguousarray(taps.transpose(2, 1, 0).reshape(k * c_in, c_out)).astype(np.int8), P + "/cm_w"))
        new = [helper.make_node("Squeeze", [xq, "cm_axis0"], [P + "/cm_x"]),
               helper.make_node("Transpose", [P + "/cm_x"], [P + "/cm_xt"], perm=[1, 0])]  # (time, channels)
        rows = P + "/cm_xt"
        if k > 1 or stride > 1 or pad_begin or pad_end:
            new_inits += [numpy_helper.from_array(np.array([pad_begin, 0, pad_end, 0], np.int64), P + "/cm_pads"),
                          numpy_helper.from_array((np.arange(k, dtype=np.int64) * dilation)[None], P + "/cm_taps"),
                          numpy_helper.from_array(np.array(dilation * (k - 1) + 1, np.int64), P + "/cm_span"),
                          numpy_helper.from_array(np.array(stride, np.int64), P + "/cm_stride"),
                          numpy_helper.from_array(np.array([-1, k * c_in], np.int64), P + "/cm_rows")]
            new += [helper.make_node("Pad", [rows, P + "/cm_pads", xz], [P + "/cm_xp"]),
                    helper.make_node("Shape", [P + "/cm_xp"], [P + "/cm_len1"], start=0, end=1),
                    helper.make_node("Squeeze", [P + "/cm_len1", "cm_axis0"], [P + "/cm_len"]),
                    helper.make_node("Sub", [P + "/cm_len", P + "/cm_span"], [P + "/cm_last"]),
                    helper.make_node("Add", [P + "/cm_last", "cm_one"], [P + "/cm_end"]),
                    helper.make_node("Range", ["cm_zero", P + "/cm_end", P + "/cm_stride"], [P + "/cm_t"]),
                    helper.make_node("Unsqueeze", [P + "/cm_t", "cm_axis1"], [P + "/cm_t2"]),
                    helper.make_node("Add", [P + "/cm_t2", P + "/cm_taps"], [P + "/cm_idx"]),  # (frames, taps)
                    helper.make_node("Gather", [P + "/cm_xp", P + "/cm_idx"], [P + "/cm_g"], axis=0),
                    helper.make_node("Reshape", [P + "/cm_g", P + "/cm_rows"], [P + "/cm_im"])]
            rows = P + "/cm_im"
        new += [helper.make_node("Cast", [bias_int.output[0]], [P + "/cm_b"], to=TensorProto.FLOAT),
                helper.make_node("Reshape", [P + "/cm_b", "cm_flat"], [P + "/cm_bias"]),
                helper.make_node("MatMulIntegerToFloat",
                                 [rows, P + "/cm_w", "cm_unit", "cm_unit", xz, "", P + "/cm_bias"],
                                 [P + "/cm_sum"], domain="com.microsoft"),
                helper.make_node("Transpose", [P + "/cm_sum"], [P + "/cm_st"], perm=[1, 0]),
                helper.make_node("Unsqueeze", [P + "/cm_st", "cm_axis0"], [P + "/cm_sum3"]),
                helper.make_node("Mul", [P + "/cm_sum3", mul.input[1]], [mul.output[0]])]
        insert_at[index[id(mul)]] = new
        removed.update(index[id(n)] for n in (conv, add, cast, mul))
        maybe_dead.add(index[id(bias_shape)])
    if not insert_at:
        return model, 0
    added = [n for new in insert_at.values() for n in new]
    outputs = {o.name for o in g.output}

    def read() -> set[str]:  # what the graph still reads once ``removed`` is gone
        return _inputs([n for k, n in enumerate(nodes) if k not in removed] + added) | outputs

    wanted = read()
    removed |= {k for k in maybe_dead if not any(o in wanted for o in nodes[k].output)}  # the int32 bias's Reshape
    wanted = read()
    freed = _inputs(nodes[k] for k in removed) - wanted  # the old weights and their zero points
    unused = {k for k, init in enumerate(g.initializer) if init.name in freed}
    graph_tail = b"".join(_length_delimited(5, t.SerializeToString()) for t in new_inits if t.name in wanted)
    model_tail = b""
    if not any(o.domain == "com.microsoft" for o in m.opset_import):
        model_tail = _length_delimited(8, helper.make_opsetid("com.microsoft", 1).SerializeToString())
    inserts = {k: b"".join(_length_delimited(1, n.SerializeToString()) for n in new) for k, new in insert_at.items()}
    return _spliced(model, removed, inserts, unused, graph_tail) + model_tail, len(insert_at)


def _inputs(nodes) -> set[str]:
    """Every tensor the nodes read, inside their subgraphs too."""
    from onnx import AttributeProto

    names = set()
    for n in nodes:
        names.update(n.input)
        for a in n.attribute:
            if a.type == AttributeProto.GRAPH:
                names |= _inputs(a.g.node)
            elif a.type == AttributeProto.GRAPHS:
                for sub in a.graphs:
                    names |= _inputs(sub.node)
    return names


def _spliced(model: bytes, removed: set[int], inserts: dict[int, bytes], unused: set[int],
             graph_tail: bytes) -> bytes:
    """The model's bytes with nodes removed and others put in their place, unused initializers
    left out and ``graph_tail`` (serialised graph fields) added, copying the rest as it is:
    cheaper than serialising the whole model again (0.3 s for Kokoro's 92 MB). Node and
    initializer indices count across every ``graph`` field, as protobuf merges them."""
    model = memoryview(model)  # slices without copies
    out, node_k, init_k, begin, first = [], 0, 0, 0, True
    for number, wire, start, end in _fields(model, 0, len(model)):
        if number != 7 or wire != 2:  # ModelProto.graph
            out.append(model[begin:end])
            begin = end
            continue
        parts, field_begin = [], start
        for gnum, gwire, _, gend in _fields(model, start, end):
            whole = model[field_begin:gend]
            if gnum == 1 and gwire == 2:  # GraphProto.node
                parts.append(inserts.get(node_k, b""))
                if node_k not in removed:
                    parts.append(whole)
                node_k += 1
            elif gnum == 5 and gwire == 2:  # GraphProto.initializer
                if init_k not in unused:
                    parts.append(whole)
                init_k += 1
            else:
                parts.append(whole)
            field_begin = gend
        if first:
            parts.append(graph_tail)
            first = False
        out.append(_length_delimited(7, b"".join(parts)))
        begin = end
    return b"".join(out)
