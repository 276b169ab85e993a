package gitinfo

import (
	"strings"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// readSafeExtensions are repository extensions that go-git v5.17+ refuses to
// open (go-git#1939, #1943) although they change nothing for what this
// package does:
//   - worktreeConfig: per-worktree config.worktree files (git sparse-checkout,
//     Azure DevOps checkouts); we read the shared config only.
//   - partialClone: objects may be missing and fetched on demand by git. We
//     read commits and trees, which blobless clones have; a missing object is
//     an error like in any damaged repository.
//   - preciousObjects: forbids deleting objects; we never prune.
//
// Other extensions (objectFormat=sha256, refStorage=reftable, ...) change the
// on-disk format and stay refused.
var readSafeExtensions = map[string]bool{
	"worktreeconfig":  true,
	"partialclone":    true,
	"preciousobjects": true,
}

// storage is go-git's filesystem storage with the read-safe extensions hidden
// from the configuration go-git checks at open time. Everything else is the
// embedded storage's, so go-git's interface checks (shallow, packfile writer,
// prefix lookup) still find their methods.
type storage struct {
	*filesystem.Storage
}

// Config returns the repository configuration without the read-safe
// extensions.
func (s *storage) Config() (*config.Config, error) {
	cfg, err := s.Storage.Config()
	if err != nil || cfg.Raw == nil || !cfg.Raw.HasSection("extensions") {
		return cfg, err
	}
	sec := cfg.Raw.Section("extensions")
	kept := sec.Options[:0]
	for _, o := range sec.Options {
		if !readSafeExtensions[strings.ToLower(o.Key)] {
			kept = append(kept, o)
		}
	}
	sec.Options = kept
	return cfg, nil
}

// SetConfig writes cfg, putting back the extensions Config hid so that a
// configuration written through go-git never drops them.
func (s *storage) SetConfig(cfg *config.Config) error {
	current, err := s.Storage.Config()
	if err != nil {
		return err
	}
	if current.Raw != nil && current.Raw.HasSection("extensions") && cfg.Raw != nil {
		dst := cfg.Raw.Section("extensions")
		for _, o := range current.Raw.Section("extensions").Options {
			if readSafeExtensions[strings.ToLower(o.Key)] && !dst.HasOption(o.Key) {
				dst.AddOption(o.Key, o.Value)
			}
		}
	}
	return s.Storage.SetConfig(cfg)
}
