package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newGenCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "gen",
		Short: "not built yet",
		RunE: func(*cobra.Command, []string) error { return errors.New("gen is not built yet") },
	}
}
