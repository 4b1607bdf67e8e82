package cli

import (
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// streams are what a command reads and writes, with whether each is a
// terminal decided once, before the command runs: the commands choose
// redrawn progress, prompts and the full-screen console from these flags
// and never look at file descriptors themselves.
type streams struct {
	in                    io.Reader
	out, errOut           io.Writer
	inTTY, outTTY, errTTY bool
}

func newStreams(cmd *cobra.Command) *streams {
	s := &streams{in: cmd.InOrStdin(), out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr()}
	s.inTTY, s.outTTY, s.errTTY = isTerminal(s.in), isTerminal(s.out), isTerminal(s.errOut)
	return s
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
