"""Metal or not, from the composition alone: BRNetClassifier on JARVIS band gaps.

Run: ``python examples/classify_metals.py [--quick]``. A composition is a metal
when its optB88vdW band gap is 0 (71% of the deduplicated JARVIS set). The full
run trains the default recipe (100-epoch schedule) on the BRNet protocol's
81:9:10 split; ``--quick`` gives it 20 seconds.
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline

from skmatnet import (
    BRNetClassifier,
    ElementFractionTransformer,
    load_dataset,
    n_elements,
    train_val_test_split,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 seconds of training")
    args = parser.parse_args()

    formulas, gap = load_dataset("jarvis_optb88vdw_bandgap", return_X_y=True)
    labels = np.where(gap <= 0, "metal", "non-metal")
    X = ElementFractionTransformer().fit_transform(formulas)
    train, val, test = train_val_test_split(np.arange(len(labels)), stratify=n_elements(X),
                                            random_state=1234567)

    net = BRNetClassifier(random_state=0, max_time=20 if args.quick else None)
    model = Pipeline([("ef", ElementFractionTransformer()), ("net", net)])
    model.fit(formulas[train], labels[train], net__X_val=X[val], net__y_val=labels[val])
    linear = Pipeline([("ef", ElementFractionTransformer()),
                       ("lr", LogisticRegression(C=100, max_iter=5000))])
    linear.fit(formulas[train], labels[train])

    truth = labels[test]
    for name, fitted in (("BRNetClassifier", model), ("logistic regression", linear)):
        proba = fitted.predict_proba(formulas[test])
        predicted = fitted.predict(formulas[test])
        print(f"{name:>20}: ROC-AUC {roc_auc_score(truth == 'non-metal', proba[:, 1]):.4f}  "
              f"accuracy {accuracy_score(truth, predicted):.4f}  "
              f"F1(non-metal) {f1_score(truth, predicted, pos_label='non-metal'):.4f}  "
              f"log-loss {log_loss(truth, proba, labels=fitted.classes_):.4f}")
    probe = ["NaCl", "Cu3Au", "GaAs"]
    p_nonmetal = model.predict_proba(probe)[:, 1]
    chances = ", ".join(f"{f} {p:.3f}" for f, p in zip(probe, p_nonmetal, strict=True))
    print(f"classes: {', '.join(model.classes_)}; P(non-metal): {chances}")


if __name__ == "__main__":
    main()
