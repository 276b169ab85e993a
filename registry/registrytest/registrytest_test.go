package registrytest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		method, target string
		want           Request
	}{
		{"GET", "/v2/", Request{Method: "GET", Kind: KindPing}},
		{"GET", "/token?scope=repository:a:pull", Request{Method: "GET", Kind: KindToken, Scopes: []string{"repository:a:pull"}}},
		{"GET", "/token?scope=repository:a:pull+repository:b:pull,push&scope=repository:c:pull", Request{Method: "GET", Kind: KindToken, Scopes: []string{"repository:a:pull", "repository:b:pull,push", "repository:c:pull"}}},
		{"HEAD", "/v2/org/app/manifests/1.0", Request{Method: "HEAD", Kind: KindManifest, Repo: "org/app", Ref: "1.0"}},
		{"GET", "/v2/app/blobs/sha256:ab", Request{Method: "GET", Kind: KindBlob, Repo: "app", Ref: "sha256:ab"}},
		{"POST", "/v2/app/blobs/uploads/", Request{Method: "POST", Kind: KindUpload, Repo: "app"}},
		{"POST", "/v2/app/blobs/uploads/?mount=sha256:ab&from=org/src", Request{Method: "POST", Kind: KindUpload, Repo: "app", Ref: "sha256:ab", From: "org/src"}},
		{"PUT", "/v2/app/blobs/uploads/42?digest=sha256:ab", Request{Method: "PUT", Kind: KindUpload, Repo: "app", Ref: "sha256:ab"}},
		{"GET", "/v2/app/tags/list?n=10", Request{Method: "GET", Kind: KindTags, Repo: "app"}},
		{"GET", "/v2/app/referrers/sha256:ab", Request{Method: "GET", Kind: KindReferrers, Repo: "app", Ref: "sha256:ab"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			got := classify(httptest.NewRequest(tt.method, tt.target, nil))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMountNeedsTheBlobInTheSourceRepository(t *testing.T) {
	s := New(t)
	img := NewImage(ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	s.PushImage(t, "src", "1", img)
	layer := digest(img.Layers[0])
	tests := []struct {
		name, from string
		want       int
	}{
		{"blob in the source repository", "src", http.StatusCreated},
		{"blob elsewhere only", "other", http.StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(s.URL+"/v2/dst-"+tt.from+"/blobs/uploads/?mount="+layer+"&from="+tt.from, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if got := s.HasBlob("dst-"+tt.from, layer); got != (tt.want == http.StatusCreated) {
				t.Errorf("blob visible in the destination: %v", got)
			}
		})
	}
}

func TestFaultsAreSeeded(t *testing.T) {
	run := func() []string {
		s := New(t, WithFaults(Faults{Rate: 0.5, Seed: 7, Kinds: []string{"500", "429"}}))
		var got []string
		for range 20 {
			resp, err := http.Get(s.URL + "/v2/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got = append(got, resp.Status)
		}
		return got
	}
	first, second := run(), run()
	ok := 0
	for _, st := range first {
		if st == "200 OK" {
			ok++
		}
	}
	if ok == 0 || ok == len(first) {
		t.Fatalf("%d of %d requests succeeded; want a mix to compare: %v", ok, len(first), first)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("same seed, different faults (-first +second):\n%s", diff)
	}
}
