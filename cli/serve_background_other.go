//go:build !unix

package cli

import "io"

// inBackgroundOf cannot tell a background job here: the log stays on w.
func inBackgroundOf(io.Writer) bool { return false }
