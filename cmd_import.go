package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newImportCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "import",
		Short: "not built yet",
		RunE: func(*cobra.Command, []string) error { return errors.New("import is not built yet") },
	}
}
