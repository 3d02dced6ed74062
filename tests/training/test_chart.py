"""The loss chart's geometry: at most 400 points, first and last kept, inside the plot, ticks readable."""

from types import SimpleNamespace

from training.chart import MAX_POINTS, loss_chart, nice_ticks


def steps(count, val_every=0):
    return [SimpleNamespace(step=i, train_loss=4.0 / i ** 0.5, val_loss=(3.0 / i ** 0.5) if val_every and i % val_every == 0 else None)
            for i in range(1, count + 1)]


def points(text):
    return [tuple(map(float, p.split(","))) for p in text.split()]


def test_a_long_run_is_drawn_with_at_most_400_points_first_and_last_kept():
    chart = loss_chart(steps(5000, val_every=10), max_steps=5000)
    train = points(chart.train_points)
    assert len(train) == MAX_POINTS and len(chart.val_points) == MAX_POINTS
    x0, y0, x1, y1 = chart.plot
    assert train[0][0] < x0 + 1 and train[-1][0] == x1  # step 1 at the left, step 5000 at the right edge
    assert all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in train + chart.val_points)
    assert [x for x, _ in train] == sorted(x for x, _ in train)
    assert "Training loss from 4 at step 1 to 0.0566 at step 5000" in chart.summary


def test_the_x_axis_spans_the_planned_steps_while_a_run_is_young():
    chart = loss_chart(steps(5), max_steps=100)
    assert points(chart.train_points)[-1][0] < chart.plot[2] / 4
    assert [label for _, label in chart.x_ticks] == ["0", "25", "50", "75", "100"]


def test_no_steps_or_broken_losses_draw_nothing():
    assert loss_chart([]).empty
    assert loss_chart([SimpleNamespace(step=1, train_loss=float("nan"), val_loss=None)]).empty
    one = loss_chart([SimpleNamespace(step=1, train_loss=2.0, val_loss=None)])
    assert not one.empty and one.y_ticks


def test_ticks_are_round_numbers():
    assert nice_ticks(0, 1) == [0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(1.7, 3.2) == [2.0, 2.5, 3.0]
