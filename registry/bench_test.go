package registry_test

import (
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// BenchmarkCopy copies a two-platform index (with attestations, 2×6 layers
// of 512 KiB) between two in-process registries with this package and with
// crane.Copy, in the same run, so their times and request counts compare
// directly. "fresh" copies into a new repository each time; "noop" copies
// what is already there. Metrics: dst-req/op (destination requests, auth
// excluded), auth-req/op (pings and token requests), src-req/op.
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
					return fmt.Sprintf("%s/app%d:1.0.0", dst.Host, i)
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
				n := float64(b.N)
				b.ReportMetric(float64(dst.Count(registrytest.NotAuth))/n, "dst-req/op")
				b.ReportMetric(float64(src.Count(registrytest.NotAuth))/n, "src-req/op")
				auth := func(r registrytest.Request) bool { return r.Auth() }
				b.ReportMetric(float64(dst.Count(auth)+src.Count(auth))/n, "auth-req/op")
			})
		}
	}
}
