"""Errors that stop the runtime from starting: one clear sentence and what to do.

:func:`describe_start_error` turns a package, spec or workspace error into a
:class:`StartError`; :class:`ErrorDialog` shows it. No traceback ever reaches the
user; the controller exits with status 1 after the dialog.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.package import PackageError
from runtime.services.errors import WorkspaceError, database_problem_in
from runtime.spec import SpecError
from runtime.ui.i18n import tr

MAX_PROBLEMS = 8


@dataclass(frozen=True)
class StartError:
    """What went wrong (``message``) and what the user can do about it (``advice``)."""

    title: str
    message: str
    advice: str


def describe_start_error(error: Exception) -> StartError:
    """The user-facing description of an error raised while starting."""
    if isinstance(error, PackageError):
        return StartError(
            tr("The app package cannot be opened"),
            _sentence(error.message),
            tr(
                "Check that the file is a Formwright package (a .fwapp file or a folder "
                "with app.json), or ask its author for a new copy."
            ),
        )
    if isinstance(error, SpecError):
        problems = [str(problem) for problem in error.problems[:MAX_PROBLEMS]]
        more = len(error.problems) - len(problems)
        if more > 0:
            problems.append(tr("… and {count} more").format(count=more))
        return StartError(
            tr("The app package is not valid"),
            "\n".join(f"• {problem}" for problem in problems),
            tr("Open it in the designer (formwright design PACKAGE) to fix it, or ask its author."),
        )
    if isinstance(error, WorkspaceError):
        return StartError(
            tr("The database cannot be used"),
            _sentence(error.message),
            tr(
                "Check the database address (--db) and that the server is running, "
                "or ask your IT department."
            ),
        )
    return StartError(
        tr("Formwright cannot start"),
        _sentence(database_problem_in(error) or str(error) or type(error).__name__),
        tr("Please report this message to your IT department."),
    )


def _sentence(text: str) -> str:
    """A service's clause as a sentence: capitalised, with a full stop in its own
    script (a Chinese message ends with "。", not ".")."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    if text.endswith((".", "!", "?", "。", "！", "？")):
        return text
    return text + ("。" if any(map(_is_cjk, text)) else ".")


def _is_cjk(character: str) -> bool:
    """Chinese characters, kana and full-width punctuation."""
    return "\u2e80" <= character <= "\u9fff" or "\uff00" <= character <= "\uffef"


class ErrorDialog(QDialog):
    """A modal message: icon, title, the sentence and the advice, one OK button."""

    def __init__(self, error: StartError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error = error
        self.setWindowTitle(f"Formwright — {error.title}")
        self.title_label = QLabel(f"<b>{_escape(error.title)}</b>", self)
        self.message_label = _wrapping(error.message, self)
        self.advice_label = _wrapping(error.advice, self)
        self.advice_label.setStyleSheet("color: #455a64;")
        self._build()

    def _build(self) -> None:
        icon = QLabel(self)
        icon.setPixmap(icons.icon("mdi6.alert-circle-outline", color="#c62828").pixmap(48, 48))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        for label in (self.title_label, self.message_label, self.advice_label):
            text.addWidget(label)
        row = QHBoxLayout()
        row.addWidget(icon)
        row.addLayout(text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def texts(self) -> list[str]:
        return [self.error.title, self.error.message, self.error.advice]


def _wrapping(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
