"""Whether a window can be shown here, asked before Qt is started (Qt's own answer is an abort, exit 250).

Plain Python: reads the environment and, for X, asks libX11 to open the display.
"""

import ctypes
import ctypes.util
import sys


def no_display_reason(environ, platform=sys.platform):
    """None if a window can probably be shown, else why not, as a few words ('DISPLAY is not set')."""
    if not platform.startswith('linux'):
        return None
    qpa = environ.get('QT_QPA_PLATFORM', '')
    if qpa and not qpa.startswith('xcb'):
        return None  # offscreen, wayland, vnc, …: the user chose; Qt says if it fails
    if not qpa and environ.get('WAYLAND_DISPLAY'):
        return None
    display = environ.get('DISPLAY')
    if not display:
        return 'neither DISPLAY nor WAYLAND_DISPLAY is set'
    if x_display_opens(display) is False:
        return f'the X display {display} cannot be opened'
    return None


def x_display_opens(name):
    """True or False as libX11 opens the display, None if libX11 is not there to ask."""
    path = ctypes.util.find_library('X11')
    if not path:
        return None
    try:
        x11 = ctypes.CDLL(path)
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = x11.XOpenDisplay(name.encode())
    if not handle:
        return False
    x11.XCloseDisplay(handle)
    return True


def no_display_message(reason):
    return (f'error: no display was found ({reason}); to get a picture anyway run '
            '`python3 main.py --screenshot OUT.png`, or start the explorer from a desktop session.')
