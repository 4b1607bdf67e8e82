package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newCancelCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel",
		Short: "not built yet",
		RunE: func(*cobra.Command, []string) error { return errors.New("cancel is not built yet") },
	}
}
