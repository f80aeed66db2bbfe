"""Draw the block diagrams in source/resnets/images/: python -m course.authoring.figures."""

import matplotlib

from course import ROOT

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

IMAGES = ROOT / "source" / "resnets" / "images"
COLOURS = {"conv": "#9ecae1", "bn": "#fdd0a2", "relu": "#c7e9c0", "add": "#fcbba1", "x": "#eeeeee"}


def _box(ax, x, y, text, colour, width=1.2, height=0.55):
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.03", fc=colour, ec="#444444"))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, start, end, **style):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10,
                                 color="#444444", **style))


def draw_block(ax, main, shortcut, title):
    """A left-to-right block diagram: X, main-path boxes, a shortcut arc (with boxes), add, ReLU."""
    names = ["X"] + [label for label, _ in main] + ["+", "ReLU"]
    colours = [COLOURS["x"]] + [colour for _, colour in main] + [COLOURS["add"], COLOURS["relu"]]
    xs = [1.5 * i for i in range(len(names))]
    for x, name, colour in zip(xs, names, colours):
        _box(ax, x, 0, name, colour, width=0.5 if name == "+" else 1.2)
    for a, b in zip(xs, xs[1:]):
        _arrow(ax, (a + 0.62, 0), (b - 0.62, 0))
    top = 1.1
    if shortcut:
        middle = (xs[0] + xs[-2]) / 2
        positions = [middle - 0.8, middle + 0.8][:len(shortcut)]
        for x, (label, colour) in zip(positions, shortcut):
            _box(ax, x, top, label, colour)
        _arrow(ax, (xs[0], 0.27), (positions[0] - 0.62, top), connectionstyle="arc3,rad=-0.2")
        for a, b in zip(positions, positions[1:]):
            _arrow(ax, (a + 0.62, top), (b - 0.62, top))
        _arrow(ax, (positions[-1] + 0.62, top), (xs[-2], 0.27), connectionstyle="arc3,rad=-0.2")
    else:
        _arrow(ax, (xs[0], 0.27), (xs[-2], 0.27), connectionstyle="arc3,rad=-0.15")
        ax.text((xs[0] + xs[-2]) / 2, top + 0.05, "shortcut: X itself", ha="center", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_xlim(-0.8, xs[-1] + 0.8)
    ax.set_ylim(-0.6, 1.7)
    ax.axis("off")


def component(number, f_label, stride="", relu=True):
    boxes = [(f"Conv2D {f_label}\nF{number}{stride}", COLOURS["conv"]),
             ("BatchNorm", COLOURS["bn"])]
    return boxes + ([("ReLU", COLOURS["relu"])] if relu else [])


def main():
    IMAGES.mkdir(parents=True, exist_ok=True)
    identity_main = component(1, "1×1") + component(2, "f×f") + component(3, "1×1", relu=False)
    conv_main = (component(1, "1×1", ", s") + component(2, "f×f")
                 + component(3, "1×1", relu=False))
    projection = [("Conv2D 1×1\nF3, s", COLOURS["conv"]), ("BatchNorm", COLOURS["bn"])]
    for filename, blocks in [
        ("identity_block.png", [(identity_main, [], "Identity block: the shortcut is X")]),
        ("convolutional_block.png", [(conv_main, projection,
                                      "Convolutional block: stride s and a projection shortcut")]),
        ("residual_block.png", [
            ([("layer", COLOURS["conv"]), ("ReLU", COLOURS["relu"]), ("layer", COLOURS["conv"])],
             [], "Residual block: the layers learn F(x), the output is ReLU(F(x) + x)")]),
    ]:
        width = 12 if len(blocks[0][0]) > 4 else 6.5
        fig, axes = plt.subplots(len(blocks), 1, figsize=(width, 1.9))
        for ax, (main_path, shortcut, title) in zip([axes] if len(blocks) == 1 else axes, blocks):
            draw_block(ax, main_path, shortcut, title)
        fig.savefig(IMAGES / filename, dpi=110, bbox_inches="tight")
        plt.close(fig)
        print("wrote", IMAGES / filename)


if __name__ == "__main__":
    main()
