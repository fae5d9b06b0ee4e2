"""An optional ONNX Runtime path for the encoder (issue #6).

Only the transformer encoder runs in ONNX Runtime; the role head, the tagger
and decoding stay in torch, so an :class:`Annotator` switches runtime by
swapping ``annotator.net.encoder`` for an :class:`OnnxEncoder` (see
:func:`use_onnx`). The encoder is where nearly all the arithmetic is, and
keeping the heads in torch means one code path for everything after it.

The graph is exported once per model directory and cached beside the
weights (``encoder.onnx``, ``encoder.<recipe>.onnx``): exporting takes
seconds, loading a cached file a fraction of that. A cached file older than
``model.safetensors`` is exported again, so retraining into the same
directory cannot leave a stale graph behind. Files are written to a temporary
name and renamed, so a crash or two processes exporting at once (Ray actors)
never leave a half-written graph.

The exported graph is passed through ONNX Runtime's BERT fusion
(``onnxruntime.transformers.optimizer``): attention, GELU and the layer norms
become single fused kernels. That is numerically the same graph (tests hold
it within 1e-4 of torch), and it is what lets int8 quantisation reach the
attention projections too.

int8 recipes are dynamic quantisation (weights int8 ahead of time,
activations quantised per call): no calibration data is needed. Which recipe
keeps accuracy is a measured question, answered by ``bench/onnx_runtime.py``;
the recipes are fixed by name, so a cached ``encoder.<recipe>.onnx`` always
means the same thing.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np
import torch
from torch import nn

#: The weights file the cached graphs are compared against.
WEIGHTS_FILE = "model.safetensors"
#: Graph input and output names; OnnxEncoder feeds inputs by these names.
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
OPSET = 17

# Node-name patterns of the exported BERT graph, used to keep some MatMuls in fp32.
_FFN_OUT = r"/layer\.\d+/output/dense/MatMul"
_FFN_IN = r"/layer\.\d+/intermediate/dense/MatMul"


def _layer_pattern(layers: Callable[[int], list[int]]) -> Callable[[int], str]:
    """A pattern matching every node of the layers ``layers(num_layers)`` picks.

    The fusion renames each layer's attention ``Attention_<layer>``; other
    nodes keep the exporter's ``/layer.<i>/`` path.
    """
    def pattern(n: int) -> str:
        picked = "|".join(str(i) for i in layers(n))
        return rf"/layer\.({picked})/|^Attention_({picked})$"
    return pattern


#: ``quantize`` name -> options of ``onnxruntime.quantization.quantize_dynamic``
#: (``exclude`` is a regex, or a function of the layer count giving one, over
#: node names to keep in fp32). ``none`` is the fp32 graph. ``int8`` is the
#: recipe ``bench/onnx_runtime.py`` found to keep accuracy best; the others
#: are the variants it was chosen from, kept so the choice can be re-measured.
RECIPES: dict[str, dict[str, Any] | None] = {
    "none": None,
    # everything the quantiser knows, embedding Gathers included
    "int8-all": {},
    "int8-matmul": {"op_types_to_quantize": ["MatMul", "Attention"]},
    "int8-pc": {"op_types_to_quantize": ["MatMul", "Attention"], "per_channel": True},
    "int8-pc-rr": {"op_types_to_quantize": ["MatMul", "Attention"], "per_channel": True, "reduce_range": True},
    # the FFN's second MatMul reads GELU outputs, the widest-ranged activations of a BERT layer
    "int8-pc-ffnout-fp32": {"op_types_to_quantize": ["MatMul", "Attention"], "per_channel": True,
                            "exclude": _FFN_OUT},
    "int8-pc-ffn-fp32": {"op_types_to_quantize": ["MatMul", "Attention"], "per_channel": True,
                         "exclude": f"{_FFN_OUT}|{_FFN_IN}"},
    "int8-pc-ends-fp32": {"op_types_to_quantize": ["MatMul", "Attention"], "per_channel": True,
                          "exclude": _layer_pattern(lambda n: [0, n - 1])},
}
RECIPES["int8"] = RECIPES["int8-pc"]


class EncoderOutput(NamedTuple):
    """What the network reads from an encoder call (a BertModel output has the same field)."""

    last_hidden_state: torch.Tensor


class _GraphEntry(nn.Module):
    """Keyword call and a bare tensor out: BertModel's positional order differs across transformers versions."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=token_type_ids).last_hidden_state


def graph_path(directory: str | os.PathLike[str], quantize: str = "none") -> Path:
    """Where the graph for ``quantize`` is cached in a model directory."""
    if quantize not in RECIPES:
        raise ValueError(f"unknown quantize recipe {quantize!r}; one of {sorted(RECIPES)}")
    return Path(directory) / ("encoder.onnx" if quantize == "none" else f"encoder.{quantize}.onnx")


def _fresh(path: Path, *sources: Path) -> bool:
    """``path`` exists and is not older than any existing source."""
    if not path.is_file():
        return False
    mtime = path.stat().st_mtime
    return all(not s.is_file() or s.stat().st_mtime <= mtime for s in sources)


def _atomic(target: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(tmp)`` on a temporary file beside ``target``, then rename it over ``target``."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _export_fp32(encoder: nn.Module, out: Path) -> None:
    """Trace the encoder to ONNX and fuse it with ONNX Runtime's BERT optimiser."""
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel

    config = copy.deepcopy(encoder.config)
    # eager attention: its MatMul/Softmax pattern is what the fusion recognises (sdpa is left unfused);
    # a copy, so the caller's encoder keeps its own attention and training flag
    eager = AutoModel.from_config(config, attn_implementation="eager")
    eager.load_state_dict(encoder.state_dict())
    entry = _GraphEntry(eager).eval()
    # padding and both token types in the example, so no mask or type path is traced as a constant
    ids = torch.full((2, 8), 101, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    types = torch.zeros_like(ids)
    types[0, 4:] = 1
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, OUTPUT_NAME)}
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        raw = Path(tmp) / "raw.onnx"
        with torch.no_grad():
            torch.onnx.export(entry, (ids, mask, types), str(raw), input_names=list(INPUT_NAMES),
                              output_names=[OUTPUT_NAME], dynamic_axes=axes, opset_version=OPSET,
                              dynamo=False)
        fused = optimize_model(str(raw), model_type="bert", num_heads=int(config.num_attention_heads),
                               hidden_size=int(config.hidden_size), opt_level=0)
        fused.save_model_to_file(str(out))


def _quantize(source: Path, out: Path, recipe: dict[str, Any], num_layers: int) -> None:
    """Dynamic int8 quantisation of ``source`` with one of :data:`RECIPES`."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    options = dict(recipe)
    exclude = options.pop("exclude", None)
    if callable(exclude):
        exclude = exclude(num_layers)
    if exclude:
        nodes = onnx.load(str(source), load_external_data=False).graph.node
        options["nodes_to_exclude"] = [n.name for n in nodes if re.search(exclude, n.name)]
    # the fused (com.microsoft) ops defeat shape inference; their outputs are fp32
    quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT}, **options)


def export_encoder(encoder: nn.Module, directory: str | os.PathLike[str], quantize: str = "none") -> Path:
    """The cached ONNX graph of ``encoder`` for ``quantize`` in ``directory``, exported if missing or stale.

    ``quantize`` is a key of :data:`RECIPES`: ``none`` (fp32), ``int8`` (the
    recommended int8 recipe) or one of the int8 variants.
    """
    target = graph_path(directory, quantize)
    weights = Path(directory) / WEIGHTS_FILE
    fp32 = graph_path(directory, "none")
    if not _fresh(fp32, weights):
        _atomic(fp32, lambda tmp: _export_fp32(encoder, tmp))
    recipe = RECIPES[quantize]
    if recipe is not None and not _fresh(target, weights, fp32):
        layers = int(getattr(encoder.config, "num_hidden_layers", 0))
        _atomic(target, lambda tmp: _quantize(fp32, tmp, recipe, layers))
    return target


class OnnxEncoder(nn.Module):
    """An ONNX Runtime session standing in for a Hugging Face encoder in ``SourcemarkNet``.

    Inputs are fed by the graph's own input names, never by position: BERT's
    inputs are all int64 of the same shape, so a wrong order would run
    without error and silently swap the attention mask with the token types.
    """

    def __init__(self, path: str | os.PathLike[str], config: Any, threads: int | None = None) -> None:
        super().__init__()
        import onnxruntime as ort

        options = ort.SessionOptions()
        # torch's setting, so --threads / Ray's threads_per_actor also bound this runtime
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.config = config
        self.path = Path(path)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> EncoderOutput:
        """Hidden states as a torch tensor; token types default to 0, as in BertModel."""
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        feed = {name: np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype=np.int64)
                for name, tensor in given.items() if name in self.input_names}
        (states,) = self.session.run([OUTPUT_NAME], feed)
        return EncoderOutput(torch.from_numpy(states))


def use_onnx(annotator: Any, model_dir: str | os.PathLike[str], quantize: str = "none") -> None:
    """Run ``annotator``'s encoder in ONNX Runtime from now on (exporting the graph on first use)."""
    encoder = annotator.net.encoder
    if isinstance(encoder, OnnxEncoder):
        raise ValueError("this annotator's encoder already runs in ONNX Runtime")
    path = export_encoder(encoder, model_dir, quantize)
    annotator.net.encoder = OnnxEncoder(path, encoder.config)


#: ``sourcemark score --runtime`` names -> ``use_onnx`` quantize recipe (None: stay in torch).
RUNTIMES: dict[str, str | None] = {"torch": None, "onnx": "none", "onnx-int8": "int8"}


def use_runtime(annotator: Any, model_dir: str | os.PathLike[str], runtime: str) -> None:
    """Apply a ``--runtime`` name to a freshly loaded annotator (``torch`` leaves it as is)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; one of {', '.join(RUNTIMES)}")
    quantize = RUNTIMES[runtime]
    if quantize is not None:
        use_onnx(annotator, model_dir, quantize)
