//go:build unix

package cli

import (
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// inBackgroundOf reports whether w is a terminal whose foreground process
// group is not this process's: started with `serve &`, whatever it writes
// there lands in the middle of what the foreground program draws.
func inBackgroundOf(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	fg, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	return err == nil && fg != syscall.Getpgrp()
}
