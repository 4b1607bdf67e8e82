package cli

import (
	"errors"

	"bbimport/model"
	"bbimport/verify"
)

// errCannotRead is why a backend cannot be verified: it does not read the
// target's projects, repositories and pull requests.
var errCannotRead = errors.New("this backend cannot read projects, repositories and pull requests; verify needs them")

// newVerifier is verify on b, as the verify command and the console build
// it: the jobs' archives resolved in dir unless archive names one, target
// naming b in the report.
func newVerifier(b *backend, dir, archive string, another bool, target string, concurrency int) (*verify.Verifier, error) {
	reader, ok := b.Backend.(model.Reader)
	if !ok {
		return nil, errCannotRead
	}
	// b.Backend, not b: the wrapper would hide the Placer.
	return verify.New(verify.Config{Backend: b.Backend, Reader: reader, ImportDir: dir, Archive: archive, AnotherArchive: another,
		Target: target, Concurrency: concurrency}), nil
}
