// Command benchfind is the part of scripts/bench-find written in Go: it
// seeds a registry with the repository `release find` is measured on, and
// counts the requests a run makes through a reverse proxy. It is a
// benchmark tool, not part of the product.
//
//	benchfind seed -registry HOST -repo REPO [-sha-tags]
//	benchfind proxy -to HOST
//
// seed pushes 60 images from 12 commits (image i from commit i%12), each
// under 5 tags (300 in all): 1.0.i, b-i-0, b-i-1, b-i-2, and b-i-3 or,
// with -sha-tags, the commit's sha-<12 hex> tag on its last image (what
// `release build` leaves when a commit is built several times). It prints
// the commit to look for (12 hex) and, on a second line, the tags that come
// from it, sorted.
//
// proxy listens on a loopback port, prints "listening HOST:PORT", forwards
// every request to the registry (plain HTTP), and on SIGINT or SIGTERM
// prints the requests it forwarded, as JSON counts by "METHOD kind".
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/releasetool/release/registry/registrytest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchfind: error: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: benchfind seed|proxy [flags]")
	}
	switch args[0] {
	case "seed":
		return seed(ctx, args[1:])
	case "proxy":
		return proxy(ctx, args[1:])
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// commit is the n-th commit: 40 times one hex digit.
func commit(n int) string { return strings.Repeat(fmt.Sprintf("%x", n+1), 40) }

// target is the commit seed prints: 3 of 12, so 5 images and 25 tags.
const target = 3

func seed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	host := fs.String("registry", "", "plain HTTP registry host:port")
	repo := fs.String("repo", "bench/find", "repository")
	shaTags := fs.Bool("sha-tags", false, "put each commit's sha tag on its last image")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base := "http://" + *host + "/v2/" + *repo
	var want []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range 60 {
		rev := commit(i % 12)
		img := registrytest.NewImage(registrytest.ImageSpec{Seed: uint64(9000 + i), Layers: 1, LayerSize: 256,
			Labels: map[string]string{
				"org.opencontainers.image.revision": rev,
				"org.opencontainers.image.version":  fmt.Sprintf("1.0.%d", i),
			}})
		tags := []string{fmt.Sprintf("1.0.%d", i), fmt.Sprintf("b-%d-0", i), fmt.Sprintf("b-%d-1", i), fmt.Sprintf("b-%d-2", i)}
		if *shaTags && i >= 48 {
			tags = append(tags, "sha-"+rev[:12])
		} else {
			tags = append(tags, fmt.Sprintf("b-%d-3", i))
		}
		if i%12 == target {
			want = append(want, tags...)
		}
		g.Go(func() error {
			for _, b := range img.Blobs() {
				if err := upload(gctx, base, b); err != nil {
					return fmt.Errorf("uploading a blob: %w", err)
				}
			}
			for _, tag := range tags {
				req, err := http.NewRequestWithContext(gctx, http.MethodPut, base+"/manifests/"+tag, bytes.NewReader(img.Manifest))
				if err != nil {
					return err
				}
				req.Header.Set("Content-Type", img.MediaType)
				if err := expect(http.DefaultClient.Do(req))(http.StatusCreated); err != nil {
					return fmt.Errorf("tagging %s: %w", tag, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("seeding %s/%s: %w", *host, *repo, err)
	}
	slices.Sort(want)
	fmt.Println(commit(target)[:12])
	fmt.Println(strings.Join(want, " "))
	return nil
}

// upload sends a blob in one PUT of an upload session.
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
	sum := sha256.Sum256(b)
	q.Set("digest", "sha256:"+hex.EncodeToString(sum[:]))
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

func proxy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	to := fs.String("to", "", "registry host:port (plain HTTP)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target, err := url.Parse("http://" + *to)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	counts := map[string]int{}
	rp := httputil.NewSingleHostReverseProxy(target)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		counts[r.Method+" "+kind(r.URL.Path)]++
		mu.Unlock()
		rp.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	fmt.Printf("listening %s\n", ln.Addr())
	<-ctx.Done()
	srv.Close()
	mu.Lock()
	defer mu.Unlock()
	return json.NewEncoder(os.Stdout).Encode(counts)
}

// kind is what a registry request is about.
func kind(path string) string {
	switch {
	case path == "/v2/" || path == "/v2":
		return "ping"
	case strings.Contains(path, "/manifests/"):
		return "manifest"
	case strings.Contains(path, "/blobs/"):
		return "blob"
	case strings.HasSuffix(path, "/tags/list"):
		return "tags"
	}
	return "other"
}
