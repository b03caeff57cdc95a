"""
Metal or not, from the composition alone
========================================

:class:`~skmatnet.BRNetClassifier` on the JARVIS-DFT band gaps: a composition is a metal when
its optB88vdW band gap is 0 (71% of the deduplicated set). It is compared with logistic
regression on the same fractions, by ROC-AUC, accuracy, F1 and log-loss, and their ROC
curves and reliability diagrams (scikit-learn's :class:`~sklearn.metrics.RocCurveDisplay`
and :class:`~sklearn.calibration.CalibrationDisplay`).
"""

# %%
# Settings: the gallery gives BRNet 8 seconds of training. Full:
# ``python examples/classification/classify_metals.py --full`` trains the default recipe
# (a classifier's 12-epoch schedule); ``--max-time 20`` gives it 20 seconds.
import sys

args = sys.argv[1:]
MAX_TIME = None if "--full" in args else float(args[args.index("--max-time") + 1]) \
    if "--max-time" in args else 8

# %%
# Labels and the BRNet protocol's 81:9:10 split, stratified by the number of elements.
import numpy as np

from skmatnet import ElementFractionTransformer, load_dataset, n_elements, train_val_test_split

formulas, gap = load_dataset("jarvis_optb88vdw_bandgap", return_X_y=True)
labels = np.where(gap <= 0, "metal", "non-metal")
X = ElementFractionTransformer().fit_transform(formulas)
train, val, test = train_val_test_split(np.arange(len(labels)), stratify=n_elements(X),
                                        random_state=1234567)
print(f"{len(labels):,} compositions, {np.mean(labels == 'metal'):.1%} metals")

# %%
# The two models. The classifier's validation set picks its best epoch.
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from skmatnet import BRNetClassifier

model = Pipeline([("ef", ElementFractionTransformer()),
                  ("net", BRNetClassifier(random_state=0, max_time=MAX_TIME))])
model.fit(formulas[train], labels[train], net__X_val=X[val], net__y_val=labels[val])
linear = Pipeline([("ef", ElementFractionTransformer()),
                   ("lr", LogisticRegression(C=100, max_iter=5000))])
linear.fit(formulas[train], labels[train])

# %%
# Scores on the test compositions.
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

truth = labels[test]
models = {"BRNetClassifier": model, "logistic regression": linear}
for name, fitted in models.items():
    proba = fitted.predict_proba(formulas[test])
    predicted = fitted.predict(formulas[test])
    print(f"{name:>20}: ROC-AUC {roc_auc_score(truth == 'non-metal', proba[:, 1]):.4f}  "
          f"accuracy {accuracy_score(truth, predicted):.4f}  "
          f"F1(non-metal) {f1_score(truth, predicted, pos_label='non-metal'):.4f}  "
          f"log-loss {log_loss(truth, proba, labels=fitted.classes_):.4f}")

# %%
# The ROC curves of P(non-metal) and the reliability diagrams, drawn by scikit-learn's
# displays straight from the fitted pipelines: they call ``predict_proba`` on the formulas
# and take the positive class from ``classes_`` ("non-metal", the second).
import matplotlib.pyplot as plt
from sklearn.calibration import CalibrationDisplay
from sklearn.metrics import RocCurveDisplay

fig, (roc_ax, calibration_ax) = plt.subplots(1, 2, figsize=(11, 5))
for name, fitted in models.items():
    RocCurveDisplay.from_estimator(fitted, formulas[test], truth, name=name, ax=roc_ax)
    CalibrationDisplay.from_estimator(fitted, formulas[test], truth, n_bins=10, name=name,
                                      ax=calibration_ax)
roc_ax.plot([0, 1], [0, 1], color="gray", linewidth=0.8, linestyle="--")
roc_ax.set_title("metal or not: ROC curves, JARVIS test compositions", fontsize=10)
calibration_ax.set_title("reliability: predicted P(non-metal) against the share", fontsize=10)
fig.tight_layout()

# %%
# Probabilities for new compositions; the classes are sorted, so column 1 is "non-metal".
probe = ["NaCl", "Cu3Au", "GaAs"]
for formula, p in zip(probe, model.predict_proba(probe)[:, 1], strict=True):
    print(f"{formula:>6}: P(non-metal) {p:.3f}")
