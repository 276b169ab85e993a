package registry_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// TestUploadAnswerLostTwice: a blob PUT that the registry took but whose
// answer was lost, twice in a row (the retry of each finds its session
// gone): the blob is there, so the copy goes on.
func TestUploadAnswerLostTwice(t *testing.T) {
	src := registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 3, Layers: 1, LayerSize: 1000})
	src.PushImage(t, "app", "1", img)
	// The layer's PUTs: the 1st and 3rd take effect and lose their
	// answer; the 2nd and 4th (their retries) meet a finished session.
	var puts atomic.Int32
	dst := registrytest.New(t, registrytest.WithFaults(registrytest.Faults{
		Rate: 1, Kinds: []string{"drop-after"},
		Only: func(r registrytest.Request) bool {
			if r.Kind != registrytest.KindUpload || r.Method != http.MethodPut || r.Ref != digestOf(img.Layers[0]) {
				return false
			}
			n := puts.Add(1)
			return n == 1 || n == 3
		},
	}))
	res, err := newClient(t).Copy(t.Context(), src.Host+"/app:1", dst.Host+"/app", registry.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != img.Digest || !dst.HasBlob("app", digestOf(img.Layers[0])) {
		t.Errorf("copy %+v; layer at the destination: %v", res, dst.HasBlob("app", digestOf(img.Layers[0])))
	}
	if v := append(dst.Violations(), dst.CheckTags()...); len(v) > 0 {
		t.Errorf("incomplete tags: %v", v)
	}
}
