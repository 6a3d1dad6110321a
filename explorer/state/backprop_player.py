"""The backprop player: backprop as the learner drives it (no widgets): step, back, by group, play, breakpoints.

`BackpropPlayer` owns the engine `Stepper` of the current recording. Views read its state (grads, what has
been reached, what is done) and listen to `moved`, which names the nodes a single step touched so
that only their boxes repaint; after a jump it carries None and views refresh everything.
"""

import time

from PySide6.QtCore import QObject, QTimer, Signal

from engine.backprop import Stepper
from engine.gradient.group_steps import UnitSteps, under_way, units
from engine.graph.keys import group_key, split_key

SPEEDS = (1, 3, 10, 30, 100, 1000, 0)  # steps (or groups) per second; 0: as fast as the machine goes
FRAME_S = 0.008                          # time spent stepping per tick at full speed, under one 60 Hz frame


class BackpropPlayer(QObject):
    """Plays an engine `Stepper` for the views: steps, jumps, groups, play at a speed, breakpoints."""

    moved = Signal(object)            # set of node ids whose state changed, or None after a jump
    playing_changed = Signal(bool)
    breakpoints_changed = Signal()
    message = Signal(str)             # a sentence for the status bar

    def __init__(self, session):
        super().__init__(session)
        self.session = session
        self.stepper = None
        self.schedule = None
        self.speed = 30
        self.by_group = False
        self.breakpoints = {}         # box key -> position at which the gradient first reaches it
        self._ranges = {}             # per group: sorted positions its scalars are applied at; reach
        self._unit_steps = None       # engine.gradient.group_steps.UnitSteps of the recording, made when first needed
        self.landed = ()              # the units a group step just completed (their summary is shown), or ()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._credit = 0.0            # steps owed to the play speed since the last tick
        self._last_tick = 0.0
        session.recorded.connect(self._on_recorded)

    # State the views read

    @property
    def position(self):
        return self.stepper.position if self.stepper else 0

    @property
    def total(self):
        return self.stepper.total if self.stepper else 0

    @property
    def grads(self):
        return self.stepper.grads

    @property
    def playing(self):
        return self._timer.isActive()

    def reached(self, node):
        """True once the node's grad holds at least one contribution (the loss: once seeded)."""
        return self.stepper.position >= self.schedule.reached_at[node]

    def arrived(self, node):
        """(contributions arrived, contributions its grad is the sum of)."""
        return self.stepper.arrived[node], self.schedule.needed[node]

    def focus_node(self):
        """The node whose step was applied last (the loss, to be seeded, at the start)."""
        node = self.stepper.last_node()
        return self.session.trace.loss_id if node is None else node

    def group_progress(self, scope):
        """(scalars applied, scalars) of a group at the current position."""
        steps = self._group_steps(scope)
        return self.schedule.done_count(steps, self.stepper.position), len(steps)

    def group_reached(self, scope):
        return self.stepper.position >= self._reach_of(group_key(scope))

    def _group_steps(self, scope):
        key = ('steps', scope)
        if key not in self._ranges:
            self._ranges[key] = self.schedule.steps(self.session.current.hierarchy.nodes_in(scope))
        return self._ranges[key]

    def _reach_of(self, key):
        kind, index = split_key(key)
        if kind == 'n':
            return self.schedule.reached_at[index]
        cache = ('reach', key)
        if cache not in self._ranges:
            self._ranges[cache] = self.schedule.reached(self.session.current.hierarchy.nodes_in(index))
        return self._ranges[cache]

    # Moving

    def _on_recorded(self):
        """A new document or checkpoint: a new stepper at the start, breakpoints cleared."""
        self.pause()
        rec = self.session.current
        if rec.schedule is not self.schedule:  # a timeline step keeps the structure, and what was worked out of it
            self._ranges = {}
        self.stepper, self.schedule = Stepper(rec.trace), rec.schedule
        self._unit_steps = None
        self.landed = ()
        had_breakpoints = bool(self.breakpoints)
        self.breakpoints = {}
        if had_breakpoints:
            self.breakpoints_changed.emit()
        self.moved.emit(None)

    def step(self):
        """One step: the next node's chain rule (the seed first)."""
        self.landed = ()
        return self._step()

    def _step(self):
        if self.stepper is None or self.stepper.at_end:
            return None
        before = self.stepper.last_node()
        record = self.stepper.step()
        changed = {record.node, *(c.child for c in record.contributions)}
        if before is not None:
            changed.add(before)
        self.moved.emit(changed)
        return record

    def back(self):
        self.landed = ()
        self._back()

    def _back(self):
        if self.stepper is None or self.stepper.position == 0:
            return
        record = self.stepper.last_record()
        self.stepper.back()
        after = self.stepper.last_node()
        changed = {record.node, *(c.child for c in record.contributions)}
        if after is not None:
            changed.add(after)
        self.moved.emit(changed)

    def seek(self, position):
        self.landed = ()
        self._go(position)

    def _go(self, position):
        if self.stepper is None:
            return
        position = max(0, min(self.total, position))
        if position == self.stepper.position + 1:
            self._step()
        elif position == self.stepper.position - 1:
            self._back()
        elif position != self.stepper.position:
            self.stepper.seek(position)
            self.moved.emit(None)

    def unit_steps(self):
        """The structural units of this recording (engine.gradient.group_steps), made once per recording."""
        if self._unit_steps is None:
            rec = self.session.current
            self._unit_steps = UnitSteps(units(rec.trace, rec.schedule, rec.hierarchy))
        return self._unit_steps

    def step_group(self):
        """Step to where the next unit of the model (a softmax, a linear, a head, …) has its backward done."""
        if self.stepper is None or self.stepper.at_end:
            return
        steps = self.unit_steps()
        end = steps.next_end(self.stepper.position)
        self._land(end if end is not None else self.total)

    def back_group(self):
        """Step back to where the previous unit of the model was done (the start before the first)."""
        if self.stepper is None or self.stepper.position == 0:
            return
        end = self.unit_steps().previous_end(self.stepper.position)
        self._land(end if end is not None else 0)

    def _land(self, position):
        """Go to `position` by a group step: the units done there are what the chain-rule panel summarises."""
        self.landed = tuple(self.unit_steps().ending_at(position))
        self._go(position)
        if self.landed:
            rec = self.session.current
            begun = under_way(rec.hierarchy, rec.schedule, self.unit_steps().units, position)[:2]
            also = '; on the way, microgpt\'s depth-first order also applied ' + ', '.join(
                f'{done:,} of {total:,} in {u.path}' for u, done, total in begun) if begun else ''
            self.message.emit('Done: ' + ', '.join(u.path for u in self.landed)
                              + f' — its backward pass is summarised in the Chain rule panel{also}.')

    def reset(self):
        self.pause()
        self.seek(0)

    def run_to_end(self):
        self.pause()
        self.seek(self.total)

    # Playing

    def set_speed(self, speed):
        self.speed = speed

    def set_by_group(self, by_group):
        self.by_group = by_group

    def toggle_play(self):
        self.pause() if self.playing else self.play()

    def play(self):
        if self.stepper is None or self.playing:
            return
        if self.stepper.at_end:
            self.seek(0)
        self._credit, self._last_tick = 1.0, time.perf_counter()
        slow = self.speed and self.speed < 60
        self._timer.start(int(1000 / self.speed) if slow else 16)
        self.playing_changed.emit(True)

    def pause(self):
        if self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)

    def _tick(self):
        now = time.perf_counter()
        if not self.by_group:
            self.landed = ()
        start = self.stepper.position
        stop_at = self._next_breakpoint()
        if self.by_group:
            self.step_group()
        elif self.speed and self.speed < 60:
            self.step()
        else:
            if self.speed:
                self._credit += self.speed * (now - self._last_tick)
                target = start + int(self._credit)
                self._credit -= int(self._credit)
            else:  # as fast as possible, but hand the frame back to the window
                target = start
                while time.perf_counter() - now < FRAME_S and target < self.total:
                    target = self.stepper.seek(min(self.total, target + 400, stop_at or self.total))
                    if stop_at is not None and target >= stop_at:
                        break
            if stop_at is not None:
                target = min(target, stop_at)
            if target != start:
                self.stepper.seek(target)
                self.moved.emit(None)
        self._last_tick = now
        if stop_at is not None and start < stop_at <= self.stepper.position:
            if self.stepper.position > stop_at:  # a group step ran past it: go back to the moment it arrived
                self.seek(stop_at)
            self.pause()
            key = min((k for k, at in self.breakpoints.items() if at == stop_at))
            self.message.emit(f'Breakpoint: the gradient reached {self.describe(key)} at step {stop_at:,}.')
        elif self.stepper.at_end:
            self.pause()
            self.message.emit('Backprop done: every grad now equals what loss.backward() gives.')

    # Breakpoints

    def _next_breakpoint(self):
        ahead = [at for at in self.breakpoints.values() if at > self.stepper.position]
        return min(ahead) if ahead else None

    def toggle_breakpoint(self, key):
        if key in self.breakpoints:
            del self.breakpoints[key]
        else:
            self.breakpoints[key] = self._reach_of(key)
        self.breakpoints_changed.emit()

    def clear_breakpoints(self):
        self.breakpoints = {}
        self.breakpoints_changed.emit()

    def describe(self, key):
        trace = self.session.trace
        kind, node = split_key(key)
        if kind == 'g':
            return trace.scopes[node].path
        if kind == 'v':  # a vector box 'v12.keys': the vector in its group
            return f'{trace.scopes[node].path} / {key.split(".", 1)[1]}'

        return trace.qualified_name(node)
