package gitinfo

import (
	"errors"
	"strings"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
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

// storage is go-git's filesystem storage with two changes: the read-safe
// extensions are hidden from the configuration go-git checks at open time,
// and packed objects are read by packReader (see there for why). Everything
// else is the embedded storage's, so go-git's interface checks (shallow,
// packfile writer, prefix lookup) still find their methods.
type storage struct {
	*filesystem.Storage
	packs *packReader
}

// EncodedObject reads an object through the pack reader, falling back to
// go-git for loose objects, alternates, packs the reader does not handle and
// any error of the reader (go-git then decides).
func (s *storage) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if s.packs != nil {
		if obj, err := s.packs.object(h); err == nil && obj != nil {
			if t != plumbing.AnyObject && obj.Type() != t {
				return nil, plumbing.ErrObjectNotFound
			}
			return obj, nil
		}
	}
	return s.Storage.EncodedObject(t, h)
}

// Close closes the pack reader's files and go-git's.
func (s *storage) Close() error {
	var err error
	if s.packs != nil {
		err = s.packs.close()
	}
	return errors.Join(err, s.Storage.Close())
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

// objectType returns the type of object h, from the pack headers when
// possible (nothing inflated).
func (s *storage) objectType(h plumbing.Hash) (plumbing.ObjectType, error) {
	if s.packs != nil {
		if typ, found, err := s.packs.objectType(h); err == nil && found {
			return typ, nil
		}
	}
	obj, err := s.Storage.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return 0, err
	}
	return obj.Type(), nil
}
