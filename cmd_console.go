package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func runConsole(cmd *cobra.Command, g *globalFlags) error {
	return errors.New("the console is not built yet")
}
