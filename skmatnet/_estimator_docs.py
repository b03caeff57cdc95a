"""Parameter and attribute documentation shared by every skmatnet estimator, written once.

:class:`skmatnet.estimators.MatNetRegressor` and
:class:`skmatnet.classifiers.MatNetClassifier` append these sections to the
docstring of each estimator class, so ``help(BRNetRegressor)`` shows every
parameter with its default, as skorch and imbalanced-learn do. What differs
between the kinds (the loss, the classifier's ``class_weight`` and
``classes_``) is filled in per kind.
"""

from __future__ import annotations

import inspect
import textwrap

__all__ = ["ATTRIBUTES", "PARAMETERS", "document_estimator", "with_shared_sections"]

PARAMETERS = """\
Parameters
----------
module : torch.nn.Module class or instance
    The network. As a class it is built in ``fit`` with the ``module__*``
    parameters plus ``n_features`` (from ``X``) and ``n_outputs`` (from
    ``y``), so widths can be tuned with e.g. ``module__widths``.
{criterion}optimizer : torch optimizer class, default=torch.optim.AdamW
    AdamW with torch's weight decay of 0.01 (the papers: Adam). Further
    settings as ``optimizer__*`` (e.g. ``optimizer__weight_decay``). Adam
    and AdamW run as torch's fused kernel on a CPU or CUDA device (the same
    algorithm; on a CPU 1.6-1.8x faster epochs at the small batches of small
    sets) unless ``optimizer__fused`` or ``optimizer__foreach`` is given.
lr : float or "auto", default="auto"
    Peak learning rate of the schedule. ``"auto"``: 4e-3 at batch 256,
    scaled by the square root of a smaller batch size (1e-3 at batch 16),
    falling above 16,384 rows, and for a regressor below about 320 rows by
    100 / the schedule's epochs (3.5e-4 on 100 rows; not for the networks
    with batch norm); see ``effective_params_``. The papers: a constant 1e-4.
max_epochs : int or None, default=None
    Length of the schedule in epochs. ``None``: 100 epochs and at least
    2,000 optimizer steps (a few hundred rows train for several hundred
    epochs; a classifier: 12 epochs and 1,000 steps), or as many epochs as
    ``max_time`` allows when that is given
    (the schedule then runs over the time budget). The paper recipe: at
    most 3000 epochs.
batch_size : int or "auto", default="auto"
    Training batch size. ``"auto"``: a 64th of the training rows, as a power
    of two from 16 to 256 (256 from 16,384 rows up). The papers: 32.
    Prediction uses batches of 4096 (``iterator_valid__batch_size``), which
    only changes speed.
patience : int or None, default=None
    Early stopping: stop after this many epochs without a lower validation
    loss. ``None`` trains the whole schedule. Either way, when a validation
    set is monitored the weights of its best epoch are kept at the end (with
    an annealed rate that is usually the last epoch; a network that overfits,
    like ElemNet, is best earlier), or an average of epochs that validates
    no worse (``average_weights``). The paper recipe: 100 for BRNet/BNet, 200
    for ElemNet, IRNet and Tatis et al.'s networks.
validation_fraction : float, None or "auto", default="auto"
    Fraction of the training rows held out, by a shuffled random split, to
    monitor the validation loss for early stopping, the kept epoch and the
    LR schedule. ``None`` trains on all rows for ``max_epochs`` and keeps
    the last epoch. ``"auto"``: 0.1, except for a regressor given fewer than
    1,000 rows (``None``: a few dozen validation rows pick the kept epoch by
    chance, and the network learns from 10% more rows) and a classifier
    given fewer than 1,000 (120 rows, up to 0.4: they choose its kept epoch
    and its temperature). A fixed validation set can instead be passed to
    :meth:`fit` as ``X_val``, ``y_val``.
lr_schedule : {"cosine", "onecycle", "constant", "plateau"}, dict or None, default="cosine"
    ``"cosine"``: a linear warm-up, then a cosine decay to zero, stepped
    every batch over ``max_epochs`` or ``max_time`` (whichever ends first).
    ``"onecycle"``: torch's ``OneCycleLR`` shape (rise from lr/25 over the
    ``warmup`` fraction, decay to lr/25/1e4). ``"constant"`` (or ``None``,
    the papers): a constant rate after the warm-up. ``"plateau"`` reduces
    the rate by 10x when the validation loss stalls for 45 epochs, down to
    1e-8 (the iBRNet recipe); a dict overrides those ``ReduceLROnPlateau``
    settings.
warmup : float, default=0.05
    Fraction of the schedule spent warming the rate up from 1% of ``lr``
    (for ``"onecycle"``: the rising phase).
average_weights : float, None or "auto", default="auto"
    Average the weights of the epochs after this share of the schedule
    (:class:`~skmatnet.callbacks.WeightAveraging`; batch-norm statistics
    recomputed on the training rows) and keep the average, unless a monitored
    validation set finds the best single epoch better (``history_[-1,
    "averaged_epochs"]`` says which: the count of averaged epochs, or 0).
    ``None``: the kept epoch's weights. ``"auto"``: 0.5 for a classifier,
    ``None`` for a regressor. Applies to ``fit``, not to ``partial_fit`` or a
    warm-start fit (they continue a run). The papers: ``None``.
width : float or "auto", default="auto"
    Multiplies every hidden layer's width (``width_multiplier`` of the
    network); 1.0 is the published network. ``"auto"``: 0.5 (at equal
    training time the half-width network reaches a lower error than the
    published one), or the pretrained network's width with ``init_from``.
bn_momentum : float, default=0.1
    Momentum of the batch-norm running statistics, in the networks that have
    batch norm (IRNet, FCMnR, FCUNet); torch's default. The papers' Keras
    default (0.01 in torch's convention, ``from_recipe("paper")``) needs
    thousands of small batches: with batch 256 the running statistics lag the
    weights and the validation loss is far above the training loss.
random_state : int or None, default=None
    Seeds weight initialisation, batch shuffling, dropout and the
    validation split, so two fits on the same CPU give identical models.
    The global torch random state is left untouched.
device : str or torch.device, default="auto"
    ``"auto"`` trains on CUDA when available, else on the CPU. A model
    pickled on a GPU loads and predicts on a machine without one.
verbose : int, default=0
    0 is silent; 1 prints skorch's per-epoch table (losses, duration).
max_time : float or None, default=None
    Wall-clock budget in seconds: training stops at the end of the epoch
    that exceeds it (keeping the best weights, as early stopping does).
    With a cosine or one-cycle schedule the rate anneals over this budget,
    so ``fit`` returns the best model the time allows.
on_divergence : {"raise", "restore"}, default="raise"
    When the training or validation loss becomes NaN or infinite, or the
    training loss explodes (over 1000 times the loss the fit started from:
    a rate too high for the data), training stops and the last good weights
    (the best epoch's, with early stopping) are restored. ``"raise"`` then
    raises :class:`TrainingDivergedError`; ``"restore"`` only warns and
    returns the restored model.
checkpoint_dir : str, path-like or None, default=None
    Directory for checkpoints: ``last.pt`` (everything needed to resume,
    optimizer and random states included) every ``checkpoint_every``
    epochs and ``best.pt`` (weights) whenever the validation loss
    improves. ``fit(X, y, resume=True)`` continues an interrupted fit from
    ``last.pt`` and ends exactly as an uninterrupted fit would.
checkpoint_every : int, default=10
    Epochs between resumable checkpoints.
precision : {"float32", "tf32", "bf16"}, default="float32"
    Arithmetic of the network. ``"float32"`` is the papers' numerics.
    ``"tf32"`` lets CUDA matmuls use TensorFloat-32 (no effect on CPU);
    ``"bf16"`` runs the forward pass under bfloat16 autocast (weights and
    optimizer stay float32). See the performance guide for measurements.
fast_path : bool, default=True
    Keep the training data on the device as whole tensors, slice shuffled
    batches from them and read the loss once per epoch instead of once per
    batch. ``False`` uses skorch's standard DataLoader and per-batch
    logging; for the same seed both give the same model.
init_from : str, path-like, fitted estimator or None, default=None
    Fine-tuning: start every fit from the weights of a pretrained model of
    the same network: the path of a file written by
    :func:`~skmatnet.save_model` or the name of a bundled pretrained model
    (:func:`skmatnet.pretrained.list_models`; what ``clone``,
    ``GridSearchCV`` and ``cross_val_score`` keep), or a fitted estimator or
    ``Pipeline`` ending in one. Its network class and input width must
    match; ``width`` and ``module__*`` left unset are the pretrained
    network's, and a mismatch of set ones is an error naming the layer. From
    an ensemble, a fit starts from member ``random_state % n_members``
    (member 0 without a seed). The output layer is copied from a model of the
    same kind where its shape matches, else trained afresh (a classifier from
    a regressor, another number of targets). The rate and schedule are this
    estimator's own: fine-tune at a lower ``lr``.
freeze_layers : int, default=0
    With ``init_from``: the number of leading layers (each linear layer with
    its normalisation, in forward order) whose weights and batch-norm
    statistics stay as pretrained.
reset_output : bool, default=False
    With ``init_from``: train the output layer from a fresh initialisation
    even where the pretrained one has the right shape (a new property with
    one target).
input_init : {"elements", "glorot"}, default="elements"
    How the layers that read the 86 element fractions start. ``"elements"``:
    mostly from the elements' properties (atomic number, period, group,
    electronegativity, radius, Mendeleev number, melting point, ionization
    energy, electron affinity, molar volume, block;
    :func:`skmatnet.nets.element_informed_init_`), so chemically similar
    elements start alike; on a hundred to a few thousand rows of JARVIS
    formation energies and band gaps this lowers the error by 4-19%
    (``docs/defaults.md``; on alloys dominated by one element, such as
    steels, ``"glorot"`` may do better). ``"glorot"``: random Glorot-uniform weights, as
    the papers (``from_recipe("paper")``). Inputs of another width, a
    ``module`` given as an instance and ``init_from`` start as they would
    without it.
{kind_parameters}**kwargs
    Any other skorch ``NeuralNet`` parameter, e.g. ``module__*``,
    ``optimizer__*``, ``callbacks``, ``iterator_train__*``, ``warm_start``.
"""

ATTRIBUTES = """\
Attributes
----------
module_ : torch.nn.Module
    The trained network (best epoch when early stopping ran).
history_ : skorch.History
    Per-epoch losses and timings.
n_features_in_ : int
    Number of features seen in ``fit``.
feature_names_in_ : ndarray of str
    Feature names seen in ``fit``, when ``X`` was a DataFrame.
{kind_attributes}effective_params_ : dict
    What the last training run used for the parameters the rules may set
    (``lr``, ``batch_size``, ``width``, ``validation_fraction``, and
    ``max_epochs``, ``None`` where ``max_time`` sets the schedule): the
    parameter where given, else the rules' choice for the run's training rows
    and task
    (``docs/defaults.md``). ``get_params`` keeps showing ``"auto"`` (inside
    a fit, where skorch's callbacks read it, the values the fit uses).
n_epochs_ : int
    Epochs run in the last ``fit``.
best_epoch_ : int or None
    Epoch (1-based) whose weights were kept, when a validation loss was
    monitored.
stop_reason_ : str
    Why the last fit ended: ``"max_epochs"``, ``"early_stopping"``,
    ``"max_time"``, ``"interrupted"`` (Ctrl-C; the best or last complete
    epoch's weights are kept) or ``"diverged"``.
"""


#: What the sections say that differs by estimator kind.
KIND_SECTIONS = {
    "regressor": {
        "criterion": """\
criterion : torch loss class, default=torch.nn.L1Loss
    Mean absolute error, as in the papers.
""",
        "kind_parameters": """\
standardize_target : bool, default=True
    Train the network on targets in standard units, ``(y - target_mean_) /
    target_scale_`` (per column), and undo it in ``predict``: a property in
    meV, K or MPa trains as well as one in eV, and a fit on ``c * y + d``
    predicts ``c`` times the fit on ``y``, plus ``d``. The losses of
    ``history_`` are in the units of ``y``. ``partial_fit`` and warm starts
    keep the scale of the fit that started the run; fine-tuning keeps the
    pretrained model's where it keeps its output layer. The papers (and
    ``from_recipe("paper")``) train on raw targets (``False``).
""",
        "kind_attributes": """\
n_outputs_ : int
    Number of targets.
target_mean_, target_scale_ : ndarray of shape (n_outputs,)
    The scale the network's outputs are in: ``predict`` returns
    ``output * target_scale_ + target_mean_`` (zeros and ones for raw
    targets).
""",
    },
    "classifier": {
        "criterion": """\
criterion : torch loss class, default=torch.nn.CrossEntropyLoss
    Cross-entropy (log-loss) on the network's one output per class; the
    validation loss that early stopping and the best-epoch choice monitor is
    therefore the validation log-loss (weighted by ``class_weight``).
""",
        "kind_parameters": """\
class_weight : "balanced", dict or None, default=None
    Weights of the classes in the loss: ``"balanced"`` weighs each class by
    ``n_samples / (n_classes * count)`` of the training labels (as
    scikit-learn's ``compute_class_weight``), a dict maps labels to weights
    (missing labels weigh 1), ``None`` weighs all alike.
classes : array-like or None, default=None
    All labels the model should know, when ``y`` of the first fit does not
    show them all (``partial_fit`` on chunks). ``None``: the labels of ``y``.
temperature_scaling : bool, default=True
    Fit one temperature on the validation rows at the end of training and
    divide the class scores by it in ``predict_proba``: the probabilities
    then are as sure as the network is right (BRNet's test log-loss fell by
    a third on 300 JARVIS rows, by 8% on 1,000), and the predicted classes
    and their ranking do not change. Without validation rows
    (``validation_fraction=None``) the temperature is 1. The papers
    (``from_recipe("paper")``): off.
""",
        "kind_attributes": """\
classes_ : ndarray of shape (n_classes,)
    The class labels, sorted; columns of :meth:`predict_proba` follow them.
temperature_ : float
    What :meth:`predict_proba` divides the network's class scores by: fitted
    on the validation rows with ``temperature_scaling``, else 1.
n_outputs_ : int
    Network outputs: one per class (two for a binary task).
""",
    },
}


def with_shared_sections(doc: str | None, kind: str = "regressor") -> str:
    """``doc`` (a class docstring) followed by the shared Parameters and Attributes."""
    doc = inspect.cleandoc(doc or "")
    if "\nParameters\n" not in doc:
        sections = KIND_SECTIONS[kind]
        text = f"{PARAMETERS}\n{ATTRIBUTES}"
        for key, value in sections.items():  # not str.format: the text has braces of its own
            text = text.replace("{" + key + "}", value)
        doc = f"{doc}\n\n{text}"
    return textwrap.indent(doc, "    ").lstrip()


def document_estimator(cls, kind_init, base_init, kind: str = "regressor") -> None:
    """Append the shared sections to ``cls.__doc__`` and give ``cls`` the full signature.

    The signature is the shared base's ``__init__`` with the defaults of the
    kind's ``__init__`` (the loss) and of this class's own (its network), and
    the kind's own parameters before ``**kwargs``, so ``help(cls)`` and
    ``inspect.signature(cls)`` list every parameter.
    """
    cls.__doc__ = with_shared_sections(cls.__doc__ or cls.__name__, kind)
    own = inspect.signature(cls.__init__).parameters
    kind_params = {name: p for name, p in inspect.signature(kind_init).parameters.items()
                   if name != "self" and p.kind is not p.VAR_KEYWORD}
    params = [p for name, p in inspect.signature(base_init).parameters.items()
              if name != "self"]
    params = [kind_params.pop(p.name, p) for p in params]
    params = params[:-1] + list(kind_params.values()) + params[-1:]  # **kwargs stays last
    params = [p.replace(default=own[p.name].default) if p.name in own else p for p in params]
    cls.__signature__ = inspect.Signature(params)
