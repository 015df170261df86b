package main

import (
	"github.com/spf13/cobra"

	"kafkasim/scenarios"
)

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the library's scenarios, one line each: the name that runs it and its title",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := scenarios.WriteLibrary(cmd.OutOrStdout()); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			return nil
		},
	}
}
