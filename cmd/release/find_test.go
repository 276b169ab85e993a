package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

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
			g := registrytest.NewGate(nil, jobs, func(r *http.Request) bool { return r.Method == http.MethodHead })
			// The deadline only ends a find that would wait forever at the gate.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			r := runCLI(t, ctx, cliEnv{options: []registry.Option{registry.WithTransport(g)}},
				"find", reg.Host+"/app", "--commit", revOne, "--jobs", fmt.Sprint(jobs))
			if r.code != 0 {
				t.Fatalf("exit %d (a bound below %d never opens the gate)\nstderr:\n%s", r.code, jobs, r.stderr)
			}
			if g.Max() != jobs {
				t.Errorf("at most %d HEADs in flight, want --jobs %d", g.Max(), jobs)
			}
		})
	}
}
