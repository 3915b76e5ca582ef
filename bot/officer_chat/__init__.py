"""The officer's chat: :mod:`.router` (the pipeline handler), :mod:`.views` (queue and dossier), :mod:`.steps`
(numbered or button action flows), :mod:`.context` (one turn, and what plug-ins add)."""
