"""The reader's graph, rewritten for the way rag/reader.py runs it: one pair alone, unpadded.

The shipped file stays as trained and exported (its sha256 is the card's); at load, three
rewrites drop work that reading one unpadded pair never needs. Each leaves every logit exactly
what ONNX Runtime computes on the shipped graph (tests/test_reader_graph.py compares them on
validation pairs), so the calibration and the threshold still hold:

- ``mask``: with no padding the attention mask adds 0 to every score and the NaN guard after
  each softmax never fires; both go, with the ~100 nodes (constants included) that built the
  mask from ``attention_mask`` (which the graph then ignores: never feed it a padded batch).
- ``shapes``: the reshapes of the attention heads computed their target shape from other
  tensors' shapes at every run; they get it as a constant (0 keeps that dimension).
- ``last layer``: the pooler reads only the first token ([CLS]) of the last layer, so that
  layer's output matmul and norm run on that one row. Its input is still quantised over every
  token first (the int8 graph's activation scale is per run), so the row's values do not move.

A step whose pattern is not found is skipped (the graph then computes as before, only slower);
``rewrite`` says which steps it applied. ``rewritten`` keeps the result in the cache folder, so
that later processes load it without importing onnx (0.5 s, nearly all of a rewrite's cost).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from rag.durable import write_atomic
from rag.errors import RagError

MASK, SHAPES, LAST_LAYER = "mask", "shapes", "last layer"
# Token counts the shape probe runs the graph at (any two distinct lengths will do).
_PROBE_LENGTHS = (5, 9)


def rewritten(
    data: bytes, fused_norms: bool, cache: Path | None, refresh: bool = False
) -> tuple[bytes, tuple[str, ...]]:
    """``rewrite(data, fused_norms)``, kept in folder ``cache`` under a name that changes with
    the graph, ``fused_norms`` and this module's code; ``refresh``: rewritten and kept again. A
    cache that cannot be read or written is passed by (the rewrite is then done in memory)."""
    if cache is None:
        return rewrite(data, fused_norms)
    key = hashlib.sha256(data + Path(__file__).read_bytes() + bytes([fused_norms])).hexdigest()
    graph_path = cache / f"reader-graph-{key[:20]}.onnx"
    steps_path = graph_path.with_suffix(".json")
    try:  # the steps are written last: when they are there, the graph is whole
        if not refresh:
            steps = json.loads(steps_path.read_text(encoding="utf-8"))["rewrites"]
            return graph_path.read_bytes(), tuple(str(step) for step in steps)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    graph, done = rewrite(data, fused_norms)
    try:
        for old in cache.glob("reader-graph-*"):  # an older graph or code: one copy is kept
            old.unlink(missing_ok=True)
        write_atomic(graph_path, graph)
        write_atomic(steps_path, json.dumps({"rewrites": list(done)}).encode())
    except (OSError, RagError):  # not kept: the next load rewrites it again
        pass
    return graph, done


def rewrite(data: bytes, fused_norms: bool = True) -> tuple[bytes, tuple[str, ...]]:
    """The graph ``data`` rewritten for single unpadded pairs, and the steps applied.

    ``fused_norms``: whether the session fuses each residual add and its norm into
    SkipLayerNormalization (ONNX Runtime's ``SkipLayerNormFusion``); the last layer's norm, cut
    to one row, is written the same way, so that its arithmetic stays the session's."""
    import onnx

    model = onnx.load_from_string(data)
    graph = model.graph
    done: list[str] = []
    if _drop_mask(graph):
        done.append(MASK)
    _prune(graph)
    if _constant_shapes(model):
        done.append(SHAPES)
    cuts = _first_token_last_layer(model, fused_norms)
    if cuts:
        done.append(LAST_LAYER)
        # The shapes recorded at export no longer hold for the cut tensors (one token): the
        # runtime infers those; the others stay, ONNX Runtime's norm fusions need them.
        _forget_shapes(graph, _downstream(graph, cuts))
    _prune(graph)
    return model.SerializeToString(), tuple(done)


def _downstream(graph: Any, names: set[str]) -> set[str]:
    """The tensors computed from any of ``names`` (them included)."""
    out = set(names)
    for node in graph.node:  # topological order
        if any(name in out for name in node.input):
            out.update(node.output)
    return out


def _forget_shapes(graph: Any, names: set[str]) -> None:
    """Drop the recorded shapes of ``names``."""
    kept = [info for info in graph.value_info if info.name not in names]
    del graph.value_info[:]
    graph.value_info.extend(kept)


def _producers(graph: Any) -> dict[str, Any]:
    return {out: node for node in graph.node for out in node.output}


def _consumers(graph: Any, name: str) -> list[Any]:
    return [node for node in graph.node if name in node.input]


def _constant(name: str, producers: dict[str, Any], initializers: dict[str, Any]) -> Any:
    """The value of a constant tensor (initializer or Constant node), or None."""
    from onnx import numpy_helper

    if name in initializers:
        return numpy_helper.to_array(initializers[name])
    node = producers.get(name)
    if node is not None and node.op_type == "Constant" and node.attribute:
        return numpy_helper.to_array(node.attribute[0].t)
    return None


def _scalar(value: Any) -> float | None:
    if value is None or np.size(value) != 1:
        return None
    return float(np.asarray(value).reshape(-1)[0])


def _rename_input(graph: Any, old: str, new: str) -> None:
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new


def _prune(graph: Any) -> None:
    """Drop the nodes and initializers no graph output depends on."""
    needed = {out.name for out in graph.output}
    kept = []
    for node in reversed(list(graph.node)):
        if any(out in needed for out in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    kept.reverse()
    del graph.node[:]
    graph.node.extend(kept)
    initializers = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)


def _drop_mask(graph: Any) -> bool:
    """softmax(scores + where(mask, 0, -inf)) -> softmax(scores); where(isnan(p), 0, p) -> p."""
    producers = _producers(graph)
    initializers = {t.name: t for t in graph.initializer}
    softmaxes = [n for n in graph.node if n.op_type == "Softmax"]
    dropped = 0
    for softmax in softmaxes:
        add = producers.get(softmax.input[0])
        if add is None or add.op_type != "Add":
            continue
        for side in (0, 1):
            where = producers.get(add.input[side])
            if where is None or where.op_type != "Where":
                continue
            kept = _scalar(_constant(where.input[1], producers, initializers))
            masked = _scalar(_constant(where.input[2], producers, initializers))
            if kept == 0.0 and masked is not None and np.isneginf(masked):
                softmax.input[0] = add.input[1 - side]
                dropped += 1
                break
    guards = 0
    for node in list(graph.node):
        isnan = producers.get(node.input[0]) if node.op_type == "Where" else None
        if isnan is None or isnan.op_type != "IsNaN" or isnan.input[0] != node.input[2]:
            continue
        if producers.get(node.input[2]) in softmaxes:  # the guard after a softmax
            _rename_input(graph, node.output[0], node.input[2])
            guards += 1
    return dropped == guards == len(softmaxes) > 0


def _constant_shapes(model: Any) -> bool:
    """Each computed Reshape target as a constant, derived from a probe at two lengths and
    kept only when it reproduces the probed output shape at both."""
    from onnx import numpy_helper

    graph = model.graph
    producers = _producers(graph)
    initializers = {t.name: t for t in graph.initializer}
    reshapes = [
        n
        for n in graph.node
        if n.op_type == "Reshape" and _constant(n.input[1], producers, initializers) is None
    ]
    if not reshapes:
        return False
    probes = _probe(model, {name for n in reshapes for name in (*n.input, n.output[0])})
    changed = 0
    for node in reshapes:
        target = _constant_target(
            [
                (probe[node.input[0]].shape, probe[node.input[1]], probe[node.output[0]].shape)
                for probe in probes
            ]
        )
        if target is None:
            continue
        name = f"{node.name}/constant_shape"
        graph.initializer.append(numpy_helper.from_array(np.asarray(target, np.int64), name))
        node.input[1] = name
        changed += 1
    return changed == len(reshapes)


def _constant_target(runs: list[tuple[tuple[int, ...], Any, tuple[int, ...]]]) -> list[int] | None:
    """A Reshape target (0: keep the input's dimension) that fits every probed run, or None."""
    first = [int(x) for x in runs[0][1]]
    target = []
    for i, value in enumerate(first):
        if all(i < len(inp) and int(shape[i]) == inp[i] for inp, shape, _ in runs):
            target.append(0)
        elif all(int(shape[i]) == value for _, shape, _ in runs):
            target.append(value)
        else:
            target.append(-1)
    if target.count(-1) > 1:
        return None
    for inp, _, out in runs:
        dims = [inp[i] if t == 0 else t for i, t in enumerate(target)]
        if -1 in dims:
            known = int(np.prod([d for d in dims if d != -1]))
            dims[dims.index(-1)] = int(np.prod(inp)) // max(known, 1)
        if tuple(dims) != tuple(out):
            return None
    return target


def _probe(model: Any, names: set[str]) -> list[dict[str, Any]]:
    """The values of tensors ``names`` with the graph run on pairs of two lengths."""
    import onnx
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    outputs = {out.name for out in probe.graph.output}
    for name in sorted(names - outputs):
        info = onnx.ValueInfoProto()
        info.name = name
        probe.graph.output.append(info)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(
        probe.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    wanted = [out.name for out in session.get_outputs()]
    runs = []
    for length in _PROBE_LENGTHS:
        ids = np.full((1, length), 1000, dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        feed["token_type_ids"] = np.zeros_like(ids)
        feed = {k: v for k, v in feed.items() if k in {i.name for i in session.get_inputs()}}
        runs.append(dict(zip(wanted, session.run(wanted, feed), strict=True)))
    return runs


def _first_token_last_layer(model: Any, fused_norms: bool) -> set[str]:
    """pooler(LayerNorm(residual + dense(q))[:, 0]) with dense and the norm on row 0 only:
    ``q`` (the quantised activations, scaled over every token) and ``residual`` are cut to
    their first row before the matmul. With ``fused_norms`` the norm is written as the
    SkipLayerNormalization ONNX Runtime makes of it on the full graph (it does not fuse the cut
    one), so the row's arithmetic is the same. Returns the cut tensors (none: not found)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    producers = _producers(graph)
    initializers = {t.name: t for t in graph.initializer}
    for gather in [n for n in graph.node if n.op_type == "Gather"]:
        axis = next((a.i for a in gather.attribute if a.name == "axis"), 0)
        index = _scalar(_constant(gather.input[1], producers, initializers))
        norm = producers.get(gather.input[0])
        if axis != 1 or index != 0.0 or norm is None:
            continue
        if norm.op_type != "LayerNormalization" or len(norm.input) < 3:
            continue
        if _consumers(graph, norm.output[0]) != [gather]:
            continue
        add = producers.get(norm.input[0])
        if add is None or add.op_type != "Add" or len(_consumers(graph, add.output[0])) != 1:
            continue
        for side in (0, 1):
            matmul = _matmul_behind(add.input[side], producers)
            if matmul is not None:
                break
        else:
            continue
        residual = add.input[1 - side]
        epsilon = next((a.f for a in norm.attribute if a.name == "epsilon"), 1e-5)
        names = ("first_token/starts", "first_token/ends", "first_token/axes")
        for name, value in zip(names, (0, 1, 1), strict=True):
            graph.initializer.append(numpy_helper.from_array(np.asarray([value], np.int64), name))
        cuts = []
        for source in (matmul.input[0], residual):
            cut = f"{source}/first_token"
            cuts.append(helper.make_node("Slice", [source, *names], [cut], name=cut))
        matmul.input[0] = cuts[0].output[0]
        add.input[1 - side] = cuts[1].output[0]
        nodes = list(graph.node)
        at = nodes.index(matmul)
        nodes[at:at] = cuts
        if fused_norms:
            fused = helper.make_node(
                "SkipLayerNormalization",
                [add.input[side], cuts[1].output[0], *norm.input[1:3]],
                [norm.output[0]],
                name=f"{norm.name}/first_token",
                domain="com.microsoft",
                epsilon=epsilon,
            )
            nodes[nodes.index(norm)] = fused
            nodes.remove(add)
            if not any(o.domain == "com.microsoft" for o in model.opset_import):
                model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
        del graph.node[:]
        graph.node.extend(nodes)
        return {cut.output[0] for cut in cuts}
    return set()


def _matmul_behind(name: str, producers: dict[str, Any]) -> Any:
    """The one MatMulInteger whose result ``name`` is, through its dequantising Cast/Mul/Add
    (bias and scales), or None."""
    found = []
    todo = [name]
    while todo:
        node = producers.get(todo.pop())
        if node is None:
            continue
        if node.op_type == "MatMulInteger":
            found.append(node)
        elif node.op_type in ("Add", "Mul", "Cast"):
            todo.extend(node.input)
    return found[0] if len(found) == 1 else None
