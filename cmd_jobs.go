package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newJobsCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "jobs",
		Short: "not built yet",
		RunE: func(*cobra.Command, []string) error { return errors.New("jobs is not built yet") },
	}
}
