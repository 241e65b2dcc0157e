"""The tray app: pystray icon and menu over a GUI-free Controller. pystray is imported only here, inside
functions, because importing it without a display raises (Xlib) instead of failing softly."""
