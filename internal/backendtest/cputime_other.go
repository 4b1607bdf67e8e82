//go:build !unix

package backendtest

import "time"

// cpuTime is not known here: the benchmarks report the wall clock only.
func cpuTime() (time.Duration, bool) { return 0, false }
