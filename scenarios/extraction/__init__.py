"""From documents to a draft config: the rules behind ``python -m scenarios.extract``.

Deterministic and offline: sentence and date rules (:mod:`.text`, :mod:`.dates`), the project's
lexicon for values (:mod:`scenarios.lexicon`), cue words for quantities (:mod:`.figures`),
reporters and projections (:mod:`.statements`), the draft with its TODOs (:mod:`.draft`) and its
YAML (:mod:`.writer`).
"""

from scenarios.extraction.draft import TODO, Draft, build, fill_todos, is_todo, todo, todos
from scenarios.extraction.text import Document

__all__ = ["TODO", "Document", "Draft", "build", "fill_todos", "is_todo", "todo", "todos"]
