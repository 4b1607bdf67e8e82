package importer

import (
	"sync"
	"testing"

	"bbimport/internal/backendtest"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{New: func(t *testing.T) backendtest.Target {
		in := openHome(t)
		return backendtest.Target{Backend: in, ImportDir: in.ImportDir(), Hold: func() (<-chan struct{}, func()) {
			return holdAtCheckpoint(in)
		}}
	}})
}

// holdAtCheckpoint makes the next job wait at its first checkpoint until
// release is called.
func holdAtCheckpoint(in *Instance) (<-chan struct{}, func()) {
	held, gate := make(chan struct{}), make(chan struct{})
	var reached, released sync.Once
	in.beforeCheckpoint = func(string) {
		reached.Do(func() { close(held) })
		<-gate
	}
	return held, func() { released.Do(func() { close(gate) }) }
}
