package gitinfo

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// packReader reads single objects from pack files by binary search in their
// memory-mapped .idx files, touching only the index pages and pack entries
// it needs.
//
// go-git's own reader decodes every .idx completely and builds an
// offset-to-hash map of the whole pack before it returns the first packed
// object: a cost that grows with the history (about 80 ms per 100,000
// commits here) and that a version walk of a hundred commits would pay on
// every run. This reader makes that cost follow the objects read. Anything
// it does not handle (loose objects, alternates, idx v1) is left to go-git.
type packReader struct {
	dir    string  // the objects/pack directory
	packs  []*pack // nil until listed; empty when there are none
	listed bool
	// bases caches recently inflated objects by pack and offset: delta
	// chains (trees, mostly) share bases.
	bases map[baseKey]*plumbing.MemoryObject
	zr    io.ReadCloser // reused: a zlib reader allocates a 32 KiB window
}

type baseKey struct {
	p      *pack
	offset int64
}

// maxBases bounds the delta-base cache; it is emptied when full.
const maxBases = 512

type pack struct {
	name   string
	idx    []byte // the whole .idx, mapped (or read where mapping is not available)
	unmap  func() error
	data   *os.File
	fanout [256]uint32
}

var errUnsupportedIdx = errors.New("unsupported pack index")

// newPackReader reads the packs of the objects directory objects.
func newPackReader(objects string) *packReader {
	return &packReader{dir: filepath.Join(objects, "pack"), bases: map[baseKey]*plumbing.MemoryObject{}}
}

func (pr *packReader) close() error {
	var errs []error
	for _, p := range pr.packs {
		if p.unmap != nil {
			errs = append(errs, p.unmap())
		}
		errs = append(errs, p.data.Close())
	}
	pr.packs, pr.listed = nil, false
	return errors.Join(errs...)
}

// list opens every pack with a version 2 index, once.
func (pr *packReader) list() error {
	if pr.listed {
		return nil
	}
	pr.listed = true
	infos, err := os.ReadDir(pr.dir)
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return fmt.Errorf("listing packs: %w", err)
	}
	var names []string
	for _, fi := range infos {
		if n, ok := strings.CutSuffix(fi.Name(), ".idx"); ok && strings.HasPrefix(n, "pack-") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		p, err := openPack(filepath.Join(pr.dir, n))
		if errors.Is(err, errUnsupportedIdx) || isNotExist(err) {
			continue // go-git reads it
		}
		if err != nil {
			return err
		}
		pr.packs = append(pr.packs, p)
	}
	return nil
}

func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist)
}

// idxHeader is the size of an idx v2 header: magic, version, fan-out.
const idxHeader = 8 + 256*4

func openPack(base string) (p *pack, err error) {
	f, err := os.Open(base + ".idx")
	if err != nil {
		return nil, err
	}
	defer f.Close() // a mapping outlives its descriptor
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	p = &pack{name: base}
	data, unmap, mapped, err := mapFile(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("mapping %s.idx: %w", base, err)
	}
	if mapped {
		p.idx, p.unmap = data, unmap
	} else if p.idx, err = io.ReadAll(f); err != nil {
		return nil, fmt.Errorf("reading %s.idx: %w", base, err)
	}
	defer func() {
		if err != nil && p.unmap != nil {
			_ = p.unmap()
		}
	}()
	if len(p.idx) < idxHeader+40 || !bytes.Equal(p.idx[:4], []byte{0xff, 't', 'O', 'c'}) || binary.BigEndian.Uint32(p.idx[4:8]) != 2 {
		return nil, errUnsupportedIdx
	}
	for i := range p.fanout {
		p.fanout[i] = binary.BigEndian.Uint32(p.idx[8+4*i:])
	}
	n := int64(p.count())
	if int64(len(p.idx)) < idxHeader+n*28+40 {
		return nil, fmt.Errorf("reading %s.idx: truncated", base)
	}
	if p.data, err = os.Open(base + ".pack"); err != nil {
		return nil, err
	}
	return p, nil
}

// count is the number of objects in the pack.
func (p *pack) count() uint32 { return p.fanout[255] }

// find returns the offset of h in the pack, or -1.
func (p *pack) find(h plumbing.Hash) (int64, error) {
	b := h[0]
	lo := uint32(0)
	if b > 0 {
		lo = p.fanout[b-1]
	}
	hi := p.fanout[b]
	if lo >= hi {
		return -1, nil
	}
	hashes := p.idx[idxHeader:]
	i := lo + uint32(sort.Search(int(hi-lo), func(i int) bool {
		at := (lo + uint32(i)) * 20
		return bytes.Compare(hashes[at:at+20], h[:]) >= 0
	}))
	if i == hi || !bytes.Equal(hashes[i*20:i*20+20], h[:]) {
		return -1, nil
	}
	// Offsets follow the hashes and the CRCs; an offset with the high bit
	// set indexes the 64-bit offset table that follows them.
	n := int64(p.count())
	offTable := idxHeader + n*24
	off := binary.BigEndian.Uint32(p.idx[offTable+int64(i)*4:])
	if off&0x80000000 == 0 {
		return int64(off), nil
	}
	at := offTable + n*4 + int64(off&0x7fffffff)*8
	if at+8 > int64(len(p.idx)) {
		return -1, fmt.Errorf("reading %s.idx: bad large offset", p.name)
	}
	return int64(binary.BigEndian.Uint64(p.idx[at:])), nil
}

// packedObject is an object read from a pack, with the hash it was looked up
// by (a MemoryObject would hash its content again).
type packedObject struct {
	*plumbing.MemoryObject
	hash plumbing.Hash
}

// Hash returns the object's hash.
func (o packedObject) Hash() plumbing.Hash { return o.hash }

// object returns the object h from the packs, or (nil, nil) when no pack
// this reader handles has it.
func (pr *packReader) object(h plumbing.Hash) (plumbing.EncodedObject, error) {
	if err := pr.list(); err != nil {
		return nil, err
	}
	for _, p := range pr.packs {
		off, err := p.find(h)
		if err != nil {
			return nil, err
		}
		if off >= 0 {
			obj, err := pr.at(p, off, 0)
			if err != nil {
				return nil, fmt.Errorf("reading object %s from %s: %w", h, filepath.Base(p.name), err)
			}
			return packedObject{MemoryObject: obj, hash: h}, nil
		}
	}
	return nil, nil
}

// maxDeltaDepth bounds delta chains (git's default depth is 50; 4095 is its
// hard limit).
const maxDeltaDepth = 4096

// at inflates the object at offset, resolving deltas.
func (pr *packReader) at(p *pack, offset int64, depth int) (*plumbing.MemoryObject, error) {
	if depth > maxDeltaDepth {
		return nil, errors.New("delta chain too long")
	}
	key := baseKey{p, offset}
	if o, ok := pr.bases[key]; ok {
		return o, nil
	}
	r := bufio.NewReaderSize(io.NewSectionReader(p.data, offset, 1<<62), 4096)
	h, err := readEntryHeader(r, offset)
	if err != nil {
		return nil, err
	}
	typ, size := h.typ, h.size
	var base *plumbing.MemoryObject
	switch {
	case h.baseOffset > 0:
		if base, err = pr.at(p, h.baseOffset, depth+1); err != nil {
			return nil, err
		}
	case !h.baseHash.IsZero():
		boff, err := p.find(h.baseHash)
		if err != nil {
			return nil, err
		}
		if boff < 0 {
			return nil, fmt.Errorf("delta base %s not in the pack", h.baseHash)
		}
		if base, err = pr.at(p, boff, depth+1); err != nil {
			return nil, err
		}
	}

	if pr.zr == nil {
		if pr.zr, err = zlib.NewReader(r); err != nil {
			return nil, err
		}
	} else if err := pr.zr.(zlib.Resetter).Reset(r, nil); err != nil {
		return nil, err
	}
	content := make([]byte, size)
	if _, err := io.ReadFull(pr.zr, content); err != nil {
		return nil, fmt.Errorf("inflating object at %d: %w", offset, err)
	}
	obj := &plumbing.MemoryObject{}
	if base != nil {
		src, err := io.ReadAll(mustReader(base))
		if err != nil {
			return nil, err
		}
		if content, err = packfile.PatchDelta(src, content); err != nil {
			return nil, fmt.Errorf("applying delta at %d: %w", offset, err)
		}
		typ = base.Type()
	}
	obj.SetType(typ)
	if _, err := obj.Write(content); err != nil {
		return nil, err
	}
	if len(pr.bases) >= maxBases {
		clear(pr.bases)
	}
	pr.bases[key] = obj
	return obj, nil
}

func mustReader(o *plumbing.MemoryObject) io.Reader {
	r, _ := o.Reader() // a MemoryObject's reader never fails
	return r
}

// entryHeader is the header of a pack entry.
type entryHeader struct {
	typ        plumbing.ObjectType
	size       uint64        // inflated size (of the delta for deltas)
	baseOffset int64         // OFS_DELTA: absolute offset of the base
	baseHash   plumbing.Hash // REF_DELTA: hash of the base
}

// readEntryHeader reads the header of the entry at offset from r, leaving r
// at the start of the compressed data.
func readEntryHeader(r *bufio.Reader, offset int64) (entryHeader, error) {
	var h entryHeader
	c, err := r.ReadByte()
	if err != nil {
		return h, err
	}
	h.typ = plumbing.ObjectType((c >> 4) & 7)
	h.size = uint64(c & 15)
	for shift := 4; c&0x80 != 0; shift += 7 {
		if c, err = r.ReadByte(); err != nil {
			return h, err
		}
		h.size |= uint64(c&0x7f) << shift
	}
	switch h.typ {
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
	case plumbing.OFSDeltaObject:
		// Big-endian base-128 with an offset of one per extra byte
		// (git's packfile format).
		if c, err = r.ReadByte(); err != nil {
			return h, err
		}
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if c, err = r.ReadByte(); err != nil {
				return h, err
			}
			rel = ((rel + 1) << 7) | int64(c&0x7f)
		}
		if rel <= 0 || rel > offset {
			return h, fmt.Errorf("bad delta base offset at %d", offset)
		}
		h.baseOffset = offset - rel
	case plumbing.REFDeltaObject:
		if _, err := io.ReadFull(r, h.baseHash[:]); err != nil {
			return h, err
		}
	default:
		return h, fmt.Errorf("bad object type %d at %d", h.typ, offset)
	}
	return h, nil
}

// objectType returns the type of h from the pack headers alone (following
// delta chains to their base, inflating nothing), or found false when no
// pack this reader handles has it.
func (pr *packReader) objectType(h plumbing.Hash) (typ plumbing.ObjectType, found bool, err error) {
	if err := pr.list(); err != nil {
		return 0, false, err
	}
	for _, p := range pr.packs {
		off, err := p.find(h)
		if err != nil {
			return 0, false, err
		}
		if off < 0 {
			continue
		}
		for depth := 0; depth <= maxDeltaDepth; depth++ {
			if o, ok := pr.bases[baseKey{p, off}]; ok {
				return o.Type(), true, nil
			}
			eh, err := readEntryHeader(bufio.NewReaderSize(io.NewSectionReader(p.data, off, 1<<62), 64), off)
			if err != nil {
				return 0, false, err
			}
			switch {
			case eh.baseOffset > 0:
				off = eh.baseOffset
			case !eh.baseHash.IsZero():
				if off, err = p.find(eh.baseHash); err != nil {
					return 0, false, err
				}
				if off < 0 {
					return 0, false, fmt.Errorf("delta base %s not in the pack", eh.baseHash)
				}
			default:
				return eh.typ, true, nil
			}
		}
		return 0, false, errors.New("delta chain too long")
	}
	return 0, false, nil
}
