package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

func TestTransferMeter(t *testing.T) {
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	now := start
	var lines []string
	m := &transferMeter{line: func(s string) { lines = append(lines, s) }, now: func() time.Time { return now }}
	steps := []struct {
		after time.Duration
		u     registry.Update
	}{
		{0, registry.Update{Complete: 0, Total: 2_000_000}},
		{10 * time.Millisecond, registry.Update{Complete: 100_000, Total: 2_000_000}},    // too soon
		{150 * time.Millisecond, registry.Update{Complete: 500_000, Total: 2_000_000}},   // drawn
		{160 * time.Millisecond, registry.Update{Complete: 2_000_000, Total: 2_000_000}}, // the end: always drawn
	}
	for _, s := range steps {
		now = start.Add(s.after)
		m.Update(s.u)
	}
	m.Done()
	m.Done() // once only
	want := []string{
		"copying 0 B of 2.0 MB (0%)",
		"copying 500.0 kB of 2.0 MB (25%)",
		"copying 2.0 MB of 2.0 MB (100%)",
		"",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {1_500_000, "1.5 MB"}, {209_715_200, "209.7 MB"}, {3_000_000_000, "3.00 GB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := formatBytes(tt.n); got != tt.want {
				t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

// runOnTerminal runs the program as main does, with stderr a terminal or
// not and a clock that stands still (so the transfer meter draws only the
// first and the final update).
func runOnTerminal(t *testing.T, terminal bool, args ...string) cliRun {
	t.Helper()
	return runCLI(t, t.Context(), cliEnv{terminal: terminal, now: func() time.Time { return time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC) }}, args...)
}

// frame is one drawing of the progress line.
func frame(s string) string { return "\r\033[Krelease: " + s }

// clearLine erases the progress line.
const clearLine = "\r\033[K"

// TestFindProgressOnATerminal: on a terminal, find redraws one line per
// tag resolved and per image read, in order, and erases it before its
// summary; never with --quiet or --json, nor into a pipe.
func TestFindProgressOnATerminal(t *testing.T) {
	reg := registrytest.New(t)
	for i, tags := range [][]string{{"1.0.0", "latest"}, {"1.1.0"}} {
		img := registrytest.NewImage(registrytest.ImageSpec{Seed: uint64(i + 1), Labels: map[string]string{
			"org.opencontainers.image.revision": revOne, "org.opencontainers.image.version": tags[0],
		}})
		for _, tag := range tags {
			reg.PushImage(t, "app", tag, img)
		}
	}
	repo := reg.Host + "/app"
	summary := "release: 3 of 3 tags come from " + revOne + " (2 images, 2 read)\n"
	tests := []struct {
		name     string
		terminal bool
		args     []string
		stderr   string
	}{
		{name: "terminal", terminal: true, stderr: frame("resolving tags 1/3") + frame("resolving tags 2/3") + frame("resolving tags 3/3") +
			frame("reading images 1/2") + frame("reading images 2/2") + clearLine + summary},
		{name: "terminal, --quiet", terminal: true, args: []string{"--quiet"}, stderr: ""},
		{name: "terminal, --json", terminal: true, args: []string{"--json"}, stderr: summary},
		{name: "pipe", stderr: summary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runOnTerminal(t, tt.terminal, append([]string{"find", repo, "--commit", revOne[:7]}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstderr:\n%q", r.code, r.stderr)
			}
			if diff := cmp.Diff(tt.stderr, r.stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if strings.Contains(r.stdout, "\033") || !strings.Contains(r.stdout, "1.1.0") {
				t.Errorf("stdout %q: want the tags and no progress", r.stdout)
			}
		})
	}
}

// TestPromoteProgressOnATerminal: a promotion that copies blobs draws the
// transfer on a terminal, ends at 100% and erases the line; with --quiet,
// --json or --dry-run, or into a pipe, nothing is drawn.
func TestPromoteProgressOnATerminal(t *testing.T) {
	img := singleImage(1, "1.0.0", revOne)
	var total int64
	for _, b := range img.Blobs() {
		total += int64(len(b))
	}
	tests := []struct {
		name     string
		terminal bool
		args     []string
		drawn    bool
	}{
		{name: "terminal", terminal: true, drawn: true},
		{name: "terminal, --quiet", terminal: true, args: []string{"--quiet"}},
		{name: "terminal, --json", terminal: true, args: []string{"--json"}},
		{name: "terminal, --dry-run", terminal: true, args: []string{"--dry-run"}},
		{name: "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Two registries: the blobs are transferred, not mounted.
			staging, prod := registrytest.New(t), registrytest.New(t)
			staging.PushImage(t, "app", "1.0.0", img)
			args := append([]string{"promote", staging.Host + "/app:1.0.0", prod.Host + "/app"}, tt.args...)
			r := runOnTerminal(t, tt.terminal, args...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstderr:\n%q", r.code, r.stderr)
			}
			if !tt.drawn {
				if strings.Contains(r.stderr, "\033") || strings.Contains(r.stderr, "\r") {
					t.Errorf("stderr %q: want no progress line", r.stderr)
				}
				return
			}
			final := frame(fmt.Sprintf("copying %s of %s (100%%)", formatBytes(total), formatBytes(total))) + clearLine
			drawn, rest, ok := strings.Cut(r.stderr, final)
			if !ok {
				t.Fatalf("stderr %q: want the line to end at %q and be erased", r.stderr, final)
			}
			if !regexp.MustCompile(`^(\r\033\[Krelease: copying [^\r\n\033]+ \(\d+%\))*$`).MatchString(drawn) {
				t.Errorf("before the final frame: %q, want only progress frames", drawn)
			}
			if strings.Contains(rest, "\033") || strings.Contains(rest, "\r") {
				t.Errorf("after the line was erased: %q", rest)
			}
			if strings.Contains(r.stdout, "\033") {
				t.Errorf("stdout %q: progress on stdout", r.stdout)
			}
		})
	}
}
