package registrytest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// blobStore is pkg/registry's blob storage made per repository: a blob is
// visible in a repository only once it was uploaded there or mounted into
// it, as on real registries. (pkg/registry's own store is global, which
// hides the difference between a mount and an upload.)
type blobStore struct {
	mu      sync.Mutex
	content map[string][]byte          // digest → bytes
	visible map[string]map[string]bool // repo → digests
}

func newBlobStore() *blobStore {
	return &blobStore{content: map[string][]byte{}, visible: map[string]map[string]bool{}}
}

// repoOf undoes pkg/registry's idea of the repository of an upload path
// ("/v2/app/blobs/uploads/<id>" gives "app/blobs").
func repoOf(repo string) string { return strings.TrimSuffix(repo, "/blobs") }

func (b *blobStore) has(repo, dgst string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.visible[repoOf(repo)][dgst]
}

// link makes a stored blob visible in repo (a mount).
func (b *blobStore) link(repo, dgst string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	repo = repoOf(repo)
	if b.visible[repo] == nil {
		b.visible[repo] = map[string]bool{}
	}
	b.visible[repo][dgst] = true
}

func (b *blobStore) Stat(_ context.Context, repo string, h v1.Hash) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.visible[repoOf(repo)][h.String()] {
		return 0, ggcrregistry.ErrNotFound
	}
	return int64(len(b.content[h.String()])), nil
}

func (b *blobStore) Get(_ context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.visible[repoOf(repo)][h.String()] {
		return nil, ggcrregistry.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b.content[h.String()])), nil
}

func (b *blobStore) Put(_ context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.content[h.String()] = data
	b.mu.Unlock()
	b.link(repo, h.String())
	return nil
}

func (b *blobStore) Delete(_ context.Context, repo string, h v1.Hash) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.visible[repoOf(repo)], h.String())
	return nil
}
