package importer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"bbimport/archive/gen"
	"bbimport/model"
)

// BenchmarkPullRequests imports an archive of one small repository with
// 2,000 pull requests and reports pull requests per second, git data
// included (it is a few kilobytes here).
//
//	go test -run '^$' -bench PullRequests -benchtime 3x ./importer/
func BenchmarkPullRequests(b *testing.B) {
	const prs = 2000
	dir := b.TempDir()
	archivePath := filepath.Join(dir, "prs.tar")
	opts := gen.Options{Projects: 1, Repos: 1, PRs: prs, Commits: 1, Seed: 5}
	if _, err := gen.GenerateFile(context.Background(), archivePath, opts); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		in, err := Open(Options{Home: filepath.Join(dir, "home", time.Now().Format("150405.000000000"))})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.Link(archivePath, filepath.Join(in.ImportDir(), "prs.tar")); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		begin := time.Now()
		job, err := in.Start(context.Background(), "prs.tar")
		if err != nil {
			b.Fatal(err)
		}
		final, err := in.Wait(context.Background(), job.ID)
		total += time.Since(begin)
		b.StopTimer()
		if err != nil || final.State != model.StateCompleted {
			b.Fatalf("job ended %s (%v)", final.State, err)
		}
		in.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(prs*b.N)/total.Seconds(), "PRs/s")
}
