// Command benchpromote is the part of scripts/bench-promote written in Go:
// it seeds a source registry with a large image; it delays TCP traffic to
// emulate a network round trip where the kernel has no netem; it traces
// the requests of a promotion run in process (when each started and ended,
// which opened a connection). It is a benchmark tool, not part of the
// product.
//
//	benchpromote seed -registry HOST -repo REPO -tag TAG -mb 200 -layers 8
//	benchpromote delay -listen ADDR -to ADDR -rtt 10ms
//	benchpromote trace -ca CA -insecure HOST -runs 3 SRC DST
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"github.com/releasetool/release/registry/registrytest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchpromote: error: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: benchpromote seed|delay|trace [flags]")
	}
	switch args[0] {
	case "seed":
		return seed(ctx, args[1:])
	case "delay":
		return delay(ctx, args[1:])
	case "trace":
		return trace(ctx, args[1:])
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// seed pushes a random image of -layers layers totalling -mb MiB to a
// plain-HTTP registry and prints its digest.
func seed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	host := fs.String("registry", "", "plain HTTP registry host:port")
	repo := fs.String("repo", "bench/app", "repository")
	tag := fs.String("tag", "1.0.0", "tag")
	mb := fs.Int("mb", 200, "image size in MiB")
	layers := fs.Int("layers", 8, "number of layers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	img := registrytest.NewImage(registrytest.ImageSpec{
		Seed: 2024, Layers: *layers, LayerSize: (*mb << 20) / *layers,
		Labels: map[string]string{"org.opencontainers.image.revision": strings.Repeat("ab", 20), "org.opencontainers.image.version": *tag},
	})
	base := "http://" + *host + "/v2/" + *repo
	for _, b := range img.Blobs() {
		if err := upload(ctx, base, b); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/manifests/"+*tag, bytes.NewReader(img.Manifest))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", img.MediaType)
	if err := expect(http.DefaultClient.Do(req))(http.StatusCreated); err != nil {
		return fmt.Errorf("pushing the manifest: %w", err)
	}
	fmt.Println(img.Digest)
	return nil
}

func upload(ctx context.Context, base string, b []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/blobs/uploads/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("starting an upload: HTTP %d", resp.StatusCode)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return err
	}
	q := loc.Query()
	q.Set("digest", digest(b))
	loc.RawQuery = q.Encode()
	put, err := http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), bytes.NewReader(b))
	if err != nil {
		return err
	}
	return expect(http.DefaultClient.Do(put))(http.StatusCreated)
}

func expect(resp *http.Response, err error) func(int) error {
	return func(status int) error {
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != status {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
		}
		return nil
	}
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
