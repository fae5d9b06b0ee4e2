"""The ONNX Runtime path for the encoder: ``sourcemark score``'s default runtime.

Only the transformer encoder runs in ONNX Runtime; the role head, the tagger
and decoding stay in torch, so an :class:`Annotator` switches runtime by
swapping ``annotator.net.encoder`` for an :class:`OnnxEncoder` (see
:func:`use_onnx`). The encoder is where nearly all the arithmetic is, and
keeping the heads in torch means one code path for everything after it.

The graph is exported once per model directory and cached beside the
weights (``encoder.onnx``, ``encoder.<recipe>.onnx``): exporting takes
seconds, loading a cached file a fraction of that. Each graph has a key
beside it (``encoder.onnx.key``): the sha256 of the weights it was exported
from, its recipe and the opset. A graph whose key differs from the loaded
weights' is exported again, so neither retraining into the same directory
nor weights copied in with their old modification times (``cp -p``,
``rsync -a``, ``tar x``) can pair a stale graph with new heads; times are
never trusted. A cached graph ONNX Runtime cannot load (truncated, corrupt)
is exported again once rather than abandoned (:func:`load_graph`). Files are
written to a temporary name and renamed, so a crash or two processes
exporting at once (Ray actors) never leave a half-written graph.

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
import json
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np
import torch
from torch import nn

from sourcemark.model.annotator import WEIGHTS_FILE, file_sha256, output_file_mode

#: Graph input and output names; OnnxEncoder feeds inputs by these names.
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
OPSET = 17

def layer_pattern(layers: Callable[[int], list[int]]) -> Callable[[int], str]:
    """A recipe ``exclude``: a pattern matching every node of the layers ``layers(num_layers)`` picks."""
    def pattern(n: int) -> str:
        return r"/layer\.(" + "|".join(str(i) for i in layers(n)) + r")/"
    return pattern


#: The linear layers (the fused Attention holds Q, K and V): what int8 recipes quantise.
QUANTISED_OPS = ["MatMul", "Attention"]
#: Recipe name -> options of ``onnxruntime.quantization.quantize_dynamic`` (``exclude`` is a regex,
#: or a function of the layer count giving one, over the node paths of :func:`_node_paths`: matching
#: nodes stay fp32); ``none`` is the fp32 graph. Only the recipes scoring uses live here; the variants
#: the choice was made from are ``bench/onnx_runtime.py``'s, which passes them as ``recipes``.
Recipes = Mapping[str, "dict[str, Any] | None"]
RECIPES: dict[str, dict[str, Any] | None] = {
    "none": None,
    # one weight scale per output column: MiniLM's weights have columns of very different ranges
    "int8-pc": {"op_types_to_quantize": QUANTISED_OPS, "per_channel": True},
}
#: What ``quantize="int8"`` means: the fastest recipe that kept the dev-set scores on the models it was
#: measured on (bench/onnx_runtime.py); each model is still checked before use. An alias rather than a
#: copy, so its graph is cached under the recipe's own name and re-pointing it cannot leave an
#: ``encoder.int8.onnx`` made by another recipe behind.
INT8 = "int8-pc"


def _recipe_name(quantize: str, recipes: Recipes = RECIPES) -> str:
    """``quantize`` with the ``int8`` alias resolved, checked against ``recipes``."""
    name = INT8 if quantize == "int8" else quantize
    if name not in recipes:
        raise ValueError(f"unknown quantize recipe {quantize!r}; one of int8, {', '.join(recipes)}")
    return name


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


def graph_path(directory: str | os.PathLike[str], quantize: str = "none", recipes: Recipes = RECIPES) -> Path:
    """Where the graph for ``quantize`` is cached in a model directory."""
    name = _recipe_name(quantize, recipes)
    return Path(directory) / ("encoder.onnx" if name == "none" else f"encoder.{name}.onnx")


def key_path(graph: Path) -> Path:
    """Where the key of a cached graph is kept."""
    return graph.with_name(graph.name + ".key")


def cache_key(weights_sha256: str, quantize: str = "none", recipes: Recipes = RECIPES) -> dict[str, Any]:
    """What a cached graph must have been made from to be used: the weights, the recipe and the opset."""
    return {"weights_sha256": weights_sha256, "recipe": _recipe_name(quantize, recipes), "opset": OPSET}


def weights_sha256_of(annotator: Any, directory: str | os.PathLike[str]) -> str:
    """The key of ``annotator``'s weights: recorded when they were loaded or saved, else its directory's file."""
    return getattr(annotator, "weights_sha256", None) or file_sha256(Path(directory) / WEIGHTS_FILE)


def _cached(graph: Path, key: dict[str, Any]) -> bool:
    """``graph`` exists and its key says it was made from ``key``'s weights, recipe and opset."""
    if not graph.is_file():
        return False
    try:
        return json.loads(key_path(graph).read_text(encoding="utf-8")) == key
    except (OSError, ValueError):
        return False


def _store(graph: Path, key: dict[str, Any], write: Callable[[Path], None]) -> None:
    """Write ``graph`` with ``write``, then its key: a graph being replaced never has a key naming it."""
    key_path(graph).unlink(missing_ok=True)
    _atomic(graph, write)
    _atomic(key_path(graph), lambda tmp: tmp.write_text(json.dumps(key) + "\n", encoding="utf-8"))


def _forget(graph: Path) -> None:
    """Delete a cached graph and its key, so the next export writes them again."""
    for path in (key_path(graph), graph):
        if path.is_file():
            path.unlink()


def _atomic(target: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(tmp)`` on a temporary file beside ``target``, then rename it over ``target``."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, output_file_mode())  # mkstemp's 0600 would hide the cache from other users of a shared model
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
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp, warnings.catch_warnings():
        # two tracer notices that do not apply to an encoder: the mask's padding length is 0 for
        # every shape, and the index ops get no negative indices (tests compare padded batches)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Exporting aten::index operator")
        raw = Path(tmp) / "raw.onnx"
        with torch.no_grad():
            torch.onnx.export(entry, (ids, mask, types), str(raw), input_names=list(INPUT_NAMES),
                              output_names=[OUTPUT_NAME], dynamic_axes=axes, opset_version=OPSET,
                              dynamo=False)
        fused = optimize_model(str(raw), model_type="bert", num_heads=int(config.num_attention_heads),
                               hidden_size=int(config.hidden_size), opt_level=0)
        fused.save_model_to_file(str(out))


def _node_paths(graph: Any) -> dict[str, str]:
    """Node name -> the exporter's module path (``/encoder/encoder/layer.3/...``), for matching recipes.

    Fusion names its nodes by counter (``Attention_3``), which says nothing
    reliable about the layer; such a node takes the layer of the node reading
    its output, so a layer pattern also reaches the fused attention.
    """
    readers: dict[str, list[str]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node.name)
    paths = {}
    for node in graph.node:
        path = node.name
        if "/layer." not in path:
            layer = [m.group(0) for out in node.output for reader in readers.get(out, [])
                     if (m := re.match(r".*/layer\.\d+/", reader))]
            path = f"{layer[0]}{node.op_type}" if layer else path
        paths[node.name] = path
    return paths


def _quantize(source: Path, out: Path, recipe: dict[str, Any], num_layers: int) -> None:
    """Dynamic int8 quantisation of ``source`` with one recipe's options."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    options = dict(recipe)
    exclude = options.pop("exclude", None)
    if callable(exclude):
        exclude = exclude(num_layers)
    if exclude:
        paths = _node_paths(onnx.load(str(source), load_external_data=False).graph)
        options["nodes_to_exclude"] = [name for name, path in paths.items() if re.search(exclude, path)]
    # the fused (com.microsoft) ops defeat shape inference; their outputs are fp32
    quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT}, **options)


def export_encoder(encoder: nn.Module, directory: str | os.PathLike[str], quantize: str = "none",
                   recipes: Recipes = RECIPES, weights_sha256: str | None = None) -> Path:
    """The cached ONNX graph of ``encoder`` for ``quantize`` in ``directory``, exported if missing or stale.

    ``quantize`` is ``none`` (fp32), ``int8`` (the recipe :data:`INT8`) or
    any key of ``recipes``. ``weights_sha256`` is the sha256 of the weights
    ``encoder`` was loaded from (``Annotator.weights_sha256``); without it the
    directory's weights file is hashed.
    """
    digest = weights_sha256 or file_sha256(Path(directory) / WEIGHTS_FILE)
    target = graph_path(directory, quantize, recipes)
    fp32, fp32_key = graph_path(directory, "none"), cache_key(digest, "none")
    exported = not _cached(fp32, fp32_key)
    if exported:
        _store(fp32, fp32_key, lambda tmp: _export_fp32(encoder, tmp))
    recipe, key = recipes[_recipe_name(quantize, recipes)], cache_key(digest, quantize, recipes)
    if recipe is not None and not _cached(target, key):
        layers = int(getattr(encoder.config, "num_hidden_layers", 0))
        try:
            _store(target, key, lambda tmp: _quantize(fp32, tmp, recipe, layers))
        except OSError:
            raise  # the directory cannot be written: exporting again would not help
        except Exception:  # noqa: BLE001 - onnx and onnxruntime raise their own types for an unreadable graph
            if exported:
                raise
            # the cached fp32 graph could not be read (truncated, corrupt): export it again, once
            _store(fp32, fp32_key, lambda tmp: _export_fp32(encoder, tmp))
            _store(target, key, lambda tmp: _quantize(fp32, tmp, recipe, layers))
    return target


def load_graph(encoder: nn.Module, directory: str | os.PathLike[str], quantize: str = "none",
               recipes: Recipes = RECIPES, weights_sha256: str | None = None,
               threads: int | None = None) -> "OnnxEncoder":
    """An :class:`OnnxEncoder` on the cached graph (see :func:`export_encoder`).

    A cached graph ONNX Runtime cannot load (truncated by a full disk or an
    interrupted copy, corrupt) is deleted and exported again, once: otherwise
    every later run would fail on it, or quietly fall back to torch.
    """
    path = export_encoder(encoder, directory, quantize, recipes, weights_sha256)
    try:
        return OnnxEncoder(path, encoder.config, threads)
    except Exception:  # noqa: BLE001 - onnxruntime raises its own error types for an unloadable graph
        _forget(path)
        path = export_encoder(encoder, directory, quantize, recipes, weights_sha256)
        return OnnxEncoder(path, encoder.config, threads)


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
        # no spinning: between runs its threads would busy-wait on the cores the heads, the decoding and the
        # thread preparing the next documents need (153 vs 140 passages/s in bench/score_throughput.py)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
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


def use_onnx(annotator: Any, model_dir: str | os.PathLike[str], quantize: str = "none",
             recipes: Recipes = RECIPES) -> None:
    """Run ``annotator``'s encoder in ONNX Runtime from now on (exporting the graph on first use).

    For scoring only: the torch encoder's weights are dropped, so an annotator
    switched this way must not be trained or saved.
    """
    encoder = annotator.net.encoder
    if isinstance(encoder, OnnxEncoder):
        raise ValueError("this annotator's encoder already runs in ONNX Runtime")
    annotator.net.encoder = load_graph(encoder, model_dir, quantize, recipes,
                                       weights_sha256_of(annotator, model_dir))
