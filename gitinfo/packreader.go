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
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// packReader reads single objects from pack files by binary search in their
// .idx files, reading only the index buckets and pack entries it needs.
//
// go-git's own reader decodes every .idx completely and builds an
// offset-to-hash map of the whole pack before it returns the first packed
// object: a cost that grows with the history (about 80 ms per 100,000
// commits here) and that a version walk of a hundred commits would pay on
// every run. This reader makes that cost follow the objects read. Anything
// it does not handle (loose objects, alternates, idx v1) is left to go-git.
type packReader struct {
	dot    billy.Filesystem
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
	name    string
	idx     billy.File
	data    billy.File
	fanout  [256]uint32
	buckets map[byte][]byte // first hash byte → the sorted hashes starting with it
}

var errUnsupportedIdx = errors.New("unsupported pack index")

func newPackReader(dot billy.Filesystem) *packReader {
	return &packReader{dot: dot, bases: map[baseKey]*plumbing.MemoryObject{}}
}

func (pr *packReader) close() error {
	var errs []error
	for _, p := range pr.packs {
		errs = append(errs, p.idx.Close(), p.data.Close())
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
	dir := path.Join("objects", "pack")
	infos, err := pr.dot.ReadDir(dir)
	if err != nil {
		if errors.Is(err, io.EOF) || isNotExist(err) {
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
		p, err := openPack(pr.dot, path.Join(dir, n))
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

func openPack(dot billy.Filesystem, base string) (*pack, error) {
	idx, err := dot.Open(base + ".idx")
	if err != nil {
		return nil, err
	}
	var hdr [8 + 256*4]byte
	if _, err := idx.ReadAt(hdr[:], 0); err != nil {
		idx.Close()
		return nil, fmt.Errorf("reading %s.idx: %w", base, err)
	}
	if !bytes.Equal(hdr[:4], []byte{0xff, 't', 'O', 'c'}) || binary.BigEndian.Uint32(hdr[4:8]) != 2 {
		idx.Close()
		return nil, errUnsupportedIdx
	}
	data, err := dot.Open(base + ".pack")
	if err != nil {
		idx.Close()
		return nil, err
	}
	p := &pack{name: base, idx: idx, data: data, buckets: map[byte][]byte{}}
	for i := range p.fanout {
		p.fanout[i] = binary.BigEndian.Uint32(hdr[8+4*i:])
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
	bucket, ok := p.buckets[b]
	if !ok {
		bucket = make([]byte, int(hi-lo)*20)
		if _, err := p.idx.ReadAt(bucket, int64(8+256*4+lo*20)); err != nil {
			return -1, fmt.Errorf("reading %s.idx: %w", p.name, err)
		}
		p.buckets[b] = bucket
	}
	n := int(hi - lo)
	i := sort.Search(n, func(i int) bool { return bytes.Compare(bucket[i*20:i*20+20], h[:]) >= 0 })
	if i == n || !bytes.Equal(bucket[i*20:i*20+20], h[:]) {
		return -1, nil
	}
	pos := lo + uint32(i)
	// Offsets follow the hashes and the CRCs; an offset with the high bit
	// set indexes the 64-bit offset table that follows them.
	n32 := int64(p.count())
	offTable := int64(8+256*4) + n32*20 + n32*4
	var buf [8]byte
	if _, err := p.idx.ReadAt(buf[:4], offTable+int64(pos)*4); err != nil {
		return -1, fmt.Errorf("reading %s.idx: %w", p.name, err)
	}
	off := binary.BigEndian.Uint32(buf[:4])
	if off&0x80000000 == 0 {
		return int64(off), nil
	}
	if _, err := p.idx.ReadAt(buf[:8], offTable+n32*4+int64(off&0x7fffffff)*8); err != nil {
		return -1, fmt.Errorf("reading %s.idx: %w", p.name, err)
	}
	return int64(binary.BigEndian.Uint64(buf[:8])), nil
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
				return nil, fmt.Errorf("reading object %s from %s: %w", h, path.Base(p.name), err)
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
