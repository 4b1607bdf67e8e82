package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// invocation is bbimport as the admin ran it, with the --home, --url and
// --user it was given, for the commands a hint prints: a hint copied into
// the same shell then reaches the same home or server ("./bbimport --home
// /x status 3").
func (g *globalFlags) invocation() string {
	parts := []string{binaryName()}
	for _, f := range []struct{ name, value string }{{"home", g.home}, {"url", g.url}, {"user", g.user}} {
		if g.given[f.name] && f.value != "" {
			parts = append(parts, "--"+f.name, shellQuote(f.value))
		}
	}
	return strings.Join(parts, " ")
}

// archiveDir is the import directory --import-dir or --home names; ""
// when neither was given.
func (g *globalFlags) archiveDir() string {
	switch {
	case g.importDir != "":
		return g.importDir
	case g.home != "":
		return filepath.Join(g.home, "shared", "data", "migration", "import")
	}
	return ""
}

// noteGiven records which connection flags the command line set: only
// those go into hints (a value from the environment is there again).
func (g *globalFlags) noteGiven(cmd *cobra.Command) {
	g.given = map[string]bool{}
	for _, name := range []string{"home", "url", "user"} {
		if f := cmd.Flag(name); f != nil && f.Changed {
			g.given[name] = true
		}
	}
}

// binaryName is bbimport as it was typed (./bbimport, bbimport,
// /opt/bin/bbimport); a binary that go run built in a temporary
// directory is named bbimport, since that path is gone once it ends.
func binaryName() string {
	arg0 := os.Args[0]
	if strings.Contains(arg0, "go-build") || arg0 == "" {
		return "bbimport"
	}
	if !strings.Contains(arg0, string(filepath.Separator)) {
		return filepath.Base(arg0)
	}
	return arg0
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
