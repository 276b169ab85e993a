package registry

import (
	"context"
	"encoding/json"
	"fmt"
)

// Image is what `release inspect` and `release find` read from an image:
// the manifest's descriptor and annotations, its platforms, and the labels
// of its config.
type Image struct {
	// Descriptor is the manifest ref names (an index or an image).
	Descriptor
	// Platforms are "os/arch[/variant]" of an index's images (attestation
	// manifests excluded), or of the single image's config.
	Platforms []string `json:"platforms"`
	// Annotations are the top manifest's annotations (buildx writes
	// org.opencontainers.image.* there with --annotation).
	Annotations map[string]string `json:"annotations,omitempty"`
	// Labels are the config labels of the image (for an index, of the
	// image Config picks: linux/amd64 first).
	Labels map[string]string `json:"labels,omitempty"`
	// Created is the config's creation time, as written.
	Created string `json:"created,omitempty"`
}

// Inspect reads the manifest ref names and the config of its image: two
// GETs for an image, three for an index (plus the authentication
// handshake the first time the client meets the registry).
func (c *Client) Inspect(ctx context.Context, ref string) (*Image, error) {
	raw, d, err := c.Manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	r, _ := parseReference(ref, "latest")
	var top struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("inspecting %s: parsing manifest: %w", r, err)
	}
	img := &Image{Descriptor: d, Annotations: top.Annotations}
	if isIndex(d.MediaType) {
		m, err := parseManifest(d.MediaType, raw)
		if err != nil {
			return nil, fmt.Errorf("inspecting %s: %w", r, err)
		}
		for _, e := range m.Manifests {
			if e.Platform != nil && !attestationEntry(e) {
				img.Platforms = append(img.Platforms, platformString(e.Platform.OS, e.Platform.Architecture, e.Platform.Variant))
			}
		}
	}
	cfgRaw, err := c.configOf(ctx, r, raw, d)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
		Created      string `json:"created"`
		Config       struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
		return nil, fmt.Errorf("inspecting %s: parsing config: %w", r, err)
	}
	img.Labels, img.Created = cfg.Config.Labels, cfg.Created
	if !isIndex(d.MediaType) && cfg.OS != "" {
		img.Platforms = []string{platformString(cfg.OS, cfg.Architecture, cfg.Variant)}
	}
	return img, nil
}

func platformString(os, arch, variant string) string {
	s := os + "/" + arch
	if variant != "" {
		s += "/" + variant
	}
	return s
}
