"""Editors of dates, and the base the datetime and time editors share.

Qt's date/time edits cannot show "no value". Here an empty field is an explicit
state: the edit is parked on a sentinel one step below its range and shows a
grey placeholder as its special text. The first key press, wheel turn or click
starts from today / now (clamped to the field's limits); the clear button,
Ctrl+Delete, or Delete on all-selected text empties it again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QT_TR_NOOP, QDate, QDateTime, QEvent, QObject, Qt, QTime, QTimeZone
from PySide6.QtWidgets import QDateTimeEdit, QSizePolicy, QToolButton

from resources import icons
from widgets.editors.base import FieldEditor
from widgets.registry import default_registry

#: Keys that start editing an empty field (digits, arrows, paging).
_START_KEYS = {
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_PageUp,
    Qt.Key.Key_PageDown,
    *(getattr(Qt.Key, f"Key_{digit}") for digit in range(10)),
}
_CLEAR_KEYS = {Qt.Key.Key_Delete, Qt.Key.Key_Backspace}


def qdatetime(value: dt.datetime) -> QDateTime:
    """A wall-clock QDateTime in UTC, so no local DST gap can shift or reject it."""
    return QDateTime(
        QDate(value.year, value.month, value.day),
        QTime(value.hour, value.minute),
        QTimeZone.utc(),
    )


def pydatetime(value: QDateTime) -> dt.datetime:
    date, time = value.date(), value.time()
    return dt.datetime(date.year(), date.month(), date.day(), time.hour(), time.minute())


class TemporalEditor(FieldEditor):
    """A QDateTimeEdit with an explicit empty state and a clear button.

    Subclasses give the display format, the step used for the sentinel, how a value
    maps to a datetime (:meth:`to_datetime`, :meth:`from_datetime`) and where editing
    starts (:meth:`start_value`).
    """

    type_name = "date"
    display_format = "yyyy-MM-dd"
    calendar_popup = True
    empty_text = "yyyy-mm-dd"
    #: How far below the first allowed value the "empty" sentinel sits.
    sentinel_step = dt.timedelta(days=1)
    #: The range when the spec sets no limits.
    range_default = (dt.datetime(1900, 1, 1), dt.datetime(2999, 12, 31, 23, 59))
    start_icon = "mdi6.calendar-today"
    start_tip = QT_TR_NOOP("Today")

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.field_type = default_registry.get(self.type_name)
        self._empty = True
        self.edit = QDateTimeEdit(self)
        self.edit.setTimeZone(QTimeZone.utc())
        self.edit.setDisplayFormat(self.display_format)
        self.edit.setCalendarPopup(self.calendar_popup)
        self.edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        width = self.edit.fontMetrics().horizontalAdvance(self.display_format + "00")
        self.edit.setMinimumWidth(width + 40)
        self.edit.installEventFilter(self)
        self.edit.dateTimeChanged.connect(self._on_changed)
        self._low, self._high = self._range()
        self.layout_.addWidget(self.edit, 1)
        self.start_button = self._button(self.start_icon, self.tr(self.start_tip), self._start)
        self.clear_button = self._button(
            "mdi6.close-circle-outline", self.tr("Clear (Ctrl+Del)"), self.clear
        )
        self.setFocusProxy(self.edit)
        self._show_empty()

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
    def to_datetime(self, value: Any) -> dt.datetime:
        return dt.datetime.combine(value, dt.time())

    def from_datetime(self, value: dt.datetime) -> Any:
        return value.date()

    def start_value(self) -> dt.datetime:
        return dt.datetime.combine(dt.date.today(), dt.time())

    # -- range and empty state ------------------------------------------------
    def _range(self) -> tuple[dt.datetime, dt.datetime]:
        low, high = self.field_type.limits(self.spec)
        return (
            self.to_datetime(low) if low is not None else self.range_default[0],
            self.to_datetime(high) if high is not None else self.range_default[1],
        )

    def _show_empty(self) -> None:
        """Park the edit on the sentinel below the range: it shows the placeholder."""
        sentinel = qdatetime(self._low - self.sentinel_step)
        self.edit.blockSignals(True)
        self.edit.setSpecialValueText(self.empty_text)
        self.edit.lineEdit().setStyleSheet("color: #9a9a9a;")  # reads as a placeholder
        self.edit.setDateTimeRange(sentinel, qdatetime(self._high))
        self.edit.setDateTime(sentinel)
        self.edit.blockSignals(False)
        self._empty = True
        if self.calendar_popup:
            today = QDate.currentDate()
            self.edit.calendarWidget().setCurrentPage(today.year(), today.month())

    def _show(self, value: dt.datetime) -> None:
        """Show a value. One outside the field's limits (a record older than the
        limits) widens the range rather than being silently changed."""
        low, high = min(self._low, value), max(self._high, value)
        self.edit.blockSignals(True)
        self.edit.setSpecialValueText("")  # else Qt shows it for a value at the minimum
        self.edit.lineEdit().setStyleSheet("")
        self.edit.setDateTimeRange(qdatetime(low), qdatetime(high))
        self.edit.setDateTime(qdatetime(value))
        self.edit.blockSignals(False)
        self._empty = False

    def _start(self) -> None:
        """Begin from today / now (the user asked for a value); announce the change."""
        if self._read_only:
            return
        self._show(min(max(self.start_value(), self._low), self._high))
        self.edit.setSelectedSection(self.edit.sectionAt(0))
        self.value_changed.emit()

    def clear(self) -> None:
        if self._read_only or self._empty:
            return
        self._show_empty()
        self.value_changed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and self._filter(event):
            return True
        return super().eventFilter(watched, event)

    def _filter(self, event: QEvent) -> bool:
        """True swallows the event. Starts editing from empty on the first real input."""
        kind = event.type()
        if self._read_only:
            return kind in (QEvent.Type.MouseButtonPress, QEvent.Type.Wheel)
        if kind == QEvent.Type.KeyPress:
            ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
            if event.key() in _CLEAR_KEYS and (ctrl or self._empty or self._all_selected()):
                self.clear()
                return True
            if self._empty and event.key() in _START_KEYS:
                self._start()
                return not event.text().isdigit()  # a digit goes on to the first section
        elif self._empty and kind in (QEvent.Type.MouseButtonPress, QEvent.Type.Wheel):
            self._start()
            return kind == QEvent.Type.Wheel
        return False

    def _all_selected(self) -> bool:
        line = self.edit.lineEdit()
        return bool(line.text()) and line.selectedText() == line.text()

    def _on_changed(self, _value: QDateTime) -> None:
        if not self._empty:
            self.value_changed.emit()

    # -- the editor contract ---------------------------------------------------
    def value(self) -> Any:
        return None if self._empty else self.from_datetime(pydatetime(self.edit.dateTime()))

    def set_value(self, value: Any) -> None:
        if value is None:
            self._show_empty()
        else:
            self._show(self.to_datetime(value))

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.edit.setReadOnly(read_only)
        self.edit.setButtonSymbols(
            QDateTimeEdit.ButtonSymbols.NoButtons
            if read_only
            else QDateTimeEdit.ButtonSymbols.UpDownArrows
        )
        self.start_button.setVisible(not read_only)
        self.clear_button.setVisible(not read_only)


class DateEditor(TemporalEditor):
    """A date: type it section by section, or pick it from the calendar popup."""
