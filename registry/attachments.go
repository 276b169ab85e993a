package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Attachment is a signature, attestation, SBOM or other artifact attached
// to a manifest digest: a cosign tag "sha256-<hex>.sig|.att|.sbom", or an
// OCI referrer (a manifest whose subject is the digest, listed by the
// referrers API or its fallback tag "sha256-<hex>").
type Attachment struct {
	// Kind is "sig", "att" or "sbom" for cosign tags, "referrer" for OCI
	// referrers.
	Kind string `json:"kind"`
	// Subject is the digest the attachment belongs to.
	Subject string `json:"subject"`
	// Tag is the cosign tag (empty for referrers).
	Tag string `json:"tag,omitempty"`
	// Descriptor is the attachment's manifest.
	Descriptor
}

// cosignKinds are the cosign tag suffixes, in the order results list them.
var cosignKinds = []string{"sig", "att", "sbom"}

// Referrers API support of a host, learnt from its answers.
const (
	referrersUnknown int32 = iota
	referrersAPI
	referrersFallback
)

// Attachments lists what is attached to the manifest ref names: its cosign
// tags and its OCI referrers (from the referrers API, or the fallback tag
// on registries without it). Only the digest itself is looked at, not the
// children of an index.
func (c *Client) Attachments(ctx context.Context, ref string) ([]Attachment, error) {
	h, r, dgst, err := c.subject(ctx, ref, "listing attachments of")
	if err != nil {
		return nil, err
	}
	atts, err := h.attachments(ctx, r.repo, dgst)
	if err != nil {
		return nil, c.clean(fmt.Errorf("listing attachments of %s@%s: %w", r.repository(), dgst, err))
	}
	return atts, nil
}

// Referrers lists the OCI referrers of the manifest ref names (the
// referrers API, or the fallback tag), without cosign tags.
func (c *Client) Referrers(ctx context.Context, ref string) ([]Descriptor, error) {
	h, r, dgst, err := c.subject(ctx, ref, "listing referrers of")
	if err != nil {
		return nil, err
	}
	refs, err := h.referrers(ctx, r.repo, dgst)
	if err != nil {
		return nil, c.clean(fmt.Errorf("listing referrers of %s@%s: %w", r.repository(), dgst, err))
	}
	return refs, nil
}

// subject prepares ref's host and returns the digest ref names: its own,
// or its tag's (one HEAD). what names the operation in errors.
func (c *Client) subject(ctx context.Context, ref, what string) (*host, reference, string, error) {
	r, err := parseReference(ref, "latest")
	if err != nil {
		return nil, reference{}, "", err
	}
	h := c.host(r.registry)
	if err := h.prepare(ctx, pullScope(r.repo)); err != nil {
		return nil, reference{}, "", c.clean(fmt.Errorf("%s %s: %w", what, r, err))
	}
	if r.digest != "" {
		return h, r, r.digest, nil
	}
	d, err := h.resolve(ctx, r)
	if err != nil {
		return nil, reference{}, "", c.clean(err)
	}
	return h, r, d.Digest, nil
}

// attachments looks up the three cosign tags and the referrers of subject,
// in parallel (four requests, or five when the fallback tag is needed).
func (h *host) attachments(ctx context.Context, repo, subject string) ([]Attachment, error) {
	found := make([]*Attachment, len(cosignKinds))
	var refs []Descriptor
	g, gctx := errgroup.WithContext(ctx)
	for i, kind := range cosignKinds {
		g.Go(func() error {
			tag := cosignTag(subject, kind)
			d, ok, err := h.headManifest(gctx, repo, tag, true)
			if err != nil {
				return fmt.Errorf("checking %s: %w", tag, err)
			}
			if ok {
				found[i] = &Attachment{Kind: kind, Subject: subject, Tag: tag, Descriptor: d}
			}
			return nil
		})
	}
	g.Go(func() error {
		var err error
		refs, err = h.referrers(gctx, repo, subject)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []Attachment
	for _, a := range found {
		if a != nil {
			out = append(out, *a)
		}
	}
	for _, d := range refs {
		out = append(out, Attachment{Kind: "referrer", Subject: subject, Descriptor: d})
	}
	return out, nil
}

// referrers lists the referrers of subject in repo: the referrers API when
// the registry has it, else the fallback tag's index. A fallback tag that
// is not an index of other manifests (GitLab aliases it to the subject
// itself) lists nothing. The subject itself and duplicates are dropped.
// While the host's support is unknown, the API and the fallback tag are
// read at once: the first answer of a registry without the API costs no
// second round trip.
func (h *host) referrers(ctx context.Context, repo, subject string) ([]Descriptor, error) {
	var list []Descriptor
	var err error
	switch h.referrersState.Load() {
	case referrersFallback:
		list, err = h.fallbackReferrers(ctx, repo, subject)
	case referrersAPI:
		var known bool
		if list, known, err = h.apiReferrers(ctx, repo, subject); err == nil && !known {
			list, err = h.fallbackReferrers(ctx, repo, subject)
		}
	default:
		var fallback []Descriptor
		var ferr error
		done := make(chan struct{})
		fctx, cancel := context.WithCancel(ctx)
		go func() {
			defer close(done)
			fallback, ferr = h.fallbackReferrers(fctx, repo, subject)
		}()
		var known bool
		list, known, err = h.apiReferrers(ctx, repo, subject)
		if err != nil || known {
			cancel()
			<-done
			break
		}
		<-done
		cancel()
		list, err = fallback, ferr
	}
	if err != nil {
		return nil, err
	}
	var out []Descriptor
	for _, d := range list {
		if d.Digest == subject || !digestPattern.MatchString(d.Digest) || slices.ContainsFunc(out, func(o Descriptor) bool { return o.Digest == d.Digest }) {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// apiReferrers asks the referrers API; known is false when the answer says
// the registry does not have it (the fallback tag must be read).
func (h *host) apiReferrers(ctx context.Context, repo, subject string) (list []Descriptor, known bool, err error) {
	err = h.fetch(ctx, call{
		method: http.MethodGet,
		url:    h.url("/v2/" + repo + "/referrers/" + subject),
		header: http.Header{"Accept": {mediaOCIIndex}},
		ok:     []int{http.StatusOK, http.StatusNotFound, http.StatusBadRequest, http.StatusNotAcceptable, http.StatusMethodNotAllowed},
	}, func(resp *http.Response) error {
		list, known = nil, false
		if resp.StatusCode == http.StatusOK && contentType(resp.Header) == mediaOCIIndex {
			b, err := readLimited(resp.Body, manifestLimit)
			if err != nil {
				return fmt.Errorf("reading referrers: %w", err)
			}
			var idx manifest
			if err := json.Unmarshal(b, &idx); err != nil {
				return fmt.Errorf("parsing referrers: %w", err)
			}
			h.referrersState.Store(referrersAPI)
			known = true
			for _, e := range idx.Manifests {
				list = append(list, e.Descriptor)
			}
			return nil
		}
		if resp.StatusCode == http.StatusNotFound && strings.Contains(peekCodes(resp), "NAME_UNKNOWN") {
			// The repository does not exist yet: nothing refers to
			// anything in it, and nothing is learnt about the API.
			known = true
			return nil
		}
		h.referrersState.Store(referrersFallback)
		return nil
	})
	return list, known, err
}

// fallbackReferrers reads the referrers fallback tag of subject.
func (h *host) fallbackReferrers(ctx context.Context, repo, subject string) ([]Descriptor, error) {
	raw, d, err := h.getManifest(ctx, repo, cosignTag(subject, ""))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading referrers fallback tag: %w", err)
	case d.Digest == subject || d.MediaType != mediaOCIIndex:
		return nil, nil
	}
	var idx manifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("parsing referrers fallback tag: %w", err)
	}
	var list []Descriptor
	for _, e := range idx.Manifests {
		list = append(list, e.Descriptor)
	}
	return list, nil
}

// peekCodes returns the registry error codes of a (small) error body.
func peekCodes(resp *http.Response) string {
	b, _ := readLimited(resp.Body, errorBodyLimit)
	return string(b)
}

// attachmentPlan is one attachment to bring to the destination.
type attachmentPlan struct {
	att    Attachment
	action Action
	node   *node // nil when the destination already has it
}

// planAttachments finds the attachments of the subjects at the source and
// what the destination lacks of them, reading their manifests.
func (cp *copier) planAttachments(ctx context.Context, subjects []string) ([]*attachmentPlan, error) {
	perSubject := make([][]*attachmentPlan, len(subjects))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cp.jobs)
	for i, s := range subjects {
		g.Go(func() error {
			plans, err := cp.planSubject(gctx, s)
			perSubject[i] = plans
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []*attachmentPlan
	for _, p := range perSubject {
		out = append(out, p...)
	}
	return out, nil
}

func (cp *copier) planSubject(ctx context.Context, subject string) ([]*attachmentPlan, error) {
	if err := cp.source(ctx); err != nil {
		return nil, err
	}
	atts, err := cp.sh.attachments(ctx, cp.src.repo, subject)
	if err != nil {
		return nil, fmt.Errorf("listing attachments of %s@%s: %w", cp.src.repository(), subject, err)
	}
	if len(atts) == 0 {
		return nil, nil
	}
	var dstRefs []Descriptor
	if slices.ContainsFunc(atts, func(a Attachment) bool { return a.Kind == "referrer" }) {
		if dstRefs, err = cp.dh.referrers(ctx, cp.dst.repo, subject); err != nil {
			return nil, fmt.Errorf("listing referrers of %s@%s: %w", cp.dst.repository(), subject, err)
		}
	}
	plans := make([]*attachmentPlan, len(atts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cp.jobs)
	for i, a := range atts {
		g.Go(func() error {
			p := &attachmentPlan{att: a, action: ActionCreated}
			if a.Kind == "referrer" {
				if slices.ContainsFunc(dstRefs, func(d Descriptor) bool { return d.Digest == a.Digest }) {
					p.action = ActionUnchanged
				}
			} else {
				have, found, err := cp.dh.headManifest(gctx, cp.dst.repo, a.Tag, true)
				if err != nil {
					return fmt.Errorf("checking %s:%s: %w", cp.dst.repository(), a.Tag, err)
				}
				if found && have.Digest == a.Digest {
					p.action = ActionUnchanged
				} else if found {
					p.action = ActionMoved
				}
			}
			if p.action != ActionUnchanged {
				raw, d, err := cp.sh.getManifest(gctx, cp.src.repo, a.Digest)
				if err != nil {
					return fmt.Errorf("reading attachment %s: %w", a.Digest, err)
				}
				p.node = &node{desc: d, raw: raw}
				if err := cp.plan(gctx, cp.src.repo, p.node); err != nil {
					return err
				}
			}
			plans[i] = p
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return plans, nil
}

// attachAll brings the attachments of subjects to the destination (the
// path where the image itself is already there).
func (cp *copier) attachAll(ctx context.Context, subjects []string) error {
	plans, err := cp.planAttachments(ctx, subjects)
	if err != nil {
		return err
	}
	var nodes []*node
	for _, p := range plans {
		if p.node != nil {
			nodes = append(nodes, p.node)
		}
	}
	if err := cp.sendBlobs(ctx, nodes); err != nil {
		return err
	}
	return cp.writeAttachments(ctx, plans)
}

// writeAttachments writes the attachment manifests whose blobs are sent:
// cosign ones under their tag, referrers by digest, and then, on
// registries without the referrers API, the fallback tag index of each
// subject that gained referrers.
func (cp *copier) writeAttachments(ctx context.Context, plans []*attachmentPlan) error {
	added := map[string][]Descriptor{}
	var subjects []string
	for _, p := range plans {
		if p.node != nil {
			if err := cp.writeChildren(ctx, p.node); err != nil {
				return err
			}
			ident := p.att.Digest
			if p.att.Kind != "referrer" {
				ident = p.att.Tag
			}
			acked, err := cp.putManifest(ctx, ident, p.node.desc, p.node.raw)
			if err != nil {
				return fmt.Errorf("writing attachment: %w", err)
			}
			if p.att.Kind == "referrer" && !acked {
				if _, ok := added[p.att.Subject]; !ok {
					subjects = append(subjects, p.att.Subject)
				}
				added[p.att.Subject] = append(added[p.att.Subject], p.att.Descriptor)
			}
		}
		cp.res.Attachments = append(cp.res.Attachments, AttachmentResult{Attachment: p.att, Action: p.action})
	}
	if cp.opts.DryRun {
		return nil
	}
	for _, s := range subjects {
		if err := cp.updateFallback(ctx, s, added[s]); err != nil {
			return err
		}
	}
	return nil
}

// updateFallback adds descriptors to the referrers fallback tag of subject
// at the destination, unless the registry keeps referrers itself. What the
// tag lists is read as at the source (fallbackReferrers): a tag that is
// not an index of other manifests is replaced.
func (cp *copier) updateFallback(ctx context.Context, subject string, descs []Descriptor) error {
	h := cp.dh
	if h.referrersState.Load() == referrersUnknown {
		if _, err := h.referrers(ctx, cp.dst.repo, subject); err != nil {
			return err
		}
	}
	if h.referrersState.Load() == referrersAPI {
		return nil
	}
	entries, err := h.fallbackReferrers(ctx, cp.dst.repo, subject)
	if err != nil {
		return err
	}
	changed := false
	for _, add := range descs {
		if !slices.ContainsFunc(entries, func(e Descriptor) bool { return e.Digest == add.Digest }) {
			entries = append(entries, add)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	b, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mediaOCIIndex, "manifests": entries})
	if err != nil {
		return err
	}
	tag := cosignTag(subject, "")
	if _, err := h.putManifest(ctx, cp.dst.repo, tag, mediaOCIIndex, b); err != nil {
		return fmt.Errorf("updating referrers fallback tag: %w", err)
	}
	return nil
}
