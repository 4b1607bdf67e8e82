package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newMessagesCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "messages",
		Short: "not built yet",
		RunE: func(*cobra.Command, []string) error { return errors.New("messages is not built yet") },
	}
}
