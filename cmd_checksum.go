package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newChecksumCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "checksum",
		Short: "not built yet",
		RunE: func(*cobra.Command, []string) error { return errors.New("checksum is not built yet") },
	}
}
