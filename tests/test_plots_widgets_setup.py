"""coursekit.plots, coursekit.widgets and setup_notebook."""
from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import coursekit as ck  # noqa: E402
from coursekit import plots, widgets  # noqa: E402
from coursekit.train import History  # noqa: E402


@pytest.fixture
def history():
    return History(step_loss=np.linspace(2, 0.5, 20), epoch=[1, 2], train_loss=[1.5, 0.7], train_acc=[0.5, 0.8],
                   val_loss=[1.6, 0.9], val_acc=[0.45, 0.75], steps_per_epoch=10, label="relu")


def test_technique_colours_are_stable_and_fallback_by_index():
    assert plots.color("ReLU") == plots.COLORS["relu"] == plots.color("relu")
    assert plots.color("leaky-relu") == plots.COLORS["leaky_relu"]
    assert plots.color("something new", 1) != plots.color("something new", 2)


def test_plot_history_draws_loss_and_accuracy(history):
    fig = plots.plot_history(history)
    ax_loss, ax_acc = fig.axes
    assert len(ax_loss.lines) == 3 and len(ax_acc.lines) == 2
    assert list(ax_acc.lines[1].get_ydata()) == [0.45, 0.75]
    plt.close(fig)


def test_compare_histories_uses_labels_and_course_colours(history):
    other = History(epoch=[1, 2], val_acc=[0.2, 0.3], label="sigmoid")
    fig = plots.compare_histories([history, other])
    lines = fig.axes[0].lines
    assert [line.get_label() for line in lines] == ["relu", "sigmoid"]
    assert lines[0].get_color() == plots.COLORS["relu"] and lines[1].get_color() == plots.COLORS["sigmoid"]
    plt.close(fig)
    with pytest.raises(ValueError, match="unknown metric"):
        plots.compare_histories([history], metric="accuracy")
    with pytest.raises(ValueError, match="2 labels for 1 histories"):
        plots.compare_histories([history], labels=["a", "b"])
    with pytest.raises(TypeError, match="must be a coursekit History"):
        plots.compare_histories([{"val_acc": [1]}])


def test_show_images_grid_and_shape_checks():
    fig = plots.show_images(torch.rand(12, 64), labels=list(range(12)), ncols=5)
    assert len(fig.axes) == 15 and sum(bool(a.images) for a in fig.axes) == 12
    plt.close(fig)
    with pytest.raises(ValueError, match="not square"):
        plots.show_images(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="3 labels for 2 images"):
        plots.show_images(np.zeros((2, 4, 4)), labels=[1, 2, 3])


def test_interactive_figure_redraws_when_a_control_moves():
    def draw(depth, kind, scale):
        fig, ax = plt.subplots()
        ax.plot(np.arange(depth) * scale)
        ax.set_title(kind)
        return fig

    panel = widgets.interactive_figure(draw, depth=(2, 10), kind=["a", "b"], scale=(0.5, 2.0))
    assert panel.calls == 1 and panel.last_figure.axes[0].get_title() == "a"
    panel.controls["depth"].value = 7
    assert panel.calls == 2 and len(panel.last_figure.axes[0].lines[0].get_xdata()) == 7
    panel.controls["kind"].value = "b"
    assert panel.last_figure.axes[0].get_title() == "b" and panel.last_seconds >= 0


def test_interactive_figure_rejects_bad_controls():
    with pytest.raises(TypeError, match="control 'x'"):
        widgets.interactive_figure(lambda x: plt.figure(), x={"a": 1})
    with pytest.raises(ValueError, match="at least one control"):
        widgets.interactive_figure(lambda: plt.figure())
    with pytest.raises(TypeError, match="draw must be a function"):
        widgets.interactive_figure(3, x=(1, 2))


def test_setup_notebook_seeds_threads_and_prints_one_stable_line(capsys):
    assert ck.setup_notebook(seed=3, threads=1) is None
    line = capsys.readouterr().out.strip()
    assert "\n" not in line
    assert line.startswith("coursekit ") and "seed 3" in line and "1 thread" in line
    first = torch.rand(3)
    ck.setup_notebook(seed=3, quiet=True)
    assert torch.equal(first, torch.rand(3)) and torch.get_num_threads() == 1
    assert matplotlib.rcParams["figure.dpi"] == 72
    with pytest.raises(ValueError, match="threads must be >= 1"):
        ck.setup_notebook(threads=0)


def test_import_coursekit_stays_light():
    code = ("import sys, coursekit; heavy = [m for m in ('torch', 'matplotlib', 'sklearn', 'ipywidgets') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    out = subprocess.run([sys.executable, "-c", "import sys, coursekit.train; print('matplotlib' in sys.modules, "
                          "'sklearn' in sys.modules, 'ipywidgets' in sys.modules)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False False"


def test_unknown_attribute_error_is_clear():
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        ck.nonsense  # noqa: B018
