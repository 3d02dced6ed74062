"""The loss chart of a run as plain geometry for a server-rendered SVG (templates/training/_chart.html).

No JavaScript and no chart library: the page, a reload, the WebSocket panel and a browser without
scripts all draw the same picture from the run's TrainingStep rows.
"""

import math
from dataclasses import dataclass, field

MAX_POINTS = 400
WIDTH, HEIGHT = 480, 260  # viewBox units; the SVG scales to its box (readable at 390 px)
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 12, 34  # margins for the axes' labels


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    train_points: str = ""  # "x,y x,y ..." for <polyline points>
    val_points: list[tuple[float, float]] = field(default_factory=list)
    val_line: str = ""
    x_ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, label)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    plot: tuple[int, int, int, int] = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)  # x0, y0, x1, y1
    summary: str = ""  # the chart in words (SVG <desc>)

    @property
    def empty(self) -> bool:
        return not self.train_points and not self.val_points


def downsample(points: list[tuple[int, float]], limit: int = MAX_POINTS) -> list[tuple[int, float]]:
    """At most `limit` points, evenly spread, always keeping the first and the last."""
    if len(points) <= limit:
        return points
    stride = (len(points) - 1) / (limit - 1)
    return [points[round(i * stride)] for i in range(limit)]


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten) covering [low, high]."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks, value = [], first
    while value <= high + 1e-9 and len(ticks) < count + 2:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _label(value: float) -> str:
    return f"{value:g}" if abs(value) >= 0.01 or value == 0 else f"{value:.1e}"


def loss_chart(steps, max_steps: int = 0) -> Chart:
    """Geometry of the training loss (a line) and validation loss (dots joined by a dashed line)
    over optimizer steps. `steps`: objects with .step, .train_loss, .val_loss (TrainingStep rows)."""
    train = [(s.step, s.train_loss) for s in steps if _finite(s.train_loss)]
    val = [(s.step, s.val_loss) for s in steps if _finite(s.val_loss)]
    chart = Chart()
    if not train and not val:
        chart.summary = "No steps yet."
        return chart
    train, val = downsample(train), downsample(val)
    xs = [x for x, _ in train + val]
    ys = [y for _, y in train + val]
    x_low, x_high = 0, max(max(xs), max_steps or 0, 1)
    y_low, y_high = min(ys), max(ys)
    pad = (y_high - y_low) * 0.08 or max(abs(y_high) * 0.1, 0.1)
    y_low, y_high = max(0.0, y_low - pad) if y_low >= 0 else y_low - pad, y_high + pad
    x0, y0, x1, y1 = chart.plot

    def sx(x):
        return round(x0 + (x - x_low) / (x_high - x_low) * (x1 - x0), 1)

    def sy(y):
        return round(y1 - (y - y_low) / (y_high - y_low) * (y1 - y0), 1)

    chart.train_points = " ".join(f"{sx(x)},{sy(y)}" for x, y in train)
    chart.val_points = [(sx(x), sy(y)) for x, y in val]
    chart.val_line = " ".join(f"{x},{y}" for x, y in chart.val_points)
    chart.x_ticks = [(sx(t), f"{t:g}") for t in nice_ticks(x_low, x_high) if t == int(t)]
    chart.y_ticks = [(sy(t), _label(t)) for t in nice_ticks(y_low, y_high)]
    words = []
    if train:
        words.append(f"Training loss from {train[0][1]:.3g} at step {train[0][0]} to {train[-1][1]:.3g} at step {train[-1][0]}.")
    if val:
        words.append(f"Validation loss from {val[0][1]:.3g} at step {val[0][0]} to {val[-1][1]:.3g} at step {val[-1][0]}.")
    chart.summary = " ".join(words)
    return chart


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)
