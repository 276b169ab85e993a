package release_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
	"github.com/releasetool/release/release"
)

// TestPromoteRoundTrips counts the sequential round trips of promotions on
// registrytest's simulated network (a fake clock: the count does not
// depend on the machine): staging is plain HTTP without auth, prod HTTPS
// (HTTP/2) with Basic auth, as in scripts/bench-promote.
func TestPromoteRoundTrips(t *testing.T) {
	const rtt = 10 * time.Millisecond
	tests := []struct {
		name         string
		noSignatures bool
		byDigest     bool
		signed       bool
		noAPI        bool
		auth         string
	}{
		{name: "no-op, --no-signatures", noSignatures: true},
		{name: "no-op, signatures", signed: true},
		{name: "no-op, signatures, no referrers API", signed: true, noAPI: true},
		{name: "no-op, none signed, no referrers API", noAPI: true},
		{name: "no-op, by digest, --no-signatures", noSignatures: true, byDigest: true},
		{name: "no-op, token", auth: "token"},
		{name: "no-op, token, --no-signatures", auth: "token", noSignatures: true},
		{name: "no-op, anonymous, --no-signatures", auth: "none", noSignatures: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sopts, popts []registrytest.Option
			popts = append(popts, registrytest.WithTLS())
			switch tt.auth {
			case "":
				popts = append(popts, registrytest.WithBasicAuth("u", "p"))
			case "token":
				popts = append(popts, registrytest.WithTokenAuth("u", "p"))
			}
			if tt.noAPI {
				sopts = append(sopts, registrytest.WithReferrersAPI(false))
				popts = append(popts, registrytest.WithReferrersAPI(false))
			}
			staging := registrytest.New(t, sopts...)
			prod := registrytest.New(t, popts...)
			img := labeled(1, "1.0.0", revA)
			staging.PushImage(t, "app", "1.0.0", img)
			if tt.signed {
				staging.PushSignature(t, "app", img.Digest, "sig", 7)
				staging.PushReferrer(t, "app", img.Descriptor(), "application/spdx+json", 8)
			}
			net := registrytest.NewNetwork(rtt, staging, prod)
			cfg := dockerConfigFor(t, prod.Host, "u", "p")
			src := staging.Host + "/app:1.0.0"
			if tt.byDigest {
				src = staging.Host + "/app@" + img.Digest
			}
			run := func(t *testing.T) (*release.PromoteResult, time.Duration) {
				t.Helper()
				var res *release.PromoteResult
				synctest.Test(t, func(t *testing.T) {
					net.Reset()
					c := newImages(t, registry.WithTransport(net), registry.WithKeychain(registry.DockerConfigKeychain(cfg)))
					var err error
					res, err = release.Promote(t.Context(), release.PromoteDeps{Registry: c}, release.PromoteOptions{
						Source: src, Destination: prod.Host + "/app", NoSignatures: tt.noSignatures,
					})
					if err != nil {
						t.Fatal(err)
					}
				})
				return res, net.Elapsed()
			}
			_, d := run(t)
			t.Logf("%s: fresh %v round trips\n%s", tt.name, d/rtt, registrytest.Chains(net.Trips()))
			prod.Reset()
			res, d := run(t)
			for _, a := range res.Tags {
				if a.Action != "unchanged" {
					t.Errorf("re-run: %s %s", a.Tag, a.Action)
				}
			}
			t.Logf("%s: %v round trips, %d requests at prod\n%s", tt.name, d/rtt, prod.Count(registrytest.NotAuth), registrytest.Chains(net.Trips()))
		})
	}
}
