package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"sync"

	"golang.org/x/sync/errgroup"
)

// blobKind is how a blob reached the destination.
type blobKind int

const (
	blobSkipped blobKind = iota // already there
	blobMounted                 // mounted from the source repository
	blobCopied                  // streamed from the source
)

// blobTask makes sure each blob is sent once per Copy, however many
// manifests share it.
type blobTask struct {
	once sync.Once
	err  error
}

// sendBlobs makes every blob of the nodes present at the destination,
// jobs at a time.
func (cp *copier) sendBlobs(ctx context.Context, nodes []*node) error {
	var all, todo []Descriptor
	for _, n := range nodes {
		all = blobsOf(n, all)
	}
	cp.mu.Lock()
	for _, d := range all {
		if _, seen := cp.blobs[d.Digest]; !seen {
			cp.blobs[d.Digest] = &blobTask{}
			todo = append(todo, d)
			cp.progress.Total += d.Size
		}
	}
	cp.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cp.jobs)
	for _, d := range todo {
		cp.mu.Lock()
		t := cp.blobs[d.Digest]
		cp.mu.Unlock()
		g.Go(func() error {
			t.once.Do(func() { t.err = cp.sendBlob(gctx, d) })
			return t.err
		})
	}
	return g.Wait()
}

// sendBlob brings one blob to the destination and counts how.
func (cp *copier) sendBlob(ctx context.Context, d Descriptor) error {
	if !digestPattern.MatchString(d.Digest) {
		return fmt.Errorf("blob digest %q: %w", d.Digest, ErrUnsupported)
	}
	kind, err := cp.transfer(ctx, d)
	if err != nil {
		return fmt.Errorf("copying blob %s: %w", d.Digest, err)
	}
	if kind != blobCopied {
		cp.untotal(d.Size)
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	switch kind {
	case blobSkipped:
		cp.res.BlobsSkipped++
	case blobMounted:
		cp.res.BlobsMounted++
	case blobCopied:
		cp.res.BlobsCopied++
		cp.res.BytesCopied += d.Size
	}
	return nil
}

// transfer: inside one registry, a mount request (one POST; a blob that is
// already there is also answered 201, so no HEAD first), falling back to
// an upload when the registry refuses it. Across registries, a HEAD, then
// an upload (POST, then one PUT carrying the bytes streamed from the
// source).
func (cp *copier) transfer(ctx context.Context, d Descriptor) (blobKind, error) {
	if cp.opts.DryRun || !cp.sameHost {
		found, err := cp.dh.headBlob(ctx, cp.dst.repo, d.Digest)
		if err != nil {
			return 0, err
		}
		switch {
		case found:
			return blobSkipped, nil
		case cp.opts.DryRun && cp.sameHost:
			return blobMounted, nil
		case cp.opts.DryRun:
			return blobCopied, nil
		}
		return blobCopied, cp.upload(ctx, d, "")
	}
	if cp.mountRefused.Load() {
		return blobCopied, cp.upload(ctx, d, "")
	}
	loc, mounted, err := cp.mount(ctx, d)
	if err != nil {
		// Registries refuse mounts in many ways (Harbor 401 "project not
		// found", 400 on a foreign source): a plain upload always works.
		// A refusal (a 4xx) is about the source, not the blob, so the
		// blobs that follow are not offered for mounting again (each
		// offer would cost a request, and a 401 a token renewal too). A
		// 202 is a refusal for this blob only (distribution answers it
		// for a blob the source lacks, ECR without mounting enabled for
		// every one) and costs nothing: its session takes the upload.
		var (
			ae *AuthError
			re *ResponseError
		)
		if errors.As(err, &ae) || (errors.As(err, &re) && re.Status >= 400 && re.Status < 500) {
			cp.mountRefused.Store(true)
		}
		loc = ""
	}
	if mounted {
		return blobMounted, nil
	}
	return blobCopied, cp.upload(ctx, d, loc)
}

// headBlob asks whether repo has the blob.
func (h *host) headBlob(ctx context.Context, repo, dgst string) (bool, error) {
	resp, err := h.do(ctx, call{
		method: http.MethodHead,
		url:    h.url(blobPath(repo, dgst)),
		ok:     []int{http.StatusOK, http.StatusNotFound},
	})
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// mount asks the destination to mount the blob from the source repository.
// A 202 opens an upload session instead, whose location is returned.
func (cp *copier) mount(ctx context.Context, d Descriptor) (string, bool, error) {
	q := url.Values{"mount": {d.Digest}, "from": {cp.src.repo}}
	u := cp.dh.url("/v2/"+cp.dst.repo+"/blobs/uploads/") + "?" + q.Encode()
	resp, err := cp.dh.do(ctx, call{method: http.MethodPost, url: u, ok: []int{http.StatusCreated, http.StatusAccepted}})
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		return "", true, nil
	}
	loc, err := location(resp)
	if err != nil {
		return "", false, err
	}
	return loc, false, nil
}

// location is the absolute upload URL a 202 named.
func location(resp *http.Response) (string, error) {
	l := resp.Header.Get("Location")
	if l == "" {
		return "", errors.New("upload answer without Location")
	}
	u, err := resolveLocation(resp.Request.URL.String(), l)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// startUpload opens an upload session at the destination.
func (cp *copier) startUpload(ctx context.Context) (string, error) {
	resp, err := cp.dh.do(ctx, call{
		method: http.MethodPost,
		url:    cp.dh.url("/v2/" + cp.dst.repo + "/blobs/uploads/"),
		ok:     []int{http.StatusAccepted},
	})
	if err != nil {
		return "", fmt.Errorf("starting upload: %w", err)
	}
	defer resp.Body.Close()
	return location(resp)
}

// upload streams the blob from the source into an upload session (loc, or
// a new one) with a single PUT. A session the registry forgot is either
// one a try completed although its answer was lost (a connection dropped
// after the registry took the PUT: the blob is there, which a HEAD tells)
// or an expired one, replaced by a new session, up to as many times as a
// request is tried.
func (cp *copier) upload(ctx context.Context, d Descriptor, loc string) error {
	part := &blobProgress{cp: cp}
	for restart := 0; ; restart++ {
		if loc == "" {
			var err error
			if loc, err = cp.startUpload(ctx); err != nil {
				return err
			}
		}
		u, err := url.Parse(loc)
		if err != nil {
			return fmt.Errorf("upload location: %w", err)
		}
		q := u.Query()
		q.Set("digest", d.Digest)
		u.RawQuery = q.Encode()
		resp, err := cp.dh.do(ctx, call{
			method: http.MethodPut,
			url:    u.String(),
			header: http.Header{"Content-Type": {"application/octet-stream"}},
			body: func(ctx context.Context) (io.ReadCloser, int64, error) {
				return cp.openSource(ctx, d, part)
			},
			ok: []int{http.StatusCreated, http.StatusNoContent, http.StatusAccepted},
		})
		var re *ResponseError
		if errors.As(err, &re) && re.Status == http.StatusNotFound {
			if found, herr := cp.dh.headBlob(ctx, cp.dst.repo, d.Digest); herr == nil && found {
				part.done(d.Size)
				return nil
			}
			if restart+1 < cp.dh.retry.Attempts {
				loc = ""
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("uploading: %w", err)
		}
		resp.Body.Close()
		part.done(d.Size)
		return nil
	}
}

// openSource opens the blob at the source as a stream that checks its size
// and digest at the end (so a corrupted transfer fails the PUT rather than
// completing it) and reports progress as part's next try.
func (cp *copier) openSource(ctx context.Context, d Descriptor, part *blobProgress) (io.ReadCloser, int64, error) {
	resp, err := cp.sh.do(ctx, call{
		method: http.MethodGet,
		url:    cp.sh.url(blobPath(cp.src.repo, d.Digest)),
		ok:     []int{http.StatusOK},
	})
	if err != nil {
		return nil, 0, fmt.Errorf("reading source blob: %w", err)
	}
	return &verifyReader{rc: resp.Body, want: d, h: sha256.New(), part: part, try: part.next()}, d.Size, nil
}

// verifyReader passes a blob through, counting and hashing it; at the end
// it fails instead of reporting EOF when the bytes are not the blob.
type verifyReader struct {
	rc   io.ReadCloser
	want Descriptor
	h    hash.Hash
	n    int64
	part *blobProgress
	try  int
}

func (v *verifyReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	if n > 0 {
		v.h.Write(p[:n])
		v.n += int64(n)
		v.part.add(v.try, int64(n))
		if v.n > v.want.Size {
			return n, fmt.Errorf("blob %s: more than its %d bytes", v.want.Digest, v.want.Size)
		}
	}
	if err == io.EOF {
		got := "sha256:" + hex.EncodeToString(v.h.Sum(nil))
		if v.n != v.want.Size || got != v.want.Digest {
			return n, fmt.Errorf("blob %s: source sent %d bytes hashing to %s: %w", v.want.Digest, v.n, got, io.ErrUnexpectedEOF)
		}
	}
	return n, err
}

// Close gives back what a try that stopped short counted (it failed). A
// try that read the whole blob and failed all the same is given back by
// the next one (blobProgress.next).
func (v *verifyReader) Close() error {
	if v.n != v.want.Size {
		v.part.abandon(v.try)
	}
	return v.rc.Close()
}

// blobProgress is one blob's part of the progress while it is uploaded:
// what its current try has read, then the whole blob once it is at the
// destination. Tries are numbered: a try that another replaced has
// failed, whatever it read, and what it counted is given back; its stream
// may still be read (a transport may close a request body after RoundTrip
// returns), but no longer counts.
type blobProgress struct {
	cp  *copier
	try int   // the current try; 0 before the first, -1 once done
	n   int64 // what the blob adds to the progress now
}

// next starts a try: what the one before counted is given back. It
// returns the try's number.
func (s *blobProgress) next() int {
	s.cp.mu.Lock()
	defer s.cp.mu.Unlock()
	s.try++
	s.moveLocked(-s.n)
	return s.try
}

// add counts n bytes read by try, if it is still the current one.
func (s *blobProgress) add(try int, n int64) {
	if s.cp.c.opts.progress == nil {
		return
	}
	s.cp.mu.Lock()
	defer s.cp.mu.Unlock()
	if try == s.try {
		s.moveLocked(n)
	}
}

// abandon gives back what try counted, if it is still the current one.
func (s *blobProgress) abandon(try int) {
	s.cp.mu.Lock()
	defer s.cp.mu.Unlock()
	if try == s.try {
		s.moveLocked(-s.n)
	}
}

// done counts the whole blob (size bytes), whichever try brought it.
func (s *blobProgress) done(size int64) {
	s.cp.mu.Lock()
	defer s.cp.mu.Unlock()
	s.try = -1
	s.moveLocked(size - s.n)
}

// moveLocked changes the blob's part by d and tells the progress callback
// (cp.mu held).
func (s *blobProgress) moveLocked(d int64) {
	if d == 0 {
		return
	}
	s.n += d
	s.cp.progress.Complete += d
	if f := s.cp.c.opts.progress; f != nil {
		f(s.cp.progress)
	}
}

// untotal takes a blob that needs no transfer out of the progress total.
func (cp *copier) untotal(n int64) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.progress.Total -= n
	if f := cp.c.opts.progress; f != nil {
		f(cp.progress)
	}
}
