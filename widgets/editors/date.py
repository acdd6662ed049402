"""Editors of dates, and the base the datetime and time editors share.

A date is typed as text into a line edit and read by the type's one parser
(:func:`widgets.types.date.parse_date_text` and its siblings, which the Excel import
uses too), so the editor accepts exactly what the placeholder shows and the common
ways of writing a date (``2024/5/10``, ``20240510``, ``2024.5.10``, ``13/5/2024``)
and refuses anything else with a message — it never turns text into another day.
Beside it: a calendar popup (dates), "today"/"now" and a clear button; Up/Down step
by a day or a minute; Ctrl+Delete empties it. Empty text is the empty value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QT_TR_NOOP, QDate, QEvent, QObject, QPoint, Qt
from PySide6.QtWidgets import QCalendarWidget, QLineEdit, QSizePolicy, QToolButton, QWidget

from resources import icons
from widgets.editors.base import FieldEditor
from widgets.registry import default_registry


class CalendarPopup(QCalendarWidget):
    """A month calendar shown as a popup under the editor; a click picks the day."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowFlags(Qt.WindowType.Popup)
        self.setGridVisible(True)
        self.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)


class TemporalEditor(FieldEditor):
    """A line edit parsed by the field type, with an explicit empty state.

    Subclasses give the placeholder, the step of Up/Down, where "today/now" starts
    (:meth:`start_value`) and whether there is a calendar.
    """

    type_name = "date"
    calendar_popup = True
    empty_text = "yyyy-mm-dd"
    #: What Up/Down add to the value.
    step = dt.timedelta(days=1)
    start_icon = "mdi6.calendar-today"
    start_tip = QT_TR_NOOP("Today")

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.field_type = default_registry.get(self.type_name)
        self._low, self._high = self.field_type.limits(spec)
        self._typed = False  # the text is the user's (not from set_value)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(self.empty_text)
        self.edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        width = self.edit.fontMetrics().horizontalAdvance(self.empty_text + "00")
        self.edit.setMinimumWidth(width + 16)
        self.edit.installEventFilter(self)
        self.edit.textEdited.connect(self._on_edited)
        self.edit.editingFinished.connect(self._on_finished)
        self.layout_.addWidget(self.edit, 1)
        self.calendar: CalendarPopup | None = None
        self.calendar_button: QToolButton | None = None
        if self.calendar_popup:
            self.calendar_button = self._button(
                "mdi6.menu-down",
                self.tr("Pick from the calendar (Alt+Down)"),
                self.show_calendar,
            )
        self.start_button = self._button(self.start_icon, self.tr(self.start_tip), self._start)
        self.clear_button = self._button(
            "mdi6.close-circle-outline", self.tr("Clear (Ctrl+Del)"), self.clear
        )
        self.setFocusProxy(self.edit)

    def _button(self, icon: str, tip: str, slot) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icons.icon(icon, color="#555"))
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        self.layout_.addWidget(button)
        return button

    # -- hooks ------------------------------------------------------------
    def start_value(self) -> Any:
        return dt.date.today()

    def shifted(self, value: Any, steps: int) -> Any:
        """``value`` moved by ``steps`` of :attr:`step`."""
        return value + steps * self.step

    def with_date(self, value: Any, day: dt.date) -> Any:
        """``value`` moved to the day picked in the calendar."""
        return day

    def read(self, text: str) -> Any:
        """The value of a non-empty text (the type's own parser); FieldValueError."""
        return self.field_type.from_text(text)

    # -- text ---------------------------------------------------------------
    def _parse(self) -> tuple[Any, str | None]:
        """(value or None, problem or None) of the text as it stands."""
        return self.read_typed(self.edit.text(), self.read, self._typed)

    def _show(self, value: Any, typed: bool) -> None:
        self.edit.setText("" if value is None else self.field_type.display(self.spec, value))
        self._typed = typed

    def _on_edited(self, _text: str) -> None:
        self._typed = True
        self.value_changed.emit()

    def _on_finished(self) -> None:
        """Leaving the field: a readable text is rewritten in the display format."""
        value, _problem = self._parse()
        if value is not None:
            shown = self.field_type.display(self.spec, value)
            if shown != self.edit.text():
                self.edit.setText(shown)
        self.finished.emit()

    def _put(self, value: Any) -> None:
        """A value the user asked for (button, arrow, calendar): shown and announced."""
        self._show(value, typed=True)
        self.value_changed.emit()
        self.finished.emit()

    def _within(self, value: Any) -> Any:
        if self._low is not None and value < self._low:
            return self._low
        if self._high is not None and value > self._high:
            return self._high
        return value

    def _start(self) -> None:
        """Today / now, kept within the field's limits (the user asked for a value)."""
        if not self._read_only:
            self._put(self._within(self.start_value()))

    def _step(self, steps: int) -> None:
        value, _problem = self._parse()
        if value is None:
            if self.edit.text().strip():
                return  # unreadable text is not replaced by another value
            self._start()
            return
        try:
            moved = self.shifted(value, steps)
        except OverflowError:
            return
        if self._within(moved) == moved:
            self._put(moved)

    def clear(self) -> None:
        if self._read_only or not self.edit.text():
            return
        self._show(None, typed=True)
        self.value_changed.emit()
        self.finished.emit()

    def show_calendar(self) -> None:
        if self._read_only or not self.calendar_popup:
            return
        if self.calendar is None:
            self.calendar = CalendarPopup(self)
            self.calendar.clicked.connect(self._picked)
            self.calendar.activated.connect(self._picked)
        low, high = self._low, self._high
        self.calendar.setDateRange(
            _qdate(low) if low is not None else QDate(1900, 1, 1),
            _qdate(high) if high is not None else QDate(2999, 12, 31),
        )
        value, _problem = self._parse()
        day = value if value is not None else dt.date.today()
        day = day.date() if isinstance(day, dt.datetime) else day
        self.calendar.setSelectedDate(_qdate(day))
        self.calendar.move(self.edit.mapToGlobal(QPoint(0, self.edit.height())))
        self.calendar.show()
        self.calendar.setFocus()

    def _picked(self, day: QDate) -> None:
        if self.calendar is not None:
            self.calendar.hide()
        value, _problem = self._parse()
        picked = dt.date(day.year(), day.month(), day.day())
        self._put(self.with_date(value, picked))
        self.edit.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress and self._key(event):
            return True
        return super().eventFilter(watched, event)

    def _key(self, event) -> bool:
        """True when the key was handled here (clear, step, calendar)."""
        if self._read_only:
            return False
        key, modifiers = event.key(), event.modifiers()
        if key == Qt.Key.Key_Delete and modifiers & Qt.KeyboardModifier.ControlModifier:
            self.clear()
            return True
        if key == Qt.Key.Key_Down and modifiers & Qt.KeyboardModifier.AltModifier:
            self.show_calendar()
            return True
        if key == Qt.Key.Key_F4:
            self.show_calendar()
            return True
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self._step(1 if key == Qt.Key.Key_Up else -1)
            return True
        return False

    # -- the editor contract ---------------------------------------------------
    def value(self) -> Any:
        """The value typed; ``None`` when empty or unreadable (see :meth:`problem`)."""
        return self._parse()[0]

    def problem(self) -> str | None:
        return self._parse()[1]

    def set_value(self, value: Any) -> None:
        self._show(value, typed=False)

    def text(self) -> str:
        """The text as typed (kept by a subtable cell that could not read it)."""
        return self.edit.text()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)
        self._typed = True

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.edit.setReadOnly(read_only)
        for button in (self.calendar_button, self.start_button, self.clear_button):
            if button is not None:
                button.setVisible(not read_only)


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


class DateEditor(TemporalEditor):
    """A date: typed (``2024-05-10``, ``2024/5/10``, ``20240510``…) or picked."""
