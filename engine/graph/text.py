"""How wide and how tall a label is drawn, without Qt: the advance widths of DejaVu Sans and DejaVu Sans Bold, the
font the window's graph paints with and the SVG exports name first. Boxes are sized, and the SVG fits its text,
with these numbers, so a label has the room it is drawn in (explorer.graph.items paints with the same font,
unhinted, so Qt measures the same widths)."""

FONT_FAMILY = 'DejaVu Sans'
UNITS = 2048          # font units per em
ASCENT, DESCENT = 1901, 483   # units above and below the baseline: a line is (ASCENT + DESCENT) / UNITS em high
# Advances in font units of the characters ' ' to '~' (32..126), regular, then bold (DejaVuSans.ttf and
# DejaVuSans-Bold.ttf, read with QRawFont without hinting).
_ASCII = {False: (
    '651 821 942 1716 1303 1946 1597 563 799 799 1024 1716 651 739 651 690 1303 1303 1303 1303 1303 1303 1303 1303 '
    '1303 1303 690 690 1716 1716 1716 1087 2048 1401 1405 1430 1577 1294 1178 1587 1540 604 604 1343 1141 1767 1532 '
    '1612 1235 1612 1423 1300 1251 1499 1401 2025 1403 1251 1403 799 690 799 1716 1024 1024 1255 1300 1126 1300 1260 '
    '721 1300 1298 569 569 1186 569 1995 1298 1253 1300 1300 842 1067 803 1298 1212 1675 1212 1212 1075 1303 690 1303 '
    '1716'), True: (
    '713 934 1067 1716 1425 2052 1786 627 936 936 1071 1716 778 850 778 748 1425 1425 1425 1425 1425 1425 1425 1425 '
    '1425 1425 819 819 1716 1716 1716 1188 2048 1585 1561 1503 1700 1399 1399 1681 1714 762 762 1587 1305 2038 1714 '
    '1741 1501 1741 1577 1475 1397 1663 1585 2259 1579 1483 1485 936 748 936 1716 1024 1024 1382 1466 1214 1466 1389 '
    '891 1466 1458 702 702 1362 702 2134 1458 1407 1466 1466 1010 1219 979 1458 1335 1892 1321 1335 1192 1458 748 1458 '
    '1716')}
_EXTRA = {False: {'·': 651, '→': 1716, '…': 2048, '∂': 1059, 'Σ': 1294, '×': 1716, '√': 1305, '²': 821, '−': 1716,
                 '–': 1024, '—': 2048},
          True: {'·': 778, '→': 1716, '…': 2048, '∂': 1114, 'Σ': 1399, '×': 1716, '√': 1366, '²': 897, '−': 1716,
                 '–': 1024, '—': 2048}}
OTHER = UNITS         # any other character (a letter of another script, a symbol): a full em, wider than most
_WIDTHS = {bold: {**{chr(32 + i): int(w) for i, w in enumerate(_ASCII[bold].split())}, **_EXTRA[bold]}
           for bold in (False, True)}


def text_width(text, px, bold=False):
    """The width in points of `text` drawn at `px` pixels (points) a line, without kerning (which only narrows)."""
    widths = _WIDTHS[bold]
    return sum(widths.get(ch, OTHER) for ch in text) * px / UNITS


def line_height(px):
    """The height of a line of text at `px`: ascent and descent."""
    return (ASCENT + DESCENT) * px / UNITS


def ascent(px):
    return ASCENT * px / UNITS


def elide_middle(text, room, px, bold=False):
    """`text` as it fits `room` points at `px`: whole, or its middle replaced by '…' (both ends kept: the
    indices of 'fc2[7]…x[53]')."""
    if text_width(text, px, bold) <= room:
        return text
    keep = len(text) - 1
    while keep > 1:
        short = text[:(keep + 1) // 2] + '…' + text[len(text) - keep // 2:]
        if text_width(short, px, bold) <= room:
            return short
        keep -= 1
    return '…'
