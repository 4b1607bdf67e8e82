// Command bbimport imports Bitbucket Data Center migration archives: a
// terminal console and headless commands, on an in-process importer
// (--home) or on a remote Bitbucket (--url).
package main

import (
	"embed"
	"io/fs"
	"os"

	"bbimport/cli"
)

//go:embed testdata/samples/*.tar
var samples embed.FS

func main() {
	sub, err := fs.Sub(samples, "testdata/samples")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	os.Exit(cli.Main(sub))
}
