"""How the app writes a number, in one place (engine labels and every view use it): `shown` on screen, with
SIG_DIGITS significant digits; `compact`, for a heatmap cell or a colour-scale tick; `exact`, every digit
(Python's repr, which reads back as the same float), given on demand in one place (the Inspector's 'copy
exact', which copies them; no tooltip shows them) and wherever digits are the point (a finite-difference check)."""

SIG_DIGITS = 4


def _short_exponent(text):
    """'1.234e-05' -> '1.234e-5', '1.234e+04' -> '1.234e4'."""
    if 'e' not in text:
        return text
    mantissa, exp = text.split('e')
    return f'{mantissa}e{int(exp)}'


def shown(x, digits=SIG_DIGITS):
    """A number on screen: `digits` significant digits ('-0.09612', '3.366', '1.235e-5', '2.000e4'); an
    exact zero is '0' and a whole number of type int is written whole."""
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    if x == 0:
        return '0'
    text = f'{x:#.{digits}g}'  # '#' keeps trailing zeros: the digits shown are always `digits`
    if 'e' not in text:
        return text.rstrip('.')
    return _short_exponent(text)


def compact(x):
    """A short exact-enough form for a small cell or a tick: '0.43', '-1.20', '3.1e-4', '0'."""
    if x == 0:
        return '0'
    if 0.01 <= abs(x) < 100:
        return f'{x:.2f}'
    return _short_exponent(f'{x:.1e}')


def exact(x):
    """Every digit: the shortest text that reads back as the same float ('0.09612345678901234')."""
    return repr(x)

