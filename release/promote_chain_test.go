package release_test

import (
	"net/http"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
	"github.com/releasetool/release/release"
)

// rtt is the round trip of the simulated network the chain tests run on.
const rtt = 10 * time.Millisecond

// chainSetup is a staging and a prod registry on registrytest's simulated
// network (a fake clock: round trips are counted, not measured, and the
// count does not depend on the machine).
type chainSetup struct {
	staging, prod *registrytest.Server
	net           *registrytest.Network
	keychain      string // DOCKER_CONFIG with prod's credentials
}

// promoteOnNetwork runs one promotion with a fresh client (a new process:
// no connection, no credentials known) and returns it with its duration in
// round trips.
func (s chainSetup) promoteOnNetwork(t *testing.T, opts release.PromoteOptions) (*release.PromoteResult, time.Duration) {
	t.Helper()
	var res *release.PromoteResult
	synctest.Test(t, func(t *testing.T) {
		s.net.Reset()
		c := newImages(t, registry.WithTransport(s.net), registry.WithKeychain(registry.DockerConfigKeychain(s.keychain)))
		var err error
		res, err = release.Promote(t.Context(), release.PromoteDeps{Registry: c}, opts)
		if err != nil {
			t.Fatal(err)
		}
	})
	return res, s.net.Elapsed() / rtt
}

// TestPromoteRoundTrips: the longest chain of sequential round trips of a
// promotion that has already happened, the figure that decides its wall
// time across a network. Staging is plain HTTP without auth (HTTP/1.1),
// prod HTTPS (HTTP/2) with Basic auth unless said otherwise, as in
// scripts/bench-promote. With signatures, staging is HTTPS too: over
// HTTP/1.1 the attachment lookups and the config read compete for
// connections, and which one pays for a new connection depends on the
// scheduler (docs/promote.md). docs/promote.md draws the chains.
func TestPromoteRoundTrips(t *testing.T) {
	tests := []struct {
		name         string
		noSignatures bool
		byDigest     bool
		signed       bool // a cosign signature and an SBOM referrer
		noAPI        bool // registry:2, without the referrers API
		auth         string
		// want is the no-op's round trips; maxProd its requests at prod,
		// the auth handshake apart.
		want    time.Duration
		maxProd int
	}{
		// staging: connect + manifest (2), config (1); prod: the sha tag (1).
		{name: "--no-signatures", noSignatures: true, want: 4, maxProd: 6},
		{name: "by digest, --no-signatures", noSignatures: true, byDigest: true, want: 4, maxProd: 6},
		// Staging over HTTPS: connect + TLS + manifest (3), config (1),
		// the sha tag (1). The attachments are read beside the config, and
		// the destination's copies of them beside the sha tag.
		{name: "unsigned", want: 5, maxProd: 6},
		{name: "unsigned, no referrers API", noAPI: true, want: 5, maxProd: 6},
		{name: "signed", signed: true, want: 5, maxProd: 9},
		{name: "signed, no referrers API", signed: true, noAPI: true, want: 5, maxProd: 9},
		// A token exchange after the challenge: one more at prod.
		{name: "token auth, --no-signatures", auth: "token", noSignatures: true, want: 5, maxProd: 6},
		{name: "anonymous, --no-signatures", auth: "none", noSignatures: true, want: 4, maxProd: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sopts []registrytest.Option
			if !tt.noSignatures {
				sopts = append(sopts, registrytest.WithTLS())
			}
			popts := []registrytest.Option{registrytest.WithTLS()}
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
			s := chainSetup{staging: registrytest.New(t, sopts...), prod: registrytest.New(t, popts...)}
			s.net = registrytest.NewNetwork(rtt, s.staging, s.prod)
			s.keychain = dockerConfigFor(t, s.prod.Host, "u", "p")
			img := labeled(1, "1.0.0", revA)
			s.staging.PushImage(t, "app", "1.0.0", img)
			if tt.signed {
				s.staging.PushSignature(t, "app", img.Digest, "sig", 7)
				s.staging.PushReferrer(t, "app", img.Descriptor(), "application/spdx+json", 8)
			}
			opts := release.PromoteOptions{Source: s.staging.Host + "/app:1.0.0", Destination: s.prod.Host + "/app", NoSignatures: tt.noSignatures}
			if tt.byDigest {
				opts.Source = s.staging.Host + "/app@" + img.Digest
			}
			first, fresh := s.promoteOnNetwork(t, opts)
			t.Logf("fresh promotion: %d round trips\n%s", fresh, registrytest.Chains(s.net.Trips()))
			if tt.signed && len(first.Attachments) != 2 {
				t.Fatalf("attachments: %+v, want the signature and the SBOM", first.Attachments)
			}

			s.prod.Reset()
			res, got := s.promoteOnNetwork(t, opts)
			t.Logf("no-op: %d round trips\n%s", got, registrytest.Chains(s.net.Trips()))
			if got != tt.want {
				t.Errorf("no-op: %d round trips, want %d", got, tt.want)
			}
			for _, a := range res.Tags {
				if a.Action != registry.ActionUnchanged {
					t.Errorf("no-op: %s %s", a.Tag, a.Action)
				}
			}
			for _, a := range res.Attachments {
				if a.Action != registry.ActionUnchanged {
					t.Errorf("no-op: attachment %s %s", a.Digest, a.Action)
				}
			}
			if n := s.prod.Count(func(r registrytest.Request) bool { return r.Write() }); n != 0 {
				t.Errorf("no-op made %d writes:\n%s", n, s.prod.Summary())
			}
			if n := s.prod.Count(registrytest.NotAuth); n > tt.maxProd {
				t.Errorf("no-op made %d requests at prod, want at most %d:\n%s", n, tt.maxProd, s.prod.Summary())
			}
			// Nothing is read twice: what the checks found is what the copy
			// would have read again.
			seen := map[string]int{}
			for _, r := range s.prod.Requests() {
				if !r.Auth() {
					seen[r.Method+" "+r.Ref]++
				}
			}
			for k, n := range seen {
				if n > 1 {
					t.Errorf("no-op: %s %d times", k, n)
				}
			}
		})
	}
}

// TestPromoteShaTagAbsentFromTheListIsNotRead: the sha tag is checked when
// the source's revision is known; if the destination's tag list arrived
// first and lacks it, it is absent without a request.
func TestPromoteShaTagAbsentFromTheListIsNotRead(t *testing.T) {
	// The premise: prod's tag list has arrived before staging's config
	// says the revision. Prod is anonymous; its list is answered by 50ms
	// whichever request goes first (a first 404 must be confirmed by
	// GET /v2/ before the list is sent, which costs a round trip in some
	// schedules). Staging wants a token, so its config arrives at 60ms at
	// the earliest: the 401, the token, the manifest, the config.
	s := chainSetup{
		staging: registrytest.New(t, registrytest.WithTLS(), registrytest.WithTokenAuth("u", "p")),
		prod:    registrytest.New(t, registrytest.WithTLS()),
	}
	s.net = registrytest.NewNetwork(rtt, s.staging, s.prod)
	s.keychain = dockerConfigFor(t, s.staging.Host, "u", "p")
	s.staging.PushImage(t, "app", "1.0.0", labeled(1, "1.0.0", revA))
	s.prod.PushImage(t, "app", "0.9.0", labeled(2, "0.9.0", revB))
	res, _ := s.promoteOnNetwork(t, release.PromoteOptions{
		Source: s.staging.Host + "/app:1.0.0", Destination: s.prod.Host + "/app", NoSignatures: true,
	})
	sha := "sha-" + revA[:12]
	if !slices.ContainsFunc(res.Tags, func(a release.TagAction) bool { return a.Tag == sha && a.Action == registry.ActionCreated }) {
		t.Errorf("tags %v: want %s created", actions(res.Tags), sha)
	}
	for _, r := range s.prod.Requests() {
		if r.Method == http.MethodHead && r.Ref == sha {
			t.Errorf("%s was read although the tag list lacks it:\n%s", sha, registrytest.Chains(s.net.Trips()))
		}
	}
}
