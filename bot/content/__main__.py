"""``python -m bot.content [DIR]``: check content files before restarting the bot.

Prints a one-line summary when the library is valid, or every problem with its file and line and
exits with status 1, so it can also run in CI or a pre-commit hook.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from .errors import ContentError
from .loader import clear_cache, load_library


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else None
    clear_cache()  # a check must see the files as they are now
    try:
        library = load_library(root)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        count = len(exc.issues)
        print(f"{count} problem{'s' if count != 1 else ''} found.", file=sys.stderr)
        return 1
    categories = Counter(item.category.value for item in library.icebreakers)
    tracks = ", ".join(f"{kind} ({track.weeks} weeks)" for kind, track in sorted(library.tracks.items()))
    print(
        f"OK: tracks {tracks}; {len(library.icebreakers)} icebreakers "
        f"({', '.join(f'{name} {n}' for name, n in sorted(categories.items()))}); "
        f"surveys {', '.join(library.surveys)}."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
