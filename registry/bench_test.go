package registry_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// BenchmarkCopy copies a two-platform index (with attestations, 2×6 layers
// of 512 KiB) between two in-process registries with this package and with
// crane.Copy, in the same run, so their times and request counts compare
// directly. "fresh" copies into a new repository each time; "noop" copies
// what is already there. Metrics: see reportRequests.
func BenchmarkCopy(b *testing.B) {
	idx := registrytest.NewIndex(77, []string{"linux/amd64", "linux/arm64"}, 6, 512<<10, true)
	copiers := []struct {
		name string
		copy func(b *testing.B, src, dst string) error
	}{
		{"release", func(b *testing.B, src, dst string) error {
			c, err := registry.New()
			if err != nil {
				return err
			}
			_, err = c.Copy(b.Context(), src, dst, registry.CopyOptions{NoAttachments: true})
			return err
		}},
		{"crane", func(b *testing.B, src, dst string) error {
			return crane.Copy(src, dst, crane.WithContext(b.Context()))
		}},
	}
	seq := 0 // fresh repositories stay fresh across the framework's reruns
	for _, cp := range copiers {
		for _, mode := range []string{"fresh", "noop"} {
			b.Run(cp.name+"/"+mode, func(b *testing.B) {
				src, dst := registrytest.New(b), registrytest.New(b)
				src.PushIndex(b, "app", "1.0.0", idx)
				srcRef := src.Host + "/app:1.0.0"
				dstRef := func(i int) string {
					if mode == "noop" {
						return dst.Host + "/app:1.0.0"
					}
					seq++
					return fmt.Sprintf("%s/app%d:1.0.0", dst.Host, seq)
				}
				if mode == "noop" {
					if err := cp.copy(b, srcRef, dstRef(0)); err != nil {
						b.Fatal(err)
					}
				}
				src.Reset()
				dst.Reset()
				b.SetBytes(0)
				b.ResetTimer()
				for i := range b.N {
					if err := cp.copy(b, srcRef, dstRef(i)); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				reportRequests(b, src, dst)
			})
		}
	}
}

// BenchmarkCopyRemote is BenchmarkCopy across a network: both registries
// use token authentication and answer each request 2ms late, so the time
// of a copy is its round trips. A no-op promotion is where the request
// layer shows: crane.Copy pings and authenticates at both registries and
// reads the source manifest, one after the other; release checks the
// source and the destination at once, and not the source at all when it
// is given the digest.
func BenchmarkCopyRemote(b *testing.B) {
	idx := registrytest.NewIndex(78, []string{"linux/amd64", "linux/arm64"}, 3, 64<<10, true)
	const latency = 2 * time.Millisecond
	src := registrytest.New(b, registrytest.WithTokenAuth("u", "p"), registrytest.WithLatency(latency))
	dst := registrytest.New(b, registrytest.WithTokenAuth("u", "p"), registrytest.WithLatency(latency))
	src.PushIndex(b, "app", "1.0.0", idx)
	keychain := registry.DockerConfigKeychain(dockerConfig(b, src.Host, "u", "p", dst.Host))
	release := func(b *testing.B, src, dst string) error {
		c, err := registry.New(registry.WithKeychain(keychain))
		if err != nil {
			return err
		}
		_, err = c.Copy(b.Context(), src, dst, registry.CopyOptions{NoAttachments: true})
		return err
	}
	craneCopy := func(b *testing.B, src, dst string) error {
		return crane.Copy(src, dst, crane.WithContext(b.Context()), crane.WithAuthFromKeychain(keychain))
	}
	byTag := src.Host + "/app:1.0.0"
	byDigest := src.Host + "/app:1.0.0@" + idx.Digest
	if err := release(b, byTag, dst.Host+"/app"); err != nil {
		b.Fatal(err)
	}
	seq := 0
	fresh := func(tool string) func(int) string {
		return func(int) string {
			seq++
			return fmt.Sprintf("%s/fresh-%s-%d:1.0.0", dst.Host, tool, seq)
		}
	}
	cases := []struct {
		name string
		copy func(b *testing.B, src, dst string) error
		src  string
		dst  func(i int) string
	}{
		{"release/noop-by-tag", release, byTag, func(int) string { return dst.Host + "/app:1.0.0" }},
		{"release/noop-by-digest", release, byDigest, func(int) string { return dst.Host + "/app:1.0.0" }},
		{"crane/noop", craneCopy, byTag, func(int) string { return dst.Host + "/app:1.0.0" }},
		{"release/fresh", release, byTag, fresh("release")},
		{"crane/fresh", craneCopy, byTag, fresh("crane")},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			src.Reset()
			dst.Reset()
			for i := range b.N {
				if err := tc.copy(b, tc.src, tc.dst(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportRequests(b, src, dst)
		})
	}
}

// reportRequests reports the requests per copy: dst-req/op and src-req/op
// at each registry without the auth handshake, auth-req/op the handshake
// at both (pings, token requests, answers 401; see Request.Auth).
func reportRequests(b *testing.B, src, dst *registrytest.Server) {
	n := float64(b.N)
	b.ReportMetric(float64(dst.Count(registrytest.NotAuth))/n, "dst-req/op")
	b.ReportMetric(float64(src.Count(registrytest.NotAuth))/n, "src-req/op")
	b.ReportMetric(float64(dst.Count(registrytest.Request.Auth)+src.Count(registrytest.Request.Auth))/n, "auth-req/op")
}
