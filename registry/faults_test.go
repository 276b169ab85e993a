package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

func TestCopySurvivesFaults(t *testing.T) {
	faults := registrytest.Faults{Rate: 0.3, Seed: 42}
	src := registrytest.New(t, registrytest.WithFaults(faults))
	faults.Seed = 43
	dst := registrytest.New(t, registrytest.WithFaults(faults), registrytest.WithTokenAuth("ci", "pw"))
	type image struct {
		tag, digest string
		manifests   []string
	}
	var images []image
	for i := range 50 {
		tag := fmt.Sprintf("1.0.%d", i)
		if i%5 == 0 {
			idx := registrytest.NewIndex(uint64(1000+i), []string{"linux/amd64", "linux/arm64"}, 2, 200, true)
			src.PushIndex(t, "app", tag, idx)
			src.PushSignature(t, "app", idx.Digest, "sig", uint64(i))
			images = append(images, image{tag, idx.Digest, []string{idx.Digest, idx.Images[0].Digest, idx.Images[3].Digest}})
			continue
		}
		img := registrytest.NewImage(registrytest.ImageSpec{Seed: uint64(i), Layers: 3, LayerSize: 300})
		src.PushImage(t, "app", tag, img)
		images = append(images, image{tag, img.Digest, []string{img.Digest}})
	}

	waits := &sleeps{}
	c, err := registry.New(
		registry.WithRetry(registry.RetryPolicy{Attempts: 15, Sleep: waits.sleep}),
		registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, dst.Host, "ci", "pw"))),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range images {
		res, err := c.Copy(t.Context(), src.Host+"/app:"+im.tag, dst.Host+"/prod/app", registry.CopyOptions{Tags: []string{"latest"}})
		if err != nil {
			t.Fatalf("copy of %s: %v", im.tag, err)
		}
		if res.Digest != im.digest {
			t.Errorf("copy of %s: digest %s, want %s", im.tag, res.Digest, im.digest)
		}
		for _, d := range im.manifests {
			sameManifest(t, src, dst, "app", "prod/app", d)
		}
		raw, _, _ := dst.Manifest("prod/app", im.tag)
		if got := digestOf(raw); got != im.digest {
			t.Errorf("tag %s names %s, want %s", im.tag, got, im.digest)
		}
	}
	faulted := dst.Count(func(r registrytest.Request) bool { return r.Fault != "" }) +
		src.Count(func(r registrytest.Request) bool { return r.Fault != "" })
	total := dst.Count() + src.Count()
	t.Logf("%d of %d requests failed on purpose", faulted, total)
	if faulted < total/5 {
		t.Errorf("only %d of %d requests faulted; the test is not testing much", faulted, total)
	}
	if !slices.Contains(waits.all(), time.Second) {
		t.Error("no retry waited the 1s a 429 asked for")
	}
	if v := append(dst.Violations(), dst.CheckTags()...); len(v) > 0 {
		t.Errorf("incomplete tags: %v", v)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		max        time.Duration
		want       time.Duration
	}{
		{"seconds", "2", 0, 2 * time.Second},
		{"HTTP date", now.Add(5 * time.Second).Format(http.TimeFormat), 0, 5 * time.Second},
		{"capped", "3600", 30 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
			reg := registrytest.New(t, registrytest.WithFaults(registrytest.Faults{
				Rate: 1, Limit: 1, Kinds: []string{"429"}, RetryAfter: tt.retryAfter,
				Only: func(r registrytest.Request) bool { return r.Kind == registrytest.KindManifest },
			}))
			reg.PushImage(t, "app", "1", img)
			waits := &sleeps{}
			c, err := registry.New(registry.WithRetry(registry.RetryPolicy{
				Sleep: waits.sleep, Now: func() time.Time { return now }, MaxRetryAfter: tt.max,
			}))
			if err != nil {
				t.Fatal(err)
			}
			d, err := c.Resolve(t.Context(), reg.Host+"/app:1")
			if err != nil {
				t.Fatal(err)
			}
			if d.Digest != img.Digest {
				t.Errorf("digest %s, want %s", d.Digest, img.Digest)
			}
			if got := waits.all(); !slices.Equal(got, []time.Duration{tt.want}) {
				t.Errorf("waits = %v, want [%v]", got, tt.want)
			}
		})
	}
}

func TestRetriesGiveUp(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithFaults(registrytest.Faults{
		Rate: 1, Kinds: []string{"500"},
		Only: func(r registrytest.Request) bool { return r.Kind == registrytest.KindManifest },
	}))
	reg.PushImage(t, "app", "1", registrytest.NewImage(registrytest.ImageSpec{Seed: 1}))
	c := newClient(t, registry.WithRetry(registry.RetryPolicy{Attempts: 3, Sleep: (&sleeps{}).sleep}))
	_, err := c.Resolve(t.Context(), reg.Host+"/app:1")
	var re *registry.ResponseError
	if !errors.As(err, &re) || re.Status != http.StatusInternalServerError {
		t.Fatalf("err = %v, want the 500", err)
	}
	if got := reg.Count(registrytest.NotAuth); got != 3 {
		t.Errorf("%d tries, want 3", got)
	}
}

func TestCopyCancelledThenRerun(t *testing.T) {
	idx := registrytest.NewIndex(31, []string{"linux/amd64", "linux/arm64", "linux/s390x"}, 4, 2000, true)
	src := registrytest.New(t)
	src.PushIndex(t, "app", "3.1.4", idx)
	src.PushSignature(t, "app", idx.Digest, "sig", 9)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const after = 5
	var uploads atomic.Int32
	var cancelled atomic.Bool
	dst := registrytest.New(t,
		registrytest.WithHook(func(r registrytest.Request) {
			if r.Upload() && r.UserAgent == "first" && uploads.Add(1) == after {
				cancelled.Store(true)
				cancel()
			}
		}),
		// A request of the first run that reaches the server after the
		// cancellation (its bytes were on the wire) is turned away, so
		// what arrived is exactly what the log shows once the server is
		// idle.
		registrytest.WithFaults(registrytest.Faults{Rate: 1, Kinds: []string{"500"}, Only: func(r registrytest.Request) bool {
			return cancelled.Load() && r.UserAgent == "first"
		}}),
	)
	uploadsBy := func(ua string) []string {
		var out []string
		for _, r := range dst.Requests() {
			if r.Upload() && r.UserAgent == ua {
				out = append(out, r.Ref)
			}
		}
		return out
	}

	first := newClient(t, registry.WithUserAgent("first"), registry.WithJobs(2))
	_, err := first.Copy(ctx, src.Host+"/app:3.1.4", dst.Host+"/app", registry.CopyOptions{Tags: []string{"latest"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: err = %v, want cancelled", err)
	}
	dst.WaitIdle()
	if v := append(dst.Violations(), dst.CheckTags()...); len(v) > 0 {
		t.Fatalf("after the cancelled run, tags name incomplete images: %v", v)
	}
	if tags := dst.Tags("app"); len(tags) != 0 {
		t.Errorf("cancelled run left tags %v", tags)
	}
	arrived := uploadsBy("first")
	if len(arrived) < after {
		t.Fatalf("only %d uploads arrived before cancelling", len(arrived))
	}

	second := newClient(t, registry.WithUserAgent("second"))
	res, err := second.Copy(t.Context(), src.Host+"/app:3.1.4", dst.Host+"/app", registry.CopyOptions{Tags: []string{"latest"}})
	if err != nil {
		t.Fatal(err)
	}
	again := uploadsBy("second")
	for _, d := range again {
		if slices.Contains(arrived, d) {
			t.Errorf("blob %s uploaded again", d)
		}
	}
	total := 3*5 + 3*2 + 2 // platform images, attestations, the signature
	if len(arrived)+len(again) != total || res.BlobsSkipped != len(arrived) {
		t.Errorf("uploads: %d then %d (skipped %d), want %d in all", len(arrived), len(again), res.BlobsSkipped, total)
	}
	for _, d := range []string{idx.Digest, idx.Images[0].Digest, idx.Images[5].Digest, cosign(idx.Digest, "sig")} {
		sameManifest(t, src, dst, "app", "app", d)
	}
	if v := append(dst.Violations(), dst.CheckTags()...); len(v) > 0 {
		t.Errorf("incomplete tags: %v", v)
	}
}

func TestCopyBoundsParallelism(t *testing.T) {
	src, dst := registrytest.New(t), registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 8, Layers: 12, LayerSize: 4000})
	src.PushImage(t, "app", "1", img)
	c := newClient(t, registry.WithJobs(2))
	if _, err := c.Copy(t.Context(), src.Host+"/app:1", dst.Host+"/app", registry.CopyOptions{NoAttachments: true}); err != nil {
		t.Fatal(err)
	}
	if got := dst.MaxInFlight(); got > 2 {
		t.Errorf("%d requests at once at the destination, want ≤ 2", got)
	}
	if got := src.MaxInFlight(); got > 2 {
		t.Errorf("%d requests at once at the source, want ≤ 2", got)
	}
}

// TestCopyReportsProgress: the last update is every byte copied, and no
// update counts more than the total, also when a blob's upload is tried
// again after a try that had read the whole blob (its answer failed).
func TestCopyReportsProgress(t *testing.T) {
	for _, fault := range []string{"", "500", "drop", "drop-after"} {
		t.Run("fault "+fault, func(t *testing.T) {
			src := registrytest.New(t)
			img := registrytest.NewImage(registrytest.ImageSpec{Seed: 9, Layers: 3, LayerSize: 5000})
			src.PushImage(t, "app", "1", img)
			var opts []registrytest.Option
			if fault != "" {
				// The first upload PUT of each layer fails.
				var mu sync.Mutex
				failed := map[string]bool{}
				opts = append(opts, registrytest.WithFaults(registrytest.Faults{
					Rate: 1, Kinds: []string{fault},
					Only: func(r registrytest.Request) bool {
						mu.Lock()
						defer mu.Unlock()
						if r.Kind != registrytest.KindUpload || r.Method != http.MethodPut || failed[r.Ref] {
							return false
						}
						failed[r.Ref] = true
						return true
					},
				}))
			}
			dst := registrytest.New(t, opts...)
			var updates []registry.Update
			c := newClient(t, registry.WithProgress(func(u registry.Update) { updates = append(updates, u) }))
			res, err := c.Copy(t.Context(), src.Host+"/app:1", dst.Host+"/app", registry.CopyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(updates) == 0 {
				t.Fatal("no progress update")
			}
			if last := updates[len(updates)-1]; last.Complete != res.BytesCopied || last.Total != res.BytesCopied {
				t.Errorf("last update %+v after %d updates, want %d of %d", last, len(updates), res.BytesCopied, res.BytesCopied)
			}
			for _, u := range updates {
				if u.Complete > u.Total || u.Complete < 0 {
					t.Errorf("update %+v: complete beyond the total or below zero", u)
					break
				}
			}
		})
	}
}
