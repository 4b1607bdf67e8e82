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
	return verifierOn(b, verify.Config{ImportDir: dir, Archive: archive, AnotherArchive: another, Target: target, Concurrency: concurrency})
}

// verifierOn is verify on b as cfg says, b filling its Backend and Reader.
func verifierOn(b *backend, cfg verify.Config) (*verify.Verifier, error) {
	reader, ok := b.Backend.(model.Reader)
	if !ok {
		return nil, errCannotRead
	}
	// b.Backend, not b: the wrapper would hide the Placer.
	cfg.Backend, cfg.Reader = b.Backend, reader
	return verify.New(cfg), nil
}
