package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// headGate holds manifest HEADs until want of them are in flight at once
// and records the most it saw.
type headGate struct {
	want int
	open chan struct{}

	mu       sync.Mutex
	inFlight int
	max      int
	opened   bool
}

func (g *headGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodHead {
		return http.DefaultTransport.RoundTrip(req)
	}
	g.mu.Lock()
	g.inFlight++
	g.max = max(g.max, g.inFlight)
	if g.inFlight == g.want && !g.opened {
		g.opened = true
		close(g.open)
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()
	select {
	case <-g.open:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestFindJobsFlag: --jobs N is the bound of find's requests in flight,
// not the default 8. The gate opens only with N HEADs in flight, so a
// smaller bound never finishes, and a larger one shows in the maximum.
func TestFindJobsFlag(t *testing.T) {
	reg := registrytest.New(t)
	for i := range 12 {
		reg.PushImage(t, "app", fmt.Sprintf("1.0.%d", i), registrytest.NewImage(registrytest.ImageSpec{Seed: uint64(i + 1), Labels: map[string]string{
			"org.opencontainers.image.revision": revOne,
		}}))
	}
	for _, jobs := range []int{3, 10} {
		t.Run(fmt.Sprint(jobs), func(t *testing.T) {
			g := &headGate{want: jobs, open: make(chan struct{})}
			// The deadline only ends a find that would wait forever at the gate.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			r := runCLI(t, ctx, cliEnv{options: []registry.Option{registry.WithTransport(g)}},
				"find", reg.Host+"/app", "--commit", revOne, "--jobs", fmt.Sprint(jobs))
			if r.code != 0 {
				t.Fatalf("exit %d (a bound below %d never opens the gate)\nstderr:\n%s", r.code, jobs, r.stderr)
			}
			if g.max != jobs {
				t.Errorf("at most %d HEADs in flight, want --jobs %d", g.max, jobs)
			}
		})
	}
}
