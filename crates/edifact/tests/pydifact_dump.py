"""Reads EDIFACT files with pydifact and prints, for each, what it read as one JSON line.

Used by tests/pydifact.rs: file paths come on stdin, one a line; for each, stdout gets
{"file": path, "accepted": bool, "error": str | null, "segments": [{"tag": str,
"elements": [[component, ...], ...]}, ...]}. One process reads every file, so the test does
not pay for a Python start-up per file.

pydifact reads text, not bytes. The file is handed to it as ISO 8859-1 (every byte one
character, which is what `Interchange.from_file` does by default), and each value it returns is
then turned back into its bytes and decoded as jinguan-edifact's `repertoire::decode` does for
the syntax identifier of the last UNB: the ISO 8859 part for UNOC ... UNOL, else UTF-8 when the
bytes are UTF-8 and ISO 8859-1 when not. Python's own codecs do the decoding, so the comparison
also checks the Rust decoder against them.
"""

import json
import sys
import warnings

from pydifact.parser import Parser

PARTS = {
    "UNOC": "iso8859-1",
    "UNOD": "iso8859-2",
    "UNOE": "iso8859-5",
    "UNOF": "iso8859-7",
    "UNOG": "iso8859-3",
    "UNOH": "iso8859-4",
    "UNOI": "iso8859-6",
    "UNOJ": "iso8859-8",
    "UNOK": "iso8859-9",
    "UNOL": "iso8859-15",
}


def decode(value, syntax):
    raw = value.encode("latin-1")
    codec = PARTS.get(syntax)
    if codec is not None:
        return raw.decode(codec, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


def components(element):
    """pydifact gives "" for an empty element, a str for a simple one, a list for a composite."""
    if isinstance(element, list):
        return list(element)
    return [element]


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    # A UTF-8 byte-order mark is not part of the interchange; pydifact would read it as part
    # of the first tag.
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode("latin-1")
    segments = []
    syntax = ""
    for segment in Parser().parse(text):
        if segment.tag == "UNA":
            continue  # pydifact yields the service string advice as a segment; it is not one.
        elements = [components(e) for e in segment.elements]
        if segment.tag == "UNB" and elements and elements[0]:
            syntax = elements[0][0]
        segments.append(
            {
                "tag": decode(segment.tag, syntax),
                "elements": [[decode(c, syntax) for c in e] for e in elements],
            }
        )
    return segments


def main():
    # pydifact 0.2.3 warns about directory XML its wheel lacks and empty segments: noise here.
    warnings.simplefilter("ignore")
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        try:
            out = {"file": path, "accepted": True, "error": None, "segments": read(path)}
        except Exception as e:  # pydifact raises several kinds; any of them is a refusal.
            out = {"file": path, "accepted": False, "error": f"{type(e).__name__}: {e}",
                   "segments": []}
        print(json.dumps(out), flush=False)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
