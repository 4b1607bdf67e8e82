package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"bbimport/archive"
	"bbimport/model"
	"bbimport/ui"
)

// ChecksumOptions are what checksum runs with.
type ChecksumOptions struct {
	IO      *streams
	Archive string // found as findArchive finds it
	// Expect is --expect's hex in lower case ("" without it): an MD5 or a
	// SHA-256.
	Expect string
	JSON   bool
}

// NewCmdChecksum is the checksum command; runF, when not nil, runs instead
// of it with the parsed options.
func NewCmdChecksum(f *Factory, runF func(*ChecksumOptions) error) *cobra.Command {
	opts := &ChecksumOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "checksum ARCHIVE",
		Short: "MD5 and SHA-256 of an archive, to check a copy against the source",
		Long: `checksum computes the MD5 and the SHA-256 of an archive in one read, as fast
as md5sum alone on two cores. Atlassian's guide asks to compare the MD5 on the
source and the target after copying: run 'md5sum Bitbucket_export_N.tar' on
the source and pass its output (or just the hex) to --expect here.

ARCHIVE is found as for inspect. A progress bar shows on a terminal.

Exit status: 0 (with --expect: it matches); 1 it does not match; 2 error.`,
		Example: `  bbimport checksum Bitbucket_export_12.tar
  bbimport checksum Bitbucket_export_12.tar --expect 9e107d9d372bb6826bd81d3542a419d6`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Take md5sum's "HEX  FILE" line as it is.
			expect := ""
			if fields := strings.Fields(opts.Expect); len(fields) > 0 {
				expect = strings.ToLower(fields[0])
			}
			if _, err := hex.DecodeString(expect); err != nil || expect != "" && len(expect) != 32 && len(expect) != 64 {
				return fmt.Errorf("--expect %q is neither an MD5 (32 hex digits) nor a SHA-256 (64 hex digits)", expect)
			}
			path, err := findArchive(f.ArchiveDir(), args[0])
			if err != nil {
				return err
			}
			opts.Archive, opts.Expect = path, expect
			if runF != nil {
				return runF(opts)
			}
			return runChecksum(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Expect, "expect", "", "the MD5 or SHA-256 of the archive on the source (case does not matter)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the checksums as JSON")
	return cmd
}

func runChecksum(ctx context.Context, opts *ChecksumOptions) error {
	var progress func(done, total int64)
	if opts.IO.errTTY {
		bar := ui.NewProgressBar(opts.IO.errOut, nil)
		progress = bar.Show
		defer bar.Clear()
	}
	sums, err := archive.Checksum(ctx, opts.Archive, progress)
	if err != nil {
		return err
	}
	return reportChecksums(opts.IO.out, sums, opts.Expect, opts.JSON)
}

// reportChecksums prints the sums and, with expect, whether one matches.
func reportChecksums(out io.Writer, sums model.Checksums, expect string, asJSON bool) error {
	match := ""
	switch expect {
	case "":
	case sums.MD5:
		match = "MD5"
	case sums.SHA256:
		match = "SHA-256"
	}
	if asJSON {
		v := struct {
			model.Checksums
			Expect  string `json:"expect,omitempty"`
			Matches string `json:"matches,omitempty"`
		}{sums, expect, match}
		if err := printJSON(out, v); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "md5  %s\nsha256  %s\n", sums.MD5, sums.SHA256)
		switch {
		case match != "":
			fmt.Fprintf(out, "matches %s\n", match)
		case expect != "":
			fmt.Fprintln(out, "does not match: this file differs from the one exported; copy it again")
		}
	}
	if expect != "" && match == "" {
		return &exitError{code: exitFailed}
	}
	return nil
}
