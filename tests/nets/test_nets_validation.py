"""Constructor argument validation: ValueError naming the argument and the value."""

from __future__ import annotations

import re

import pytest

from skmatnet.nets import BNet, BRNet, ElemNet, FCMnR, FCUNet, IRNet

BAD_ARGS = [
    # common
    (ElemNet, {"n_features": 0}, "n_features"),
    (IRNet, {"n_features": 2.5}, "n_features"),
    (BRNet, {"n_outputs": 0}, "n_outputs"),
    (FCUNet, {"n_outputs": True}, "n_outputs"),
    # ElemNet
    (ElemNet, {"widths": ()}, "widths"),
    (ElemNet, {"widths": (16, 0)}, "widths"),
    (ElemNet, {"widths": "1024"}, "widths"),
    (ElemNet, {"dropout": -0.1}, "dropout"),
    (ElemNet, {"dropout": (0.2, 1.0)}, "dropout[1]"),
    (ElemNet, {"dropout": "0.2"}, "dropout"),
    (ElemNet, {"activation": "sigmoid"}, "activation"),
    # IRNet
    (IRNet, {"depth": 18}, "depth"),
    (IRNet, {"depth": 24, "widths": (8,)}, "depth"),
    (IRNet, {"widths": []}, "widths"),
    (IRNet, {"variant": "dense"}, "variant"),
    (IRNet, {"batch_norm": "yes"}, "batch_norm"),
    (IRNet, {"bn_momentum": 0.0}, "bn_momentum"),
    (IRNet, {"bn_momentum": 1.5}, "bn_momentum"),
    (IRNet, {"bn_eps": -1e-3}, "bn_eps"),
    # BRNet / BNet
    (BRNet, {"branch_location": "bottom"}, "branch_location"),
    (BRNet, {"branch_location": 6}, "branch_location"),
    (BRNet, {"branch_location": 1.0}, "branch_location"),
    (BRNet, {"branch_layers": ()}, "branch_layers"),
    (BRNet, {"branch_layers": (2, 0)}, "branch_layers"),
    (BNet, {"branch_layers": (2, -1)}, "branch_layers"),
    (BRNet, {"stage_widths": ()}, "stage_widths"),
    (BRNet, {"stage_layers": (4, 3)}, "stage_layers"),
    (BRNet, {"skip": 1}, "skip"),
    (BRNet, {"negative_slope": -0.3}, "negative_slope"),
    # FCMnR
    (FCMnR, {"n_blocks": -1}, "n_blocks"),
    (FCMnR, {"stream_width": 0}, "stream_width"),
    (FCMnR, {"stem_widths": ()}, "stem_widths"),
    (FCMnR, {"entry_widths": (512, 0)}, "entry_widths"),
    (FCMnR, {"block_widths": None}, "block_widths"),
    (FCMnR, {"head_widths": ()}, "head_widths"),
    # FCUNet
    (FCUNet, {"encoder_widths": ()}, "encoder_widths"),
    (FCUNet, {"encoder_widths": ((8,), ())}, "encoder_widths[1]"),
    (FCUNet, {"encoder_widths": ((8,),), "decoder_widths": ((4,),)}, "encoder_widths"),
    (FCUNet, {"decoder_widths": ((8,),) * 5}, "decoder_widths"),
    (FCUNet, {"decoder_widths": (8, 4)}, "decoder_widths[0]"),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "argname"),
    BAD_ARGS,
    ids=[f"{c.__name__}-{a}-{i}" for i, (c, _, a) in enumerate(BAD_ARGS)],
)
def test_bad_arguments_raise_value_error(cls, kwargs, argname):
    with pytest.raises(ValueError, match=re.escape(argname)) as info:
        cls(**kwargs)
    # the offending value (or the offending entry of a sequence) is quoted too
    if len(kwargs) == 1:
        (bad_value,) = kwargs.values()
        candidates = [bad_value]
        if isinstance(bad_value, tuple):
            candidates += list(bad_value)
        assert any(repr(c) in str(info.value) for c in candidates), str(info.value)


def test_valid_edge_arguments():
    ElemNet(widths=(4,), dropout=())
    ElemNet(widths=(4,), dropout=0.0)
    IRNet(depth=48, widths=None)
    BRNet(stage_widths=(4,), stage_layers=(1,), branch_layers=(1,))
    BRNet(stage_widths=(8, 4), stage_layers=(1, 1), branch_location="middle1")
    FCMnR(n_blocks=0, stream_width=2, stem_widths=(4,), entry_widths=(4,), block_widths=(4,),
          head_widths=(4,))  # fmt: skip
    FCUNet(encoder_widths=((4,), (2,)), decoder_widths=((3,),))


def test_numpy_arguments_are_accepted():
    np = pytest.importorskip("numpy")
    net = ElemNet(np.int64(10), widths=np.array([8, 4]), dropout=np.float64(0.1))
    assert net.widths == (8, 4) and net.n_features == 10
    assert (
        BRNet(stage_widths=[8, 4], stage_layers=[1, 1], branch_location=np.int64(1)).branch_stage
        == 1
    )
