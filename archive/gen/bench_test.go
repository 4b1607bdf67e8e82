package gen

import (
	"context"
	"io"
	"testing"
)

// BenchmarkGenerate measures one archive of 20 repositories (10 origins, 10
// forks) with 50 pull requests each, the shape of `bbimport gen --prs 50`.
// Divide by 20 for the time per repository: its git objects and its
// pull requests' JSON and gzip.
func BenchmarkGenerate(b *testing.B) {
	opts := DefaultOptions()
	opts.Projects, opts.Repos, opts.PRs = 1, 10, 50
	opts.TempDir = b.TempDir()
	for b.Loop() {
		st, err := Generate(context.Background(), io.Discard, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(st.Bytes)
		b.ReportMetric(float64(st.Repositories), "repos/op")
	}
}
